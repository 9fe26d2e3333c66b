// The task list: every TaskRecord the backend knows, newest first, with a one-line preview of
// each task's latest output. Kept current by `task://changed` (re-fetch that task) and
// `task://output` (previews); `refresh()` re-fetches everything, so a missed event heals.

import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { Entry, IpcError, LineView, TaskChanged, TaskId, TaskRecord } from '../bindings';
import { isActive, isRunning } from '../format';
import * as ipc from '../ipc';
import { firstLine, stripAnsi, untagged } from '../text';

/** `running` lists the tasks that started and have not ended, `waiting` those that wait for the
 * user, `queued` those that wait to start (in the order they start), `finished` the ended ones. */
export type Filter = 'all' | 'running' | 'waiting' | 'queued' | 'finished';

/** Why a queued task has not started: a task of its folder is ahead of it, the running limit is
 * reached, or neither that this window can see (a folder held by another program, a moment
 * before it starts). */
export type QueueWait =
  | { kind: 'project'; task: TaskRecord }
  | { kind: 'limit'; max: number }
  | { kind: 'turn' };

/** A wait as a sentence (the task view links the task it names). */
export function waitText(wait: QueueWait): string {
  switch (wait.kind) {
    case 'project':
      return `Starts when task #${wait.task.id} in this folder ends.`;
    case 'limit':
      return wait.max === 1 ? 'Starts when no other task runs.' : `Starts when fewer than ${wait.max} tasks run.`;
    case 'turn':
      return 'Waiting for its turn.';
  }
}

/** Most characters kept of a preview; the row shows one line with an ellipsis anyway. */
const PREVIEW_CHARS = 240;
/** At most this many tasks get their output fetched just to show a preview. */
const PREVIEW_FETCHES = 20;

/** The text a list row shows for an entry, or null for entries that make no preview. */
export function previewOf(entry: Entry): string | null {
  let text: string;
  switch (entry.kind) {
    case 'text':
    case 'plain':
    case 'result':
      text = entry.text;
      break;
    case 'toolCall':
      text = `→ ${entry.name} ${entry.summary}`;
      break;
    case 'approval':
      text = `? ${entry.tool} ${entry.summary}`;
      break;
    case 'message':
      text = `You: ${entry.text}`;
      break;
    default:
      return null;
  }
  const line = firstLine(untagged(stripAnsi(text).trim())).slice(0, PREVIEW_CHARS);
  return line.length ? line : null;
}

/** The latest preview in a batch of lines. */
export function latestPreview(lines: LineView[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const entries = lines[i]!.entries;
    for (let j = entries.length - 1; j >= 0; j--) {
      const p = previewOf(entries[j]!);
      if (p) return p;
    }
  }
  return null;
}

/** The last note Tasktray wrote into a batch (why a task failed), whole and untagged. */
export function latestNote(lines: LineView[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (l.stream === 'tasktray' && l.text.trim()) return untagged(stripAnsi(l.text).trim());
  }
  return null;
}

export class TaskStore {
  /** Newest first (ids only increase). */
  tasks = $state.raw<TaskRecord[]>([]);
  filter = $state<Filter>('all');
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  previews = new SvelteMap<TaskId, string>();
  /** Tasks asked to stop that still run (their trees get the grace period). */
  cancelling = new SvelteSet<TaskId>();
  /** Tasktray's last note in each task's output, whole (a preview is one cut line). */
  notes = new SvelteMap<TaskId, string>();

  visible = $derived.by(() => {
    switch (this.filter) {
      case 'all':
        return this.tasks;
      case 'waiting':
        return this.tasks.filter((t) => t.status === 'waiting');
      case 'queued':
        return this.queue;
      case 'running':
        return this.tasks.filter((t) => isRunning(t.status));
      case 'finished':
        return this.tasks.filter((t) => !isActive(t.status));
    }
  });
  waitingCount = $derived(this.tasks.filter((t) => t.status === 'waiting').length);
  /** The queued tasks in the order they start: first in, first out, and ids only increase. */
  queue = $derived(this.tasks.filter((t) => t.status === 'queued').sort((a, b) => a.id - b.id));
  queuedCount = $derived(this.queue.length);
  /** A task started and has not ended (queued ones do not count). */
  anyRunning = $derived(this.tasks.some((t) => isRunning(t.status)));
  runningCount = $derived(this.tasks.filter((t) => isRunning(t.status)).length);
  /** Each queued task's place: 1 + the queued tasks with a smaller id. */
  #places = $derived(new Map(this.queue.map((t, i) => [t.id, i + 1])));

  /** Per-task request generation: a slow, older answer never overwrites a newer one. */
  #generation = new Map<TaskId, number>();
  #previewFetched = new Set<TaskId>();

  get(id: TaskId): TaskRecord | undefined {
    return this.tasks.find((t) => t.id === id);
  }

  /** A queued task's place in the queue (1 starts next), or null when it is not queued. */
  placeOf(id: TaskId): number | null {
    return this.#places.get(id) ?? null;
  }

