//! `taskctl diff`, `merge`, `discard` and `keep-branch`: a worktree task's review and what
//! becomes of its work. `diff` reads the repository directly; the others go through the app
//! when it runs (so its window follows), else they act on the shared history here.

use serde_json::json;
use supervisor::{MergeOutcome, Settings, Supervisor, TaskId, TaskRecord, Worktree};
use tasktray_api::client::ClientError;

use crate::cli::{DiffArgs, DiscardArgs, MergeArgs, TaskArgs};
use crate::{exit, paths};

/// Error codes that mean "refused, nothing changed": the command exits 1, not 2.
const REFUSALS: [&str; 10] = [
    "MergeConflict",
    "MainFolderDirty",
    "UnmergedWork",
    "WrongBranch",
    "WorktreeMoved",
    "NoWorktree",
    "TaskRunning",
    "ProjectBusy",
    "WorktreeOpen",
    "GitFailed",
];

pub fn diff(args: DiffArgs) -> Result<i32, String> {
    let (_, worktree) = worktree_task(&args.id)?;
    let paths: Vec<&str> = args.paths.iter().map(String::as_str).collect();
    let text = supervisor::diff_text(&worktree, &paths, args.stat).map_err(|e| e.to_string())?;
    use std::io::Write as _;
    // A reader that went away (`| head`) ends nothing.
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(0)
}

pub fn merge(args: MergeArgs) -> Result<i32, String> {
    let (task, worktree) = worktree_task(&args.id)?;
    let squash = args.squash;
    let done = act(
        task.id,
        &format!("/v1/tasks/{}/merge?squash={squash}", task.id),
        |sup| sup.merge(task.id, squash).map(Some),
    )?;
    let Ok(outcome) = done else {
        return Ok(refused(done));
    };
    let outcome: MergeOutcome = match outcome {
        Some(outcome) => outcome,
        None => return Err("the app answered the merge without its outcome".into()),
    };
    let how = match outcome.kind {
        supervisor::MergeKind::FastForward => "fast-forward",
        supervisor::MergeKind::MergeCommit => "merge commit",
        supervisor::MergeKind::Squash => "one squashed commit",
        supervisor::MergeKind::AlreadyMerged => "nothing left to merge",
    };
    say!(
        "Merged task {} ({}) into {}: {how}; {} is at {}",
        task.id,
        worktree.branch,
        outcome.into,
        outcome.into,
        outcome.commit.chars().take(7).collect::<String>()
    );
    say!(
        "Its worktree stays for a follow-up: `taskctl discard {}` removes it",
        task.id
    );
    Ok(exit::COMPLETED)
}

pub fn discard(args: DiscardArgs) -> Result<i32, String> {
    let (task, worktree) = worktree_task(&args.id)?;
    let force = args.force;
    let done = act::<()>(
        task.id,
        &format!("/v1/tasks/{}/discard?force={force}", task.id),
        |sup| sup.discard(task.id, force).map(|_| None),
    )?;
    if done.is_err() {
        return Ok(refused(done));
    }
    say!(
        "Removed task {}'s worktree and branch {}",
        task.id,
        worktree.branch
    );
    Ok(exit::COMPLETED)
}

pub fn keep_branch(args: TaskArgs) -> Result<i32, String> {
    let (task, worktree) = worktree_task(&args.id)?;
    let done = act::<()>(
        task.id,
        &format!("/v1/tasks/{}/keep-branch", task.id),
        |sup| sup.keep_branch(task.id).map(|_| None),
    )?;
    if done.is_err() {
        return Ok(refused(done));
    }
    say!(
        "Removed task {}'s worktree; branch {} is kept",
        task.id,
        worktree.branch
    );
    Ok(exit::COMPLETED)
}

/// Says why an action was refused; its exit code.
fn refused<T>(done: Result<T, String>) -> i32 {
    if let Err(message) = done {
        say!("taskctl: {message}");
    }
    exit::FAILED
}

/// A task and its worktree, from the shared history.
fn worktree_task(raw: &str) -> Result<(TaskRecord, Worktree), String> {
    let id = super::parse_id(raw)?;
    let task = super::history()?.load(id).map_err(|e| e.to_string())?;
    let worktree = task.worktree.clone().ok_or_else(|| {
        format!("task {id} did not run in a worktree of its own (start one with `taskctl run --worktree`)")
    })?;
    Ok((task, worktree))
}

/// Asks the app to do it (`uri`, a POST) when it runs, else does it here with a supervisor of
/// the shared history. `Ok(Err(message))` is a refusal; `Err` anything else.
fn act<T: serde::de::DeserializeOwned>(
    id: TaskId,
    uri: &str,
    here: impl FnOnce(&Supervisor) -> supervisor::Result<Option<T>>,
) -> Result<Result<Option<T>, String>, String> {
    let runtime = super::run::runtime()?;
    let client = tasktray_api::client::Client::for_user();
    match runtime.block_on(client.post(uri, &json!({}))) {
        Ok(value) if value.is_null() => return Ok(Ok(None)),
        Ok(value) => {
            return serde_json::from_value(value)
                .map(|v| Ok(Some(v)))
                .map_err(|e| format!("the app's answer about task {id}: {e}"))
        }
        Err(ClientError::NotRunning { .. }) => {}
        Err(ClientError::Api { code, message, .. }) if REFUSALS.contains(&code.as_str()) => {
            return Ok(Err(message))
        }
        Err(e) => return Err(e.to_string()),
    }
    let settings = Settings::load(&Settings::path(&paths::data_dir()?));
    let sup = super::supervisor(&settings, None, None, &runtime)?;
    match here(&sup) {
        Ok(value) => Ok(Ok(value)),
        Err(e) if REFUSALS.contains(&e.code()) => Ok(Err(e.to_string())),
        Err(e) => Err(e.to_string()),
    }
}
