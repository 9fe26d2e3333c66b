// The review of a finished worktree task: what its branch changed (files, diffs, commits) and
// what becomes of it (merge, squash merge, keep the branch, discard, open the folder). One per
// mounted Changes section; the task itself stays in the task store, which re-reads it when the
// backend says its worktree changed.

import type { FileChange, IpcError, MergeOutcome, Review, TaskId } from '../bindings';
import * as ipc from '../ipc';
import { sentence, untagged } from '../text';

/** Up to this many files, every file's diff starts open; more start closed. */
export const OPEN_FILES_MAX = 3;
/** Lines of one diff drawn at most (a whole file's diff fetched on demand can be huge). */
export const DIFF_LINES_MAX = 4000;

export type Action = 'merge' | 'squash' | 'keep' | 'discard' | 'open';

/** A file's whole diff, fetched because the review left it out (too big). */
export type BigDiff = { loading: boolean; text: string | null; error: string | null };

/** What a merge did, as the view says it. */
export function mergedText(o: MergeOutcome): string {
  switch (o.kind) {
    case 'fast-forward':
      return `Merged into ${o.into} (fast-forward)`;
    case 'merge-commit':
      return `Merged into ${o.into} (merge commit ${o.commit.slice(0, 7)})`;
    case 'squash':
      return `Merged into ${o.into} (squashed into ${o.commit.slice(0, 7)})`;
    case 'already-merged':
      return `Already in ${o.into}: nothing to merge`;
  }
}

export type DiffLine = { kind: 'add' | 'del' | 'hunk' | 'meta' | 'ctx'; text: string };

/** A unified diff as lines to colour: additions, removals, hunk heads, file headers. */
export function diffLines(patch: string, max = DIFF_LINES_MAX): { lines: DiffLine[]; omitted: number } {
  const all = patch.replace(/\n$/, '').split('\n');
  const lines = all.slice(0, max).map((text): DiffLine => {
    if (text.startsWith('+++') || text.startsWith('---')) return { kind: 'meta', text };
    if (text.startsWith('+')) return { kind: 'add', text };
    if (text.startsWith('-')) return { kind: 'del', text };
    if (text.startsWith('@@')) return { kind: 'hunk', text };
    if (/^(diff |index |new file|deleted file|similarity|rename |old mode|new mode|Binary files)/.test(text))
      return { kind: 'meta', text };
    return { kind: 'ctx', text };
  });
  return { lines, omitted: all.length - lines.length };
}

export class WorktreeReview {
  readonly id: TaskId;
  review = $state<Review | null>(null);
  loadError = $state<string | null>(null);
  /** The files whose diff is open, by path. */
  open = $state<Record<string, boolean>>({});
  big = $state<Record<string, BigDiff>>({});
  /** The action running now; every action button waits for it. */
  busy = $state<Action | null>(null);
  done = $state<string | null>(null);
  error = $state<string | null>(null);
  /** The backend's UnmergedWork message: the user is asked before discarding anyway. */
  confirmDiscard = $state<string | null>(null);

  #seq = 0;
  /** Called after an action changed the worktree (re-read the task). */
  #changed: () => void;

  constructor(id: TaskId, changed: () => void = () => {}) {
    this.id = id;
    this.#changed = changed;
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    try {
      const review = await ipc.reviewTask(this.id);
      if (seq !== this.#seq) return;
      // The first review decides which diffs start open; a re-read keeps the user's choice.
      if (!this.review) {
        const many = review.files.length > OPEN_FILES_MAX;
        this.open = Object.fromEntries(review.files.map((f) => [f.path, !many && f.patch !== null]));
      }
      // Once merged, the branch has nothing the target lacks: keep showing what was merged.
      const before = this.review;
      this.review =
        review.merged && review.files.length === 0 && before?.files.length
          ? { ...review, files: before.files, commits: before.commits }
          : review;
      this.loadError = null;
    } catch (err) {
      if (seq !== this.#seq) return;
      this.loadError = message(err);
    }
  }

  toggle(path: string): void {
    this.open = { ...this.open, [path]: !this.open[path] };
  }

  /** Fetches the whole diff of a file the review left out, and opens it. */
  async showBig(file: FileChange): Promise<void> {
    const path = file.path;
    if (this.big[path]?.loading) return;
    this.big = { ...this.big, [path]: { loading: true, text: null, error: null } };
    try {
      const text = await ipc.fileDiff(this.id, path);
      this.big = { ...this.big, [path]: { loading: false, text, error: null } };
      this.open = { ...this.open, [path]: true };
    } catch (err) {
      this.big = { ...this.big, [path]: { loading: false, text: null, error: message(err) } };
    }
  }

  merge(squash: boolean): Promise<void> {
    return this.#run(squash ? 'squash' : 'merge', async () => mergedText(await ipc.mergeTask(this.id, squash)));
  }

  keep(): Promise<void> {
    return this.#run('keep', async () => {
      await ipc.keepBranch(this.id);
      const branch = this.review?.worktree.branch;
      return branch ? `Branch ${branch} kept; its worktree folder was removed` : 'Branch kept; its worktree folder was removed';
    });
  }

  /** Discards the worktree and its branch. Without `force` the backend refuses unmerged work
   * (UnmergedWork): then its message is put to the user, who may discard anyway. */
  discard(force = false): Promise<void> {
    this.confirmDiscard = null;
    return this.#run('discard', async () => {
      await ipc.discardWorktree(this.id, force);
      return 'Worktree removed';
    });
  }

  openFolder(): Promise<void> {
    return this.#run('open', async () => {
      await ipc.openWorktree(this.id);
      return null;
    });
  }

  async #run(action: Action, work: () => Promise<string | null>): Promise<void> {
    if (this.busy) return;
    this.busy = action;
    this.error = null;
    this.done = null;
    try {
      const done = await work();
      if (done) this.done = done;
      // The task is re-read; its worktree's new state makes the view read the review again.
      if (action !== 'open') this.#changed();
    } catch (err) {
      const e = err as IpcError;
      if (action === 'discard' && e.code === 'UnmergedWork') this.confirmDiscard = message(e);
      else this.error = message(e);
      if (e.code === 'WorktreeMoved') this.#changed();
    } finally {
      this.busy = null;
    }
  }
}

function message(err: unknown): string {
  return sentence(untagged((err as IpcError)?.message ?? String(err)));
}