  /** What a queued task waits for. The task of its folder right ahead of it (queued before it,
   * else the one that runs there) comes first; else the running limit (`maxRunning` from the
   * settings, 0 or null: no limit), when as many tasks run. */
  waitOf(task: TaskRecord, maxRunning: number | null): QueueWait {
    let ahead: TaskRecord | undefined;
    let holder: TaskRecord | undefined;
    for (const t of this.tasks) {
      if (t.id === task.id || t.project_dir !== task.project_dir) continue;
      if (t.status === 'queued' && t.id < task.id && (!ahead || t.id > ahead.id)) ahead = t;
      else if (isRunning(t.status)) holder ??= t;
    }
    const blocker = ahead ?? holder;
    if (blocker) return { kind: 'project', task: blocker };
    if (maxRunning && this.runningCount >= maxRunning) return { kind: 'limit', max: maxRunning };
    return { kind: 'turn' };
  }

  async refresh(): Promise<void> {
    try {
      const list = await ipc.listTasks();
      this.tasks = [...list].sort((a, b) => b.id - a.id);
      this.error = null;
      const ids = new Set(list.map((t) => t.id));
      for (const id of this.previews.keys()) if (!ids.has(id)) this.previews.delete(id);
      for (const id of this.notes.keys()) if (!ids.has(id)) this.notes.delete(id);
      this.#fetchMissingPreviews();
    } catch (err) {
      this.error = err as IpcError;
    } finally {
      this.loaded = true;
    }
  }

  /** Re-fetches one task; drops it if the backend no longer knows it. */
  async refreshOne(id: TaskId): Promise<TaskRecord | undefined> {
    const gen = (this.#generation.get(id) ?? 0) + 1;
    this.#generation.set(id, gen);
    try {
      const task = await ipc.getTask(id);
      if (this.#generation.get(id) !== gen) return this.get(id);
      this.upsert(task);
      return task;
    } catch (err) {
      const e = err as IpcError;
      if (e.code === 'TaskNotFound') this.drop(id);
      else this.error = e;
      return undefined;
    }
  }

  /** Whether the task was asked to stop and has not ended yet. */
  isCancelling(task: TaskRecord): boolean {
    return this.cancelling.has(task.id) && isActive(task.status);
  }

  upsert(task: TaskRecord): void {
    if (!isActive(task.status)) this.cancelling.delete(task.id);
    const i = this.tasks.findIndex((t) => t.id === task.id);
    if (i >= 0) {
      const next = this.tasks.slice();
      next[i] = task;
      this.tasks = next;
    } else {
      this.tasks = [task, ...this.tasks].sort((a, b) => b.id - a.id);
    }
  }

  drop(id: TaskId): void {
    this.tasks = this.tasks.filter((t) => t.id !== id);
    this.cancelling.delete(id);
    this.previews.delete(id);
    this.notes.delete(id);
    this.#generation.delete(id);
  }

  onChanged(change: TaskChanged): void {
    if (change.kind === 'removed') this.drop(change.id);
    else void this.refreshOne(change.id);
  }

  onOutput(id: TaskId, lines: LineView[]): void {
    const p = latestPreview(lines);
    if (p !== null && this.previews.get(id) !== p) this.previews.set(id, p);
    const n = latestNote(lines);
    if (n !== null && this.notes.get(id) !== n) this.notes.set(id, n);
  }

  /** The preview of a task: its latest output seen live, else its result or error. */
  preview(task: TaskRecord): string | null {
    return (
      this.previews.get(task.id) ??
      (task.result?.text ? firstLine(task.result.text.trim()).slice(0, PREVIEW_CHARS) : null) ??
      (task.error ? untagged(task.error) : null)
    );
  }

  /** Why a failed task failed, whole: the backend's reason (with the fix when it knows one),
   * Tasktray's error, the agent's error, else its last line. */
  failure(task: TaskRecord): string | null {
    if (task.status !== 'failed') return null;
    const reason =
      task.failure?.trim() ||
      task.error?.trim() ||
      (task.result?.is_error ? task.result.text.trim() : '') ||
      this.notes.get(task.id) ||
      this.previews.get(task.id);
    return reason ? untagged(reason.trim()) : null;
  }

  /** Tasks that have neither a live preview nor a result get one fetch of their output tail
   * (running tasks opened before the window, text-format tasks). */
  #fetchMissingPreviews(): void {
    const missing = this.tasks
      .filter((t) => !this.previews.has(t.id) && !t.result?.text && !t.error && t.line_count > 0)
      .filter((t) => !this.#previewFetched.has(t.id))
      .slice(0, PREVIEW_FETCHES);
    for (const t of missing) {
      this.#previewFetched.add(t.id);
      ipc
        .taskOutput(t.id)
        .then((page) => {
          const p = latestPreview(page.lines);
          if (p !== null && !this.previews.has(t.id)) this.previews.set(t.id, p);
          const n = latestNote(page.lines);
          if (n !== null && !this.notes.has(t.id)) this.notes.set(t.id, n);
        })
        .catch(() => {
          /* a preview is optional */
        });
    }
  }
}
