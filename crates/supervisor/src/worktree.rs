//! A task's own git worktree: made from the repository's HEAD when the task is spawned, the
//! agent's leftovers committed when it ends, then reviewed, merged, kept or discarded.
//!
//! Nothing here deletes work that is not merged unless the caller says so (`force`): a branch
//! counts as merged when another branch holds its commits, or when merging it would not change
//! the branch it started from (a squash-merged branch).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::{Git, MAX_OUTPUT};
use crate::model::{
    CommitInfo, FileChange, MergeKind, MergeOutcome, RepoHead, Review, TaskId, Worktree,
    WorktreeState,
};

/// Most bytes of diff a review carries; files beyond it come without their patch.
pub const REVIEW_PATCH_BYTES: usize = 512 * 1024;
/// Most bytes of one file's diff in a review.
pub const FILE_PATCH_BYTES: usize = 128 * 1024;
/// Most commits a review lists.
const REVIEW_COMMITS: usize = 200;

/// The repository around a project folder and its HEAD: what a worktree task starts from.
pub(crate) struct Base {
    git: Git,
    /// The repository's top level, canonical.
    repo: PathBuf,
    commit: String,
    branch: Option<String>,
    /// The project folder's place in the repository.
    inside: PathBuf,
}

impl Base {
    /// The repository around `project` (a canonical folder), refused when there is none or
    /// it has no commit.
    pub(crate) fn of(project: &Path) -> Result<Base> {
        let git = Git::new(project)?;
        let repo = canonical(&git.toplevel()?);
        let commit = git
            .commit_of("HEAD")?
            .ok_or_else(|| Error::NoCommits { path: repo.clone() })?;
        let branch = git.branch()?;
        let inside = project
            .strip_prefix(&repo)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        Ok(Base {
            git,
            repo,
            commit,
            branch,
            inside,
        })
    }
}

/// Where a new worktree task in `folder` would start.
pub(crate) fn repo_head(folder: &Path) -> Result<RepoHead> {
    let base = Base::of(folder)?;
    let dirty = !base.git.dirty_paths()?.is_empty();
    Ok(RepoHead {
        repo: base.repo,
        branch: base.branch,
        short: base.commit.chars().take(7).collect(),
        commit: base.commit,
        dirty,
    })
}

/// Whether `folder` is in a git repository with a commit (a worktree task can start there);
/// false also when git is missing.
pub fn in_repository(folder: &Path) -> bool {
    Base::of(folder).is_ok()
}

/// Makes task `id`'s branch and worktree (in `root`, the data dir's worktrees folder) from
/// `base`.
pub(crate) fn create(root: &Path, base: Base, id: TaskId, name: &str) -> Result<Worktree> {
    let Base {
        git,
        repo,
        commit: base_commit,
        branch: base_branch,
        inside,
    } = base;
    let path = root.join(id.to_string());
    let mut branch = format!("tasktray/{id}{}", slug(name));
    // Another data dir may have used this id in the same repository.
    let mut n = 2;
    while git.commit_of(&format!("refs/heads/{branch}"))?.is_some() {
        branch = format!("tasktray/{id}{}-{n}", slug(name));
        n += 1;
    }
    std::fs::create_dir_all(root).map_err(|e| Error::io("create", root, e))?;
    git.run(
        "create the task's worktree",
        [
            "worktree".as_ref(),
            "add".as_ref(),
            "--quiet".as_ref(),
            "-b".as_ref(),
            branch.as_ref(),
            path.as_os_str(),
            base_commit.as_ref(),
        ] as [&std::ffi::OsStr; 7],
    )?;
    let dir = path.join(inside);
    // A folder with nothing tracked in it is not in the checkout.
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    Ok(Worktree {
        path,
        dir,
        repo,
        branch,
        base_branch,
        base_commit,
        state: WorktreeState::Open,
        merged_into: None,
        continued_by: None,
        note: None,
    })
}

/// `-<words of the name>`, lowercase ASCII letters and digits, at most 40 characters.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.len() + word.len() + 1 > 40 {
            break;
        }
        out.push('-');
        out.push_str(&word.to_ascii_lowercase());
    }
    out
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Commits whatever is uncommitted in the worktree onto the task's branch, with the user's git
/// identity (Tasktray's when they have none). Returns whether there was anything.
pub(crate) fn commit_leftovers(worktree: &Worktree, message: &str) -> Result<bool> {
    let git = Git::new(&worktree.path)?;
    if git.dirty_paths()?.is_empty() {
        return Ok(false);
    }
    git.run("stage the task's changes", ["add", "--all"])?;
    commit(&git, "commit the task's changes", message)?;
    Ok(true)
}

