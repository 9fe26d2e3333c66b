#!/usr/bin/python3
"""A stand-in notification server (org.freedesktop.Notifications) for end-to-end tests.

Run it on a private session bus (tests/e2e/run.sh does). It owns the well-known name, answers
the way a desktop's server would, and records every Notify call as one JSON line:

    {"id", "sender", "app_name", "replaces_id", "app_icon", "summary", "body", "actions",
     "hints", "expire_timeout", "answered"}

A CloseNotification call from the app is recorded as {"closed": id, "reason": 3}.

`actions` is the flat list the client sent (key, label, key, label, ...); `hints` are the
values without their D-Bus variant wrappers (byte arrays become "<N bytes>", image data a
short description). `answered` is false in --hang mode.

A test acts as the user through the private interface dev.tasktray.TestNotifications on the
same object path:

    Invoke(u id, s action)   emits ActionInvoked(id, action), then NotificationClosed(id, 2)
    Close(u id, u reason)    emits NotificationClosed(id, reason) (1 expired, 2 dismissed)
    Records() -> s           every recorded call, as one JSON array
    SetHang(b hang)          from now on, answer Notify (false) or never answer it (true)

For example:

    dbus-send --session --print-reply --dest=org.freedesktop.Notifications \
        /org/freedesktop/Notifications dev.tasktray.TestNotifications.Invoke uint32:1 string:show

Options:
    --record PATH   append the JSON lines here (flushed per line; default: stdout)
    --ready PATH    created once the bus name is owned (a test waits for it)
    --hang          Notify is recorded but never answered, like a server that is stuck

Needs Debian's python3 with python3-dbus-next (`/usr/bin/python3`).
"""

import argparse
import asyncio
import json
import os
import signal
import sys

from dbus_next import Message, MessageType, Variant
from dbus_next.aio import MessageBus
from dbus_next.constants import NameFlag, RequestNameReply
from dbus_next.service import ServiceInterface, method, signal as dbus_signal

BUS_NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
TEST_IFACE = "dev.tasktray.TestNotifications"

# NotificationClosed reasons (Desktop Notifications Specification 1.2).
EXPIRED, DISMISSED, CLOSED_BY_CALL = 1, 2, 3


def plain(value):
    """A D-Bus value as JSON: variants unwrapped, bytes summarized."""
    if isinstance(value, Variant):
        if value.signature == "(iiibiiay)":
            w, h, stride, alpha, bits, channels, data = value.value
            return {"image": f"{w}x{h}", "channels": channels, "bytes": len(data)}
        return plain(value.value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class Notifications(ServiceInterface):
    """The standard interface. Notify itself is served by `Server.on_message` (it needs the
    caller's name and, in --hang mode, must not answer); it is declared here so that clients
    which introspect the server see it."""

    def __init__(self, server):
        super().__init__(BUS_NAME)
        self.server = server

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s",
               body: "s", actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":
        raise AssertionError("Notify is served by Server.on_message")

    @method()
    def CloseNotification(self, id: "u"):
        self.server.record({"closed": id, "reason": CLOSED_BY_CALL})
        self.server.close(id, CLOSED_BY_CALL)

    @method()
    def GetCapabilities(self) -> "as":
        # As GNOME, KDE, dunst and mako do: bodies are read as markup.
        return ["actions", "body", "body-markup"]

    @method()
    def GetServerInformation(self) -> "ssss":
        return ["tasktray-notifyd", "tasktray", "1.0", "1.2"]

    @dbus_signal()
    def NotificationClosed(self, id, reason) -> "uu":
        return [id, reason]

    @dbus_signal()
    def ActionInvoked(self, id, action_key) -> "us":
        return [id, action_key]


class TestNotifications(ServiceInterface):
    """What a test does in place of the user."""

    def __init__(self, server):
        super().__init__(TEST_IFACE)
        self.server = server

    @method()
    def Invoke(self, id: "u", action: "s"):
        self.server.invoke(id, action)

    @method()
    def Close(self, id: "u", reason: "u"):
        self.server.close(id, reason)

    @method()
    def Records(self) -> "s":
        return json.dumps(self.server.records)

    @method()
    def SetHang(self, hang: "b"):
        self.server.hang = hang


class Server:
    def __init__(self, record, hang):
        self.record_file = record
        self.hang = hang
        self.next_id = 1
        self.open = set()
        self.records = []
        self.iface = Notifications(self)
        self.test_iface = TestNotifications(self)

    def on_message(self, msg):
        """Serves Notify; everything else falls through to the exported interfaces."""
        if not (msg.message_type == MessageType.METHOD_CALL and msg.path == PATH
                and msg.interface in (BUS_NAME, None) and msg.member == "Notify"):
            return None
        if msg.signature != "susssasa{sv}i":
            return Message.new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs",
                                     f"Notify takes susssasa{{sv}}i, not {msg.signature}")
        app_name, replaces_id, app_icon, summary, body, actions, hints, expire = msg.body
        if replaces_id and replaces_id in self.open:
            id = replaces_id
        else:
            id = self.next_id
            self.next_id += 1
        self.open.add(id)
        entry = {
            "id": id,
            "sender": msg.sender,
            "app_name": app_name,
            "replaces_id": replaces_id,
            "app_icon": app_icon,
            "summary": summary,
            "body": body,
            "actions": list(actions),
            "hints": plain(hints),
            "expire_timeout": expire,
            "answered": not self.hang,
        }
        self.record(entry)
        if self.hang:
            return True  # handled, and never answered
        return Message.new_method_return(msg, "u", [id])

    def record(self, entry):
        self.records.append(entry)
        self.record_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.record_file.flush()

    def close(self, id, reason):
        if id in self.open:
            self.open.discard(id)
            self.iface.NotificationClosed(id, reason)

    def invoke(self, id, action):
        self.iface.ActionInvoked(id, action)
        self.close(id, DISMISSED)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", help="append one JSON line per Notify call here")
    parser.add_argument("--ready", help="create this file once the name is owned")
    parser.add_argument("--hang", action="store_true", help="never answer Notify")
    args = parser.parse_args()

    record = open(args.record, "a", encoding="utf-8") if args.record else sys.stdout
    server = Server(record, args.hang)
    bus = await MessageBus().connect()
    bus.add_message_handler(server.on_message)
    bus.export(PATH, server.iface)
    bus.export(PATH, server.test_iface)
    reply = await bus.request_name(BUS_NAME, NameFlag.DO_NOT_QUEUE)
    if reply != RequestNameReply.PRIMARY_OWNER:
        sys.exit(f"notifyd: cannot own {BUS_NAME} ({reply.name}); is another server running?")
    if args.ready:
        with open(args.ready, "w", encoding="utf-8") as ready:
            ready.write(f"{os.getpid()}\n")

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    disconnected = asyncio.ensure_future(bus.wait_for_disconnect())
    await asyncio.wait([stop, disconnected], return_when=asyncio.FIRST_COMPLETED)


if __name__ == "__main__":
    asyncio.run(main())
