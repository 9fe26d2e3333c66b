//! The app's tray item, seen and clicked the way a panel does it: through the watcher stub and
//! dbusmenu (`stubs/tray.py`).

use std::time::Duration;

use serde_json::Value;

use crate::{env, records};

/// How long `tray.py` waits for an item or a label to appear.
pub const TRAY_TIMEOUT: Duration = Duration::from_secs(10);
/// An outer bound on one `tray.py` run.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// One menu entry (separators included), with dbusmenu's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    pub id: i64,
    pub label: String,
    pub enabled: bool,
    pub visible: bool,
    /// `standard` or `separator`.
    pub kind: String,
    pub children: Vec<MenuItem>,
}

impl MenuItem {
    fn from_json(value: &Value) -> MenuItem {
        MenuItem {
            id: value["id"].as_i64().unwrap_or(-1),
            label: value["label"].as_str().unwrap_or_default().to_owned(),
            enabled: value["enabled"].as_bool().unwrap_or(true),
            visible: value["visible"].as_bool().unwrap_or(true),
            kind: value["type"].as_str().unwrap_or("standard").to_owned(),
            children: value["children"]
                .as_array()
                .map(|c| c.iter().map(MenuItem::from_json).collect())
                .unwrap_or_default(),
        }
    }

    pub fn is_separator(&self) -> bool {
        self.kind == "separator"
    }

    /// The labels of the visible, non-separator entries directly in this menu.
    pub fn labels(&self) -> Vec<String> {
        self.children
            .iter()
            .filter(|c| !c.is_separator() && c.visible)
            .map(|c| c.label.clone())
            .collect()
    }

    /// The entry at `path` (labels from this menu down), e.g. `["Running (1)", "#1 x", "Cancel"]`.
    pub fn find(&self, path: &[&str]) -> Option<&MenuItem> {
        let (first, rest) = path.split_first()?;
        let child = self.children.iter().find(|c| c.label == *first)?;
        if rest.is_empty() {
            Some(child)
        } else {
            child.find(rest)
        }
    }

    /// The first entry directly in this menu whose label starts with `prefix`.
    pub fn starting_with(&self, prefix: &str) -> Option<&MenuItem> {
        self.children.iter().find(|c| c.label.starts_with(prefix))
    }

    /// An indented outline, for failure messages.
    pub fn outline(&self) -> String {
        fn walk(item: &MenuItem, depth: usize, out: &mut String) {
            for c in &item.children {
                let line = if c.is_separator() {
                    "----".to_owned()
                } else {
                    format!("{}{}", c.label, if c.enabled { "" } else { "  (disabled)" })
                };
                out.push_str(&format!("{}{line}\n", "  ".repeat(depth)));
                walk(c, depth + 1, out);
            }
        }
        let mut out = String::new();
        walk(self, 0, &mut out);
        out
    }
}

/// Runs `tray.py` with `args`; its stdout, or its error message.
pub async fn tray_py(args: &[&str]) -> Result<String, String> {
    let mut command = tokio::process::Command::new(env::python());
    command
        .arg(env::stubs_dir().join("tray.py"))
        .args(args)
        .kill_on_drop(true);
    let out = tokio::time::timeout(RUN_TIMEOUT, command.output())
        .await
        .map_err(|_| format!("tray.py {args:?} did not finish within {RUN_TIMEOUT:?}"))?
        .map_err(|e| format!("cannot run tray.py: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "tray.py {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// One app's tray item.
#[derive(Debug, Clone)]
pub struct Tray {
    /// `<bus name><object path>`, as the watcher lists it.
    pub item: String,
}

impl Tray {
    /// The item registered (after byte `sni_offset` of the watcher's record) by the app whose
    /// registration comes first; waits up to `timeout`.
    pub async fn registered_since(sni_offset: u64, timeout: Duration) -> Tray {
        let record = env::sni_record();
        let item = crate::wait::until("the tray item to register", timeout, || {
            let events = records::read_since(&record, sni_offset);
            events
                .iter()
                .find(|e| e["event"] == "item-registered")
                .and_then(|e| e["item"].as_str().map(str::to_owned))
                .ok_or_else(|| format!("watcher records: {events:?}"))
        })
        .await;
        Tray { item }
    }

    fn timeout_arg() -> String {
        TRAY_TIMEOUT.as_secs_f64().to_string()
    }

    /// The item's StatusNotifierItem properties (Id, Title, IconName, Status, Menu, ...).
    pub async fn properties(&self) -> Result<Value, String> {
        let out = tray_py(&[
            "--item",
            &self.item,
            "--timeout",
            &Self::timeout_arg(),
            "items",
        ])
        .await?;
        let items: Value = serde_json::from_str(&out).map_err(|e| format!("{e}: {out}"))?;
        items
            .get(0)
            .cloned()
            .ok_or_else(|| format!("{} is not registered", self.item))
    }

    /// The whole menu, read over dbusmenu.
    pub async fn menu(&self) -> Result<MenuItem, String> {
        let out = tray_py(&[
            "--item",
            &self.item,
            "--timeout",
            &Self::timeout_arg(),
            "menu",
        ])
        .await?;
        let tree: Value = serde_json::from_str(&out).map_err(|e| format!("{e}: {out}"))?;
        Ok(MenuItem::from_json(&tree))
    }

    /// Clicks the entry labelled `label` (`"Menu > Item"` for one inside a submenu), waiting
    /// up to [`TRAY_TIMEOUT`] for it to appear.
    pub async fn click(&self, label: &str) -> Result<(), String> {
        tray_py(&[
            "--item",
            &self.item,
            "--timeout",
            &Self::timeout_arg(),
            "click",
            label,
        ])
        .await
        .map(drop)
    }

    /// Waits until the menu satisfies `check` (which says what it saw when it does not).
    pub async fn wait_menu(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&MenuItem) -> Result<(), String>,
    ) -> MenuItem {
        crate::wait::until_async(what, timeout, || async {
            let menu = self.menu().await?;
            check(&menu)
                .map(|()| menu.clone())
                .map_err(|e| format!("{e}\n{}", menu.outline()))
        })
        .await
    }

    /// Whether the watcher recorded this item going away (its owner left the bus).
    pub fn unregistered_since(&self, sni_offset: u64) -> bool {
        records::read_since(&env::sni_record(), sni_offset)
            .iter()
            .any(|e| e["event"] == "item-unregistered" && e["item"] == self.item.as_str())
    }
}
