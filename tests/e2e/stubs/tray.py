#!/usr/bin/python3
"""Looks at and clicks tray items over D-Bus, as a desktop panel does.

The items are the ones registered with the watcher stub (tests/e2e/stubs/sni_watcher.py, or
any org.kde.StatusNotifierWatcher on the session bus): its RegisteredStatusNotifierItems
property lists them as `<bus name><object path>`.

    tray.py items            each item's properties (Id, Title, ToolTip, IconName, Status,
                             Menu, ...), as a JSON array
    tray.py menu [--text]    the item's dbusmenu layout (com.canonical.dbusmenu.GetLayout),
                             recursively: {"id", "label", "enabled", "visible", "type",
                             "children"}; labels keep their mnemonic underscores
    tray.py click LABEL      clicks the menu item with that label, as a panel does:
                             AboutToShow on each menu on the way, then
                             Event(id, "clicked", <int32 0>, 0)

LABEL is compared without mnemonics (`_New` matches `New`; `__` is a literal `_`), searching
submenus too. `A > B` names an item B inside the submenu A. `--prefix` matches the start of the
label. A label that matches nothing, several items, or a disabled item is an error (exit 1),
and the message lists the labels there are.

Every command waits up to --timeout seconds (default 10) for an item (and for `click`, for
the label) to appear, so a test can call it right after starting the app.

Common options: --item ITEM picks an item (default: the one registered last).

Needs Debian's python3 with python3-dbus-next (`/usr/bin/python3`).
"""

import argparse
import asyncio
import json
import sys
import time

from dbus_next import Message, MessageType, Variant
from dbus_next.aio import MessageBus

WATCHER = ("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher",
           "org.kde.StatusNotifierWatcher")
ITEM_IFACES = ("org.kde.StatusNotifierItem", "org.freedesktop.StatusNotifierItem")
DBUSMENU = "com.canonical.dbusmenu"
POLL = 0.05


class NotFound(Exception):
    """What a test waits for is not there (yet)."""


async def call(bus, dest, path, iface, member, signature="", body=()):
    reply = await bus.call(Message(destination=dest, path=path, interface=iface, member=member,
                                   signature=signature, body=list(body)))
    if reply.message_type == MessageType.ERROR:
        raise NotFound(f"{dest} {path} {iface}.{member}: {reply.error_name}: "
                       f"{reply.body[0] if reply.body else ''}")
    return reply.body