/// Options that give git Tasktray's identity when it knows none of the user's (a commit, a
/// merge commit or a squash must not fail for want of a name); none when it does.
fn identity(git: &Git) -> Result<Vec<&'static str>> {
    Ok(
        match git.check("read the git identity", ["config", "user.email"])? {
            true => Vec::new(),
            false => vec![
                "-c",
                "user.name=Tasktray",
                "-c",
                "user.email=tasktray@localhost",
            ],
        },
    )
}

/// `git commit` of what is staged, with the user's identity, or Tasktray's.
fn commit(git: &Git, action: &str, message: &str) -> Result<String> {
    let mut args = identity(git)?;
    args.extend(["commit", "--quiet", "-m", message]);
    git.run(action, args)
}

/// Whether the worktree's folder holds changes not committed onto the branch.
fn has_uncommitted(worktree: &Worktree) -> Result<bool> {
    if !worktree.state.is_present() || !worktree.path.is_dir() {
        return Ok(false);
    }
    Ok(!Git::new(&worktree.path)?.dirty_paths()?.is_empty())
}

/// The branch a merge goes into and diffs are taken against: the branch the task started
/// from while it exists, else the commit it started at.
fn target(worktree: &Worktree, git: &Git) -> Result<String> {
    if let Some(branch) = &worktree.base_branch {
        if git.commit_of(&format!("refs/heads/{branch}"))?.is_some() {
            return Ok(branch.clone());
        }
    }
    Ok(worktree.base_commit.clone())
}

/// What the task's branch changed, against where it left its target.
pub(crate) fn review(id: TaskId, worktree: &Worktree) -> Result<Review> {
    let git = Git::new(&worktree.repo)?;
    let target = target(worktree, &git)?;
    let branch = format!("refs/heads/{}", worktree.branch);
    let base = git
        .run(
            "find where the task's branch started",
            ["merge-base", &target, &branch],
        )?
        .trim()
        .to_string();
    let mut files = numstat(&git, &base, &branch)?;
    let (patch, cut) = git.run_capped(
        "diff the task's branch",
        ["diff", "--no-color", "--no-ext-diff", "-M", &base, &branch],
        MAX_OUTPUT,
    )?;
    let mut parts = split_patch(&patch);
    if cut {
        // The last part read is not whole: that file's diff is asked for alone.
        parts.pop();
    }
    let mut budget = REVIEW_PATCH_BYTES;
    for (file, text) in files.iter_mut().zip(parts) {
        file.patch_bytes = text.len() as u64;
        if text.len() <= FILE_PATCH_BYTES && text.len() <= budget {
            budget -= text.len();
            file.patch = Some(text.to_string());
        }
    }
    let commits = log(&git, &format!("{target}..{branch}"))?;
    let uncommitted = has_uncommitted(worktree)?;
    let merged = is_merged(&git, &target, &branch)?;
    Ok(Review {
        task: id,
        worktree: worktree.clone(),
        target,
        commits,
        files,
        uncommitted,
        merged,
    })
}

/// A worktree task's whole diff against where its branch left its target, or the diff of
/// the files in `paths`; with `stat`, git's summary of the files. At most 64 MiB.
pub fn diff_text(worktree: &Worktree, paths: &[&str], stat: bool) -> Result<String> {
    let git = Git::new(&worktree.repo)?;
    let target = target(worktree, &git)?;
    let branch = format!("refs/heads/{}", worktree.branch);
    let range = format!("{target}...{branch}");
    let mut args = vec!["diff", "--no-color", "--no-ext-diff", "-M"];
    if stat {
        args.push("--stat");
    }
    args.push(&range);
    if !paths.is_empty() {
        args.push("--");
        args.extend(paths);
    }
    let (mut text, cut) = git.run_capped("diff the task's branch", args, MAX_OUTPUT)?;
    if cut {
        text.push_str("\n[tasktray] the diff was cut here: it is larger than 64 MiB\n");
    }
    Ok(text)
}

fn numstat(git: &Git, base: &str, branch: &str) -> Result<Vec<FileChange>> {
    let out = git.run(
        "list the files the task changed",
        ["diff", "--numstat", "-z", "-M", base, branch],
    )?;
    let mut files = Vec::new();
    let mut fields = out.split('\0');
    while let Some(entry) = fields.next() {
        if entry.is_empty() {
            continue;
        }
        let mut parts = entry.splitn(3, '\t');
        let (Some(added), Some(removed), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        // A rename: an empty path, then the old and the new path.
        let (path, old_path) = if path.is_empty() {
            let from = fields.next().unwrap_or_default().to_string();
            let to = fields.next().unwrap_or_default().to_string();
            (to, Some(from))
        } else {
            (path.to_string(), None)
        };
        files.push(FileChange {
            path,
            old_path,
            added: added.parse().ok(),
            removed: removed.parse().ok(),
            patch: None,
            patch_bytes: 0,
        });
    }
    Ok(files)
}

/// A whole diff split into its files' parts, in the order git lists them.
fn split_patch(patch: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for line in patch.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            starts.push(at);
        }
        at += line.len();
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| &patch[start..starts.get(i + 1).copied().unwrap_or(patch.len())])
        .collect()
}

