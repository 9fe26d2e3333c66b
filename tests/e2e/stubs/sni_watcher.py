#!/usr/bin/python3
"""A stand-in StatusNotifierWatcher (org.kde.StatusNotifierWatcher) for end-to-end tests.

A desktop panel owns this name; tray libraries (libayatana-appindicator here) register their
StatusNotifierItem with it, and fall back to an XEmbed icon nobody can see when it is missing.
This stub owns the name on the test's private session bus, says a host is registered, accepts
items and hosts, forgets an item when its owner leaves the bus, and records each change as one
JSON line:

    {"event": "item-registered", "item": ":1.7/org/ayatana/NotificationItem/tasktray",
     "sender": ":1.7", "service": "/org/ayatana/NotificationItem/tasktray"}
    {"event": "item-unregistered", "item": "...", "sender": ":1.7"}
    {"event": "host-registered", "sender": ":1.9", "service": "..."}

`item` is `<bus name><object path>`, the form KDE's watcher uses: a client may register either
an object path (the item lives on the caller's connection) or a bus name (at /StatusNotifierItem).
The registered items are also the property RegisteredStatusNotifierItems; tests/e2e/stubs/tray.py
reads it to find the item.

Options:
    --record PATH   append the JSON lines here (flushed per line; default: stdout)
    --ready PATH    created once the bus name is owned

Needs Debian's python3 with python3-dbus-next (`/usr/bin/python3`).
"""

import argparse
import asyncio
import json
import os
import signal
import sys

from dbus_next import Message, MessageType
from dbus_next.aio import MessageBus
from dbus_next.constants import NameFlag, PropertyAccess, RequestNameReply
from dbus_next.service import ServiceInterface, dbus_property, method, signal as dbus_signal

BUS_NAME = "org.kde.StatusNotifierWatcher"
PATH = "/StatusNotifierWatcher"
IFACE = "org.kde.StatusNotifierWatcher"
DEFAULT_ITEM_PATH = "/StatusNotifierItem"


class Watcher(ServiceInterface):
    """The watcher's interface. The two Register methods are served by `Registry.on_message`,
    which sees the caller's unique name; they are declared here for introspection."""

    def __init__(self, registry):
        super().__init__(IFACE)
        self.registry = registry

    @method()
    def RegisterStatusNotifierItem(self, service: "s"):
        raise AssertionError("served by Registry.on_message")

    @method()
    def RegisterStatusNotifierHost(self, service: "s"):
        raise AssertionError("served by Registry.on_message")

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> "as":
        return list(self.registry.items)

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> "b":
        return True

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> "i":
        return 0

    @dbus_signal()
    def StatusNotifierItemRegistered(self, item) -> "s":
        return item

    @dbus_signal()
    def StatusNotifierItemUnregistered(self, item) -> "s":
        return item

    @dbus_signal()
    def StatusNotifierHostRegistered(self):
        return None

    @dbus_signal()
    def StatusNotifierHostUnregistered(self):
        return None


class Registry:
    def __init__(self, record):
        self.record_file = record
        self.items = {}  # item -> owner's unique name, in registration order
        self.hosts = {}  # sender -> service
        self.iface = Watcher(self)

    def record(self, **entry):
        self.record_file.write(json.dumps(entry) + "\n")
        self.record_file.flush()

    def on_message(self, msg):
        if msg.message_type == MessageType.SIGNAL:
            if msg.member == "NameOwnerChanged" and msg.sender == "org.freedesktop.DBus":
                name, old, new = msg.body
                if old and not new:
                    self.owner_gone(name)
            return None
        if not (msg.message_type == MessageType.METHOD_CALL and msg.path == PATH
                and msg.interface in (IFACE, None) and msg.signature == "s"):
            return None
        (service,) = msg.body
        if msg.member == "RegisterStatusNotifierItem":
            if service.startswith("/"):
                owner, item = msg.sender, msg.sender + service
            else:
                owner, item = service, service + DEFAULT_ITEM_PATH
            if item not in self.items:
                self.items[item] = owner
                self.record(event="item-registered", item=item, sender=msg.sender, service=service)
                self.iface.StatusNotifierItemRegistered(item)
            return Message.new_method_return(msg)
        if msg.member == "RegisterStatusNotifierHost":
            self.hosts[msg.sender] = service
            self.record(event="host-registered", sender=msg.sender, service=service)
            self.iface.StatusNotifierHostRegistered()
            return Message.new_method_return(msg)
        return None

    def owner_gone(self, name):
        for item, owner in list(self.items.items()):
            if owner == name:
                del self.items[item]
                self.record(event="item-unregistered", item=item, sender=name)
                self.iface.StatusNotifierItemUnregistered(item)
        if self.hosts.pop(name, None) is not None:
            self.record(event="host-unregistered", sender=name)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", help="append one JSON line per registration here")
    parser.add_argument("--ready", help="create this file once the name is owned")
    args = parser.parse_args()

    record = open(args.record, "a", encoding="utf-8") if args.record else sys.stdout
    registry = Registry(record)
    bus = await MessageBus().connect()
    bus.add_message_handler(registry.on_message)
    bus.export(PATH, registry.iface)
    # Owners that leave the bus take their items with them.
    await bus.call(Message(
        destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
        interface="org.freedesktop.DBus", member="AddMatch", signature="s",
        body=["type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'"]))
    reply = await bus.request_name(BUS_NAME, NameFlag.DO_NOT_QUEUE)
    if reply != RequestNameReply.PRIMARY_OWNER:
        sys.exit(f"sni_watcher: cannot own {BUS_NAME} ({reply.name}); is a panel running?")
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