def plain(value):
    if isinstance(value, Variant):
        return plain(value.value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def registered_items(bus):
    name, path, iface = WATCHER
    (items,) = await call(bus, name, path, "org.freedesktop.DBus.Properties", "Get", "ss",
                          [iface, "RegisteredStatusNotifierItems"])
    return list(items.value)


async def pick_item(bus, wanted):
    items = await registered_items(bus)
    if wanted:
        if wanted not in items:
            raise NotFound(f"no item {wanted}; registered: {items}")
        return wanted
    if not items:
        raise NotFound("no tray item is registered with the StatusNotifierWatcher")
    return items[-1]


def split_item(item):
    slash = item.index("/")
    return item[:slash], item[slash:]


async def item_properties(bus, item):
    dest, path = split_item(item)
    last = None
    for iface in ITEM_IFACES:
        try:
            (props,) = await call(bus, dest, path, "org.freedesktop.DBus.Properties", "GetAll",
                                  "s", [iface])
        except NotFound as e:
            last = e
            continue
        if props:
            out = {"item": item, "interface": iface}
            out.update({k: plain(v) for k, v in sorted(props.items())})
            return out
    raise NotFound(f"{item} answers no StatusNotifierItem interface ({last})")


def node(raw):
    """A GetLayout node (ia{sv}av) as a dict, with dbusmenu's defaults filled in."""
    id, props, children = raw
    props = {k: plain(v) for k, v in props.items()}
    out = {
        "id": id,
        "label": props.pop("label", ""),
        "enabled": props.pop("enabled", True),
        "visible": props.pop("visible", True),
        "type": props.pop("type", "standard"),
    }
    out.update(props)
    out["children"] = [node(c.value if isinstance(c, Variant) else c) for c in children]
    return out


async def layout(bus, item):
    props = await item_properties(bus, item)
    menu_path = props.get("Menu")
    if not menu_path or menu_path == "/":
        raise NotFound(f"{item} has no menu")
    dest, _ = split_item(item)
    revision, root = await call(bus, dest, menu_path, DBUSMENU, "GetLayout", "iias", [0, -1, []])
    return dest, menu_path, node(root)


def bare(label):
    """A label without its mnemonic marks: `_New` -> `New`, `a__b` -> `a_b`."""
    return label.replace("__", "\0").replace("_", "").replace("\0", "_")


def walk(tree, labels=(), parents=()):
    """Every visible item under `tree`: its labels from the top, the item, its menus."""
    for child in tree["children"]:
        if child["type"] == "separator" or not child["visible"]:
            continue
        path = labels + (bare(child["label"]),)
        yield path, child, parents
        yield from walk(child, path, parents + (child,))


def find(tree, label, prefix):
    """The items whose labels end with `label` (`A > B` for B inside A)."""
    wanted = [part.strip() for part in label.split(" > ")]

    def matches(path):
        if len(path) < len(wanted):
            return False
        tail = path[len(path) - len(wanted):]
        last = tail[-1].startswith(wanted[-1]) if prefix else tail[-1] == wanted[-1]
        return last and list(tail[:-1]) == wanted[:-1]

    return [(path, item, list(parents)) for path, item, parents in walk(tree) if matches(path)]


def text_tree(tree, depth=0):
    lines = []
    for child in tree["children"]:
        if child["type"] == "separator":
            lines.append("  " * depth + "----")
            continue
        flags = "" if child["enabled"] else "  (disabled)"
        if not child["visible"]:
            flags += "  (hidden)"
        lines.append(f"{'  ' * depth}[{child['id']}] {child['label']}{flags}")
        lines.extend(text_tree(child, depth + 1))
    return lines


async def with_deadline(timeout, attempt):
    """Runs `attempt` until it stops raising NotFound or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await attempt()
        except NotFound:
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(POLL)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--item", help="the item (<bus name><path>); default: the newest")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for the item and the label (default 10)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("items", help="list the registered items and their properties")
    menu = sub.add_parser("menu", help="dump the item's menu")
    menu.add_argument("--text", action="store_true", help="an indented outline, not JSON")
    click = sub.add_parser("click", help="click a menu item by its label")
    click.add_argument("label")
    click.add_argument("--prefix", action="store_true", help="match the start of the label")
    args = parser.parse_args()

    bus = await MessageBus().connect()
    try:
        if args.command == "items":
            async def items():
                names = await registered_items(bus)
                if not names:
                    raise NotFound("no tray item is registered with the StatusNotifierWatcher")
                if args.item:
                    names = [n for n in names if n == args.item]
                return [await item_properties(bus, n) for n in names]
            print(json.dumps(await with_deadline(args.timeout, items), indent=2,
                             ensure_ascii=False))

        elif args.command == "menu":
            async def dump():
                item = await pick_item(bus, args.item)
                _, _, tree = await layout(bus, item)
                if not tree["children"]:
                    raise NotFound(f"the menu of {item} is empty")
                return tree
            tree = await with_deadline(args.timeout, dump)
            if args.text:
                print("\n".join(text_tree(tree)))
            else:
                print(json.dumps(tree, indent=2, ensure_ascii=False))

        elif args.command == "click":
            async def target():
                item = await pick_item(bus, args.item)
                dest, menu_path, tree = await layout(bus, item)
                found = find(tree, args.label, args.prefix)
                if not found:
                    raise NotFound(f"no menu item {args.label!r} in the menu of {item}; "
                                   f"it has:\n" + "\n".join(text_tree(tree)))
                return dest, menu_path, tree, found

            try:
                dest, menu_path, tree, found = await with_deadline(args.timeout, target)
            except NotFound as e:
                sys.exit(f"tray.py click: {e}")
            if len(found) > 1:
                options = "\n".join(" > ".join(labels) for labels, _, _ in found)
                sys.exit(f"tray.py click: {args.label!r} matches {len(found)} items; "
                         f"name one as 'Menu > Item':\n{options}")
            labels, item, parents = found[0]
            if not item["enabled"]:
                sys.exit(f"tray.py click: {' > '.join(labels)!r} is disabled")
            # A panel opens each menu on the way before the user can click in it.
            for menu_id in [0] + [p["id"] for p in parents]:
                await call(bus, dest, menu_path, DBUSMENU, "AboutToShow", "i", [menu_id])
            await call(bus, dest, menu_path, DBUSMENU, "Event", "isvu",
                       [item["id"], "clicked", Variant("i", 0), 0])
            print(json.dumps({"clicked": item["id"], "label": item["label"],
                              "path": list(labels)}, ensure_ascii=False))
    except NotFound as e:
        sys.exit(f"tray.py {args.command}: {e}")
    finally:
        bus.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
