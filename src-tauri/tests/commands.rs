//! Every command exists in four places that must agree: the handler list in `src/lib.rs`, the
//! app manifest in `build.rs`, the main window's capability, and the UI's `ipc.ts`. A command
//! missing from the capability is refused at run time with only a console error, which the
//! UI's tests (mocked IPC) cannot see; this test can.

use std::collections::BTreeSet;
use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found"))
        + start.len();
    let to = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("{end:?} not found after {start:?}"))
        + from;
    &text[from..to]
}

/// Every `"…"` string in `text`.
fn quoted(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn handlers_manifest_capability_and_ui_agree() {
    let lib = read("src/lib.rs");
    let handlers: BTreeSet<String> = between(&lib, "generate_handler![", "]")
        .split(',')
        .filter_map(|h| {
            // `module::name`: `commands::…`, `worktrees::…`, `desktop::…`, `lifecycle::…`.
            h.trim().rsplit_once("::").map(|(_, name)| name)
        })
        .map(str::to_owned)
        .collect();
    assert!(handlers.len() > 10, "{handlers:?}");

    let manifest = quoted(between(&read("build.rs"), "let commands = &[", "];"));
    assert_eq!(
        manifest, handlers,
        "build.rs lists other commands than lib.rs"
    );

    let capability: serde_json::Value =
        serde_json::from_str(&read("capabilities/main.json")).expect("capability JSON");
    let allowed: BTreeSet<String> = capability["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(
        allowed, handlers,
        "capabilities/main.json allows other commands"
    );

    let ipc = read("../ui/src/lib/ipc.ts");
    let called: BTreeSet<String> = ipc
        .match_indices("call<")
        .filter_map(|(at, _)| {
            let rest = &ipc[at..];
            let open = rest.find("('")? + 2;
            let close = rest[open..].find('\'')? + open;
            Some(rest[open..close].to_owned())
        })
        .collect();
    let unknown: Vec<&String> = called.difference(&handlers).collect();
    assert!(
        unknown.is_empty(),
        "ipc.ts calls unknown commands {unknown:?}"
    );
    let unused: Vec<&String> = handlers.difference(&called).collect();
    assert!(unused.is_empty(), "commands the UI never calls: {unused:?}");
}
