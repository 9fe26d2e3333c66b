//! The UI's TypeScript types are generated from the Rust types with ts-rs and committed under
//! `ui/src/lib/bindings/`. This test regenerates them and fails when the committed ones are
//! stale. `UPDATE_BINDINGS=1 cargo test -p tasktray --test bindings` rewrites them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use supervisor::transcript::Entry;
use supervisor::{
    Approval, Decision, MergeOutcome, RepoHead, Review, SpawnRequest, TaskPage, TaskQuery,
    TaskRecord,
};
use tasktray::error::IpcError;
use tasktray::models::{
    AgentInfo, Draft, LineView, Navigate, OutputPage, Settings, TaskChanged, TaskOutput, TaskResync,
};
use ts_rs::TS;

type Export = fn(&ts_rs::Config) -> Result<(), ts_rs::ExportError>;

fn generate(dir: &Path) {
    // Ids, times and counts are u64 in Rust and plain numbers in JSON: never near 2^53.
    let cfg = ts_rs::Config::new()
        .with_out_dir(dir)
        .with_large_int("number");
    let exports: [Export; 20] = [
        Approval::export_all,
        Decision::export_all,
        TaskRecord::export_all,
        TaskQuery::export_all,
        TaskPage::export_all,
        SpawnRequest::export_all,
        Entry::export_all,
        LineView::export_all,
        OutputPage::export_all,
        Settings::export_all,
        AgentInfo::export_all,
        TaskChanged::export_all,
        TaskOutput::export_all,
        TaskResync::export_all,
        Navigate::export_all,
        Draft::export_all,
        IpcError::export_all,
        RepoHead::export_all,
        Review::export_all,
        MergeOutcome::export_all,
    ];
    for export in exports {
        export(&cfg).expect("export TypeScript bindings");
    }
}

/// Every generated `.ts` file under `dir`, by path relative to it (ts-rs puts some types in
/// subfolders, e.g. `serde_json/JsonValue.ts`). `index.ts` is written by hand.
fn ts_files(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(current) = dirs.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "ts") && !path.ends_with("index.ts") {
                let relative = path.strip_prefix(dir).expect("under dir").to_path_buf();
                files.insert(relative, std::fs::read_to_string(&path).unwrap_or_default());
            }
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
        fresh.contains_key(Path::new("TaskRecord.ts")),
        "generated: {:?}",
        fresh.keys()
    );

    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(&committed).expect("create the bindings dir");
        for (name, text) in &fresh {
            let path = committed.join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create a folder");
            std::fs::write(path, text).expect("write a binding");
        }
        return;
    }
    let current = ts_files(&committed);
    let stale: Vec<&PathBuf> = fresh
        .iter()
        .filter(|(name, text)| current.get(*name) != Some(text))
        .map(|(name, _)| name)
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/lib/bindings is stale ({stale:?}): run `UPDATE_BINDINGS=1 cargo test -p tasktray --test bindings`"
    );
}
