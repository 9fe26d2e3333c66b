//! The UI's TypeScript types are generated from the Rust types with ts-rs and committed under
//! `ui/src/lib/bindings/`. This test regenerates them and fails when the committed ones are
//! stale. `UPDATE_BINDINGS=1 cargo test -p tasktray --test bindings` rewrites them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use supervisor::transcript::Entry;
use supervisor::{SpawnRequest, TaskRecord};
use tasktray::error::IpcError;
use tasktray::models::{
    AgentInfo, LineView, Navigate, OutputPage, Settings, TaskChanged, TaskOutput, TaskResync,
};
use ts_rs::TS;

fn generate(dir: &Path) {
    let exports: [fn(&Path) -> Result<(), ts_rs::ExportError>; 12] = [
        |d| TaskRecord::export_all_to(d),
        |d| SpawnRequest::export_all_to(d),
        |d| Entry::export_all_to(d),
        |d| LineView::export_all_to(d),
        |d| OutputPage::export_all_to(d),
        |d| Settings::export_all_to(d),
        |d| AgentInfo::export_all_to(d),
        |d| TaskChanged::export_all_to(d),
        |d| TaskOutput::export_all_to(d),
        |d| TaskResync::export_all_to(d),
        |d| Navigate::export_all_to(d),
        |d| IpcError::export_all_to(d),
    ];
    for export in exports {
        export(dir).expect("export TypeScript bindings");
    }
}

fn ts_files(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".ts") && name != "index.ts" {
            files.insert(
                name,
                std::fs::read_to_string(entry.path()).unwrap_or_default(),
            );
        }
    }
    files
}

#[test]
fn typescript_bindings_are_fresh() {
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings");
    let fresh_dir = tempfile::tempdir().expect("temp dir");
    generate(fresh_dir.path());
    let fresh = ts_files(fresh_dir.path());
    assert!(
        fresh.contains_key("TaskRecord.ts"),
        "generated: {:?}",
        fresh.keys()
    );

    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(&committed).expect("create the bindings dir");
        for (name, text) in &fresh {
            std::fs::write(committed.join(name), text).expect("write a binding");
        }
        return;
    }
    let current = ts_files(&committed);
    let stale: Vec<&String> = fresh
        .iter()
        .filter(|(name, text)| current.get(*name) != Some(text))
        .map(|(name, _)| name)
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/lib/bindings is stale ({stale:?}): run `UPDATE_BINDINGS=1 cargo test -p tasktray --test bindings`"
    );
}