fn log(git: &Git, range: &str) -> Result<Vec<CommitInfo>> {
    let out = git.run(
        "list the task's commits",
        [
            "log",
            "-z",
            &format!("--max-count={REVIEW_COMMITS}"),
            "--format=%H%x1f%h%x1f%an%x1f%at%x1f%s",
            range,
        ],
    )?;
    Ok(out
        .split('\0')
        .filter(|r| !r.trim().is_empty())
        .filter_map(|record| {
            let mut f = record.trim_start_matches('\n').split('\x1f');
            Some(CommitInfo {
                sha: f.next()?.to_string(),
                short: f.next()?.to_string(),
                author: f.next()?.to_string(),
                time_ms: f.next()?.parse::<u64>().ok()? * 1000,
                subject: f.next().unwrap_or_default().to_string(),
            })
        })
        .collect())
}

/// Whether merging `branch` into `target` would change nothing: its commits are in the
/// target, or its changes are (a squash merge).
fn is_merged(git: &Git, target: &str, branch: &str) -> Result<bool> {
    if git.check(
        "compare the branches",
        ["merge-base", "--is-ancestor", branch, target],
    )? {
        return Ok(true);
    }
    let (code, out, err) = git.output([
        "merge-tree",
        "--write-tree",
        "--no-messages",
        target,
        branch,
    ])?;
    match code {
        0 => {
            let tree = out.lines().next().unwrap_or_default().trim().to_string();
            let target_tree = git.run(
                "read the target's tree",
                ["rev-parse", &format!("{target}^{{tree}}")],
            )?;
            Ok(tree == target_tree.trim())
        }
        1 => Ok(false),
        _ => Err(Error::Git {
            action: "compare the branches".into(),
            message: err.trim().to_string(),
        }),
    }
}

/// Commits on the task's branch that no other branch holds, unless the target already has
/// its changes (squash-merged); and whether its worktree has uncommitted changes.
pub(crate) fn unmerged(worktree: &Worktree) -> Result<(u64, bool)> {
    let git = Git::new(&worktree.repo)?;
    let uncommitted = has_uncommitted(worktree)?;
    let branch = format!("refs/heads/{}", worktree.branch);
    if git.commit_of(&branch)?.is_none() {
        return Ok((0, uncommitted));
    }
    let only_here = git.run(
        "count the branch's own commits",
        [
            "rev-list".to_string(),
            "--count".to_string(),
            branch.clone(),
            "--not".to_string(),
            // `--branches` patterns leave out the `refs/heads/` prefix.
            format!("--exclude={}", worktree.branch),
            "--branches".to_string(),
        ],
    )?;
    let only_here: u64 = only_here.trim().parse().unwrap_or(0);
    if only_here == 0 {
        return Ok((0, uncommitted));
    }
    let target = target(worktree, &git)?;
    if is_merged(&git, &target, &branch)? {
        return Ok((0, uncommitted));
    }
    Ok((only_here, uncommitted))
}

