#!/usr/bin/env python3
"""What a window manager does for the user, on the command line (Xvfb has no window manager).

  wm.py close WINDOW_ID    the window's close button: a WM_DELETE_WINDOW message, as a window
                           manager sends it (the app sees a close request, not a kill)
  wm.py screenshot OUT.png the whole screen (the root window), as a person would see it

Talks to $DISPLAY through libX11 (ctypes) and GDK (gi), both there wherever WebKitGTK is.
"""

import ctypes
import ctypes.util
import sys

CLIENT_MESSAGE = 33
NO_EVENT_MASK = 0
CURRENT_TIME = 0


class ClientMessageData(ctypes.Union):
    _fields_ = [("b", ctypes.c_char * 20), ("s", ctypes.c_short * 10), ("l", ctypes.c_long * 5)]


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ClientMessageData),
    ]


class XEvent(ctypes.Union):
    # XEvent is a union padded to 24 longs.
    _fields_ = [("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]


def close(window_id: int) -> None:
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.POINTER(XEvent),
    ]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

    display = x11.XOpenDisplay(None)
    if not display:
        sys.exit("wm.py: cannot open the display (is DISPLAY set?)")
    event = XEvent()
    event.xclient.type = CLIENT_MESSAGE
    event.xclient.window = window_id
    event.xclient.message_type = x11.XInternAtom(display, b"WM_PROTOCOLS", 0)
    event.xclient.format = 32
    event.xclient.data.l[0] = x11.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
    event.xclient.data.l[1] = CURRENT_TIME
    if not x11.XSendEvent(display, window_id, 0, NO_EVENT_MASK, ctypes.byref(event)):
        sys.exit("wm.py: XSendEvent failed")
    x11.XSync(display, 0)
    x11.XCloseDisplay(display)


def screenshot(out: str) -> None:
    import gi

    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk

    root = Gdk.get_default_root_window()
    if root is None:
        sys.exit("wm.py: no display (is DISPLAY set?)")
    width, height = root.get_width(), root.get_height()
    pixbuf = Gdk.pixbuf_get_from_window(root, 0, 0, width, height)
    pixbuf.savev(out, "png", [], [])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "close":
        close(int(sys.argv[2], 0))
    elif len(sys.argv) == 3 and sys.argv[1] == "screenshot":
        screenshot(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