/// Merges the task's branch into the branch it started from, in the repository's main
/// folder: fast-forward when it can, else a merge commit; or one squashed commit. Checked
/// first, so a refused merge leaves the repository exactly as it was.
pub(crate) fn merge(
    id: TaskId,
    worktree: &Worktree,
    squash: bool,
    message: &str,
) -> Result<MergeOutcome> {
    let git = Git::new(&worktree.repo)?;
    let branch = format!("refs/heads/{}", worktree.branch);
    let Some(expected) = worktree.base_branch.clone() else {
        return Err(Error::NoBaseBranch {
            id,
            commit: worktree.base_commit.chars().take(7).collect(),
            branch: worktree.branch.clone(),
        });
    };
    let actual = git.branch()?;
    if actual.as_deref() != Some(expected.as_str()) {
        return Err(Error::WrongBranch {
            id,
            path: worktree.repo.clone(),
            expected,
            actual: actual.unwrap_or_else(|| "a detached HEAD".to_string()),
        });
    }
    if is_merged(&git, "HEAD", &branch)? {
        let commit = git.commit_of("HEAD")?.unwrap_or_default();
        return Ok(MergeOutcome {
            kind: MergeKind::AlreadyMerged,
            into: expected,
            commit,
        });
    }
    // The merge's result, computed without touching the working tree.
    let (code, out, err) = git.output([
        "merge-tree",
        "--write-tree",
        "--name-only",
        "-z",
        "--no-messages",
        "HEAD",
        &branch,
    ])?;
    let mut fields = out.split('\0');
    let tree = fields.next().unwrap_or_default().trim().to_string();
    match code {
        0 => {}
        1 => {
            let files: Vec<String> = fields
                .take_while(|f| !f.is_empty())
                .map(str::to_string)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let mut files = files;
            files.sort();
            return Err(Error::MergeConflict {
                id,
                into: expected,
                branch: worktree.branch.clone(),
                worktree: worktree.path.clone(),
                files,
            });
        }
        _ => {
            return Err(Error::Git {
                action: "check the merge".into(),
                message: err.trim().to_string(),
            })
        }
    }
    // The files the merge would write must not hold the user's uncommitted work.
    let touched: HashSet<String> = git
        .run(
            "list the files the merge touches",
            ["diff", "--name-only", "-z", "--no-renames", "HEAD", &tree],
        )?
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let mut in_the_way: Vec<String> = git
        .dirty_paths()?
        .into_iter()
        .filter(|p| touched.contains(p))
        .collect();
    if !in_the_way.is_empty() {
        in_the_way.sort();
        in_the_way.dedup();
        return Err(Error::MainFolderDirty {
            path: worktree.repo.clone(),
            files: in_the_way,
        });
    }
    let mut merge_args = identity(&git)?;
    merge_args.push("merge");
    let kind = if squash {
        merge_args.extend(["--squash", "--quiet", &branch]);
        git.run("squash the task's branch", merge_args)
            .and_then(|_| commit(&git, "commit the squashed changes", message))
            .inspect_err(|_| {
                // Back to HEAD for the files the squash staged; the user's other changes stay.
                let _ = git.output(["reset", "--quiet", "--merge", "HEAD"]);
            })?;
        MergeKind::Squash
    } else if git.check(
        "compare the branches",
        ["merge-base", "--is-ancestor", "HEAD", &branch],
    )? {
        git.run(
            "fast-forward to the task's branch",
            ["merge", "--ff-only", "--quiet", &branch],
        )?;
        MergeKind::FastForward
    } else {
        let merge_message = format!("Merge {}\n\n{message}", worktree.branch);
        merge_args.extend(["--no-ff", "--quiet", "-m", &merge_message, &branch]);
        git.run("merge the task's branch", merge_args)
            .inspect_err(|_| {
                if git.commit_of("MERGE_HEAD").ok().flatten().is_some() {
                    let _ = git.output(["merge", "--abort"]);
                }
            })?;
        MergeKind::MergeCommit
    };
    Ok(MergeOutcome {
        kind,
        into: expected,
        commit: git.commit_of("HEAD")?.unwrap_or_default(),
    })
}

/// Removes the worktree's folder (and its registration); with `keep_branch` false, the
/// branch too. The caller checked that nothing unmerged is lost.
pub(crate) fn remove(worktree: &Worktree, keep_branch: bool) -> Result<()> {
    let git = Git::new(&worktree.repo)?;
    if worktree.path.exists() {
        git.run(
            "remove the task's worktree",
            [
                "worktree".as_ref(),
                "remove".as_ref(),
                "--force".as_ref(),
                worktree.path.as_os_str(),
            ] as [&std::ffi::OsStr; 4],
        )?;
    } else {
        // Its folder went behind git's back: forget the registration.
        git.run("prune the worktree registrations", ["worktree", "prune"])?;
    }
    if !keep_branch {
        let branch = format!("refs/heads/{}", worktree.branch);
        if git.commit_of(&branch)?.is_some() {
            git.run(
                "delete the task's branch",
                ["branch", "--quiet", "-D", &worktree.branch],
            )?;
        }
    }
    Ok(())
}

/// A folder in the worktrees folder that no task of the history claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrayWorktree {
    pub path: PathBuf,
    /// Its branch, when git still knows it.
    pub branch: Option<String>,
}

/// The folders in `root` that no task claims.
pub(crate) fn strays(root: &Path, claimed: impl Fn(&Path) -> bool) -> Vec<StrayWorktree> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<StrayWorktree> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !claimed(p))
        .map(|path| {
            let branch = Git::new(&path).ok().and_then(|g| g.branch().ok().flatten());
            StrayWorktree { path, branch }
        })
        .collect();
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_safe_branch_names() {
        assert_eq!(slug("Fix the login bug!"), "-fix-the-login-bug");
        assert_eq!(slug("  ünïcode / only  "), "-n-code-only");
        assert_eq!(slug("???"), "");
        assert!(slug(&"word ".repeat(30)).len() <= 40);
    }

    #[test]
    fn a_patch_splits_into_its_files() {
        let patch = "diff --git a/a b/a\n+x\ndiff --git a/b b/b\n-y\n";
        assert_eq!(
            split_patch(patch),
            vec!["diff --git a/a b/a\n+x\n", "diff --git a/b b/b\n-y\n"]
        );
        assert!(split_patch("").is_empty());
    }
}
