// The task list: every active task (queued, starting, running, waiting) and the finished ones
// a page at a time, newest first, with a one-line preview of each loaded task's latest output;
// and a search of the whole history, paged the same way. Kept current by `task://changed`
// (re-fetch that task) and `task://output` (previews); `refresh()` re-fetches the active tasks
// and the first page, so a missed event heals.

import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { Entry, IpcError, LineView, TaskChanged, TaskId, TaskPage, TaskQuery, TaskRecord, TaskStatus } from '../bindings';
import { isActive, isRunning } from '../format';
import * as ipc from '../ipc';
import { firstLine, stripAnsi, untagged } from '../text';

/** `running` lists the tasks that started and have not ended, `waiting` those that wait for the
 * user, `queued` those that wait to start (in the order they start), `finished` the ended ones. */
export type Filter = 'all' | 'running' | 'waiting' | 'queued' | 'finished';

/** Tasks per page of the history and of search results. */
export const PAGE_SIZE = 50;
/** The active tasks come in one page of at most this many (the backend's largest page)... */
export const ACTIVE_LIMIT = 1000;
/** ...or, when there are more, in at most this many pages. */
const ACTIVE_PAGES_MAX = 20;
/** How long typing must pause before the search runs. */
export const SEARCH_DEBOUNCE_MS = 200;
/** Tasks kept that are in no list (opened by id, older than the loaded history). */
const DETACHED_MAX = 100;
/** Changes remembered for answers that were on their way while they happened. */
const TOUCHED_MAX = 500;

export const ACTIVE_STATUSES: TaskStatus[] = ['queued', 'pending', 'running', 'waiting'];
export const FINISHED_STATUSES: TaskStatus[] = ['completed', 'failed', 'cancelled', 'interrupted'];

/** The statuses a filter shows, as the backend's query takes them; undefined: every status. */
export function statusesOf(filter: Filter): TaskStatus[] | undefined {
  switch (filter) {
    case 'all':
      return undefined;
    case 'running':
      return ['pending', 'running', 'waiting'];
    case 'waiting':
      return ['waiting'];
    case 'queued':
      return ['queued'];
    case 'finished':
      return FINISHED_STATUSES;
  }
}

function shows(filter: Filter, status: TaskStatus): boolean {
  const statuses = statusesOf(filter);
  return !statuses || statuses.includes(status);
}

const newestFirst = (a: TaskRecord, b: TaskRecord) => b.id - a.id;

/** The list without the task, or the same list when it is not there. */
function without(list: TaskRecord[], id: TaskId): TaskRecord[] {
  const i = list.findIndex((t) => t.id === id);
  return i < 0 ? list : list.slice(0, i).concat(list.slice(i + 1));
}

/** The list with the task in its place by id (replaced when there), newest first. */
function placed(list: TaskRecord[], task: TaskRecord): TaskRecord[] {
  const i = list.findIndex((t) => t.id === task.id);
  if (i >= 0) {
    const next = list.slice();
    next[i] = task;
    return next;
  }
  const at = list.findIndex((t) => t.id < task.id);
  return at < 0 ? [...list, task] : [...list.slice(0, at), task, ...list.slice(at)];
}

/** One query's tasks, newest first, loaded a page at a time: the first page, then older ones
 * on demand (`TaskStore.loadOlder`). */
export class TaskPages {
  tasks = $state.raw<TaskRecord[]>([]);
  /** `before` of the next older page; null when every match is loaded. */
  cursor = $state<TaskId | null>(null);
  /** How many tasks match, loaded or not. */
  total = $state(0);
  /** The first page has come. */
  loaded = $state(false);
  loadingMore = $state(false);
  moreError = $state<IpcError | null>(null);

  constructor(readonly query: TaskQuery) {}

  /** Whether a task with this id falls among the loaded pages (older ones are not loaded). */
  covers(id: TaskId): boolean {
    if (!this.loaded) return false;
    const last = this.tasks.at(-1);
    return this.cursor === null || (last !== undefined && id > last.id);
  }

  has(id: TaskId): boolean {
    return this.tasks.some((t) => t.id === id);
  }

  /** Takes a fresh first page (`tasks`: its tasks as they are to be kept). It replaces the
   * loaded pages it overlaps; older loaded pages stay when it reaches them, else they are let
   * go (their cursor would skip what came between). */
  takeFirst(page: TaskPage, tasks: TaskRecord[]): void {
    const low = page.tasks.reduce((m, t) => Math.min(m, t.id), Infinity);
    const reaches = page.next_cursor !== null && this.tasks.some((t) => t.id >= low);
    const kept = reaches ? this.tasks.filter((t) => t.id < low) : [];
    this.tasks = [...[...tasks].sort(newestFirst), ...kept];
    if (!kept.length) this.cursor = page.next_cursor;
    this.total = page.total;
    this.loaded = true;
  }
}

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
  /** Every task that has not ended, newest first (ids only increase). */
  active = $state.raw<TaskRecord[]>([]);
  /** The finished tasks, newest first, as far as they are loaded. */
  history = new TaskPages({ status: FINISHED_STATUSES });
  filter = $state<Filter>('all');
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  /** The search field as typed; the search runs once typing pauses. */
  query = $state('');
  /** The latest search's answer (kept while the next one runs), or null. */
  results = $state.raw<TaskPages | null>(null);
  /** A search is on its way. */
  searching = $state(false);
  searchError = $state<IpcError | null>(null);
  previews = new SvelteMap<TaskId, string>();
  /** Tasks asked to stop that still run (their trees get the grace period). */
  cancelling = new SvelteSet<TaskId>();
  /** Tasktray's last note in each task's output, whole (a preview is one cut line). */
  notes = new SvelteMap<TaskId, string>();

  /** The loaded tasks, newest first: the active ones and the loaded pages of the history. */
  tasks = $derived.by(() => {
    const a = this.active;
    const h = this.history.tasks;
    if (!a.length) return h;
    if (!h.length) return a;
    const out: TaskRecord[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < h.length) {
      if (j >= h.length || (i < a.length && a[i]!.id > h[j]!.id)) out.push(a[i++]!);
      else out.push(h[j++]!);
    }
    return out;
  });
  /** The search's answer as the filter shows it, or null when the list is not searched. */
  #matches = $derived.by(() => {
    const r = this.query.trim() ? this.results : null;
    if (!r) return null;
    const list = r.tasks.filter((t) => shows(this.filter, t.status));
    return this.filter === 'queued' ? list.sort((a, b) => a.id - b.id) : list;
  });
  /** The list shows search results. */
  showsResults = $derived(this.#matches !== null);
  visible = $derived.by(() => {
    if (this.#matches) return this.#matches;
    switch (this.filter) {
      case 'all':
        return this.tasks;
      case 'waiting':
        return this.active.filter((t) => t.status === 'waiting');
      case 'queued':
        return this.queue;
      case 'running':
        return this.active.filter((t) => isRunning(t.status));
      case 'finished':
        return this.history.tasks;
    }
  });
  /** The pages behind the list as it shows, when older ones can be loaded into it. */
  pager = $derived<TaskPages | null>(
    this.#matches ? this.results : this.filter === 'all' || this.filter === 'finished' ? this.history : null,
  );
  /** Every task there is (loaded or not), or every match of the search. */
  total = $derived(this.#matches ? (this.results?.total ?? 0) : this.active.length + this.history.total);
  waitingCount = $derived(this.active.filter((t) => t.status === 'waiting').length);
  /** The queued tasks in the order they start: first in, first out, and ids only increase. */
  queue = $derived(this.active.filter((t) => t.status === 'queued').sort((a, b) => a.id - b.id));
  queuedCount = $derived(this.queue.length);
  /** A task started and has not ended (queued ones do not count). */
  anyRunning = $derived(this.active.some((t) => isRunning(t.status)));
  runningCount = $derived(this.active.filter((t) => isRunning(t.status)).length);
  /** Each queued task's place: 1 + the queued tasks with a smaller id. */
  #places = $derived(new Map(this.queue.map((t, i) => [t.id, i + 1])));

  /** Per-task request generation: a slow, older answer never overwrites a newer one. */
  #generation = new Map<TaskId, number>();
  /** The same for the whole list and for the search. */
  #refreshGeneration = 0;
  #searchGeneration = 0;
  /** Counts changes; `#touched` says when each task last changed, so an answer that was on its
   * way meanwhile keeps what the events said since it was asked. */
  #changes = 0;
  #touched = new Map<TaskId, number>();
  /** Tasks in no list: opened by id but older than the loaded history (the task view needs them). */
  #detached = new SvelteMap<TaskId, TaskRecord>();
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #previewFetched = new Set<TaskId>();

  get(id: TaskId): TaskRecord | undefined {
    const find = (t: TaskRecord) => t.id === id;
    return this.active.find(find) ?? this.history.tasks.find(find) ?? this.results?.tasks.find(find) ?? this.#detached.get(id);
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
    for (const t of this.active) {
      if (t.id === task.id || t.project_dir !== task.project_dir) continue;
      if (t.status === 'queued' && t.id < task.id && (!ahead || t.id > ahead.id)) ahead = t;
      else if (isRunning(t.status)) holder ??= t;
    }
    const blocker = ahead ?? holder;
    if (blocker) return { kind: 'project', task: blocker };
    if (maxRunning && this.runningCount >= maxRunning) return { kind: 'limit', max: maxRunning };
    return { kind: 'turn' };
  }

  /** Re-fetches the active tasks and the first page of the history (older pages already
   * loaded stay), and the search when there is one. */
  async refresh(): Promise<void> {
    const gen = ++this.#refreshGeneration;
    const since = this.#changes;
    const search = this.query.trim() ? this.search(true) : null;
    try {
      const [active, history] = await Promise.all([
        this.#activeTasks(),
        ipc.listTasks({ status: FINISHED_STATUSES, limit: PAGE_SIZE }),
      ]);
      if (gen !== this.#refreshGeneration) return;
      this.apply(active, history, since);
      this.error = null;
    } catch (err) {
      if (gen === this.#refreshGeneration) this.error = err as IpcError;
    } finally {
      if (gen === this.#refreshGeneration) this.loaded = true;
    }
    await search;
  }

  /** Every active task: one page, unless there are more than `ACTIVE_LIMIT`. */
  async #activeTasks(): Promise<TaskRecord[]> {
    const query: TaskQuery = { status: ACTIVE_STATUSES, limit: ACTIVE_LIMIT };
    let page = await ipc.listTasks(query);
    const tasks = page.tasks;
    for (let n = 1; page.next_cursor !== null && n < ACTIVE_PAGES_MAX; n++) {
      page = await ipc.listTasks({ ...query, before: page.next_cursor });
      tasks.push(...page.tasks);
    }
    return tasks;
  }

  /** Takes the active tasks and a first page of the history as the list (see
   * `TaskPages.takeFirst`). Tasks that changed after `since` keep what the events said; one
   * listed as active that has ended since it was listed goes to the history. */
  apply(active: TaskRecord[], page: TaskPage, since = this.#changes): void {
    const touched = new Map<TaskId, TaskRecord | undefined>();
    for (const [id, at] of this.#touched) if (at > since) touched.set(id, this.get(id));
    const h = this.history;
    const listed = active.filter((t) => !touched.has(t.id));
    this.active = listed.filter((t) => isActive(t.status)).sort(newestFirst);
    h.takeFirst(page, page.tasks.filter((t) => !touched.has(t.id)));
    for (const t of h.tasks) this.#detached.delete(t.id);
    for (const task of listed) if (!isActive(task.status)) this.#place(task);
    for (const task of touched.values()) if (task) this.#place(task);
    for (const [id, at] of this.#touched) if (at <= since) this.#touched.delete(id);
    this.#forgetUnlisted();
    this.#fetchMissingPreviews();
  }

  /** Loads the next older page of what the list shows (the history or the search's matches). */
  async loadOlder(): Promise<void> {
    const pages = this.pager;
    const before = pages?.cursor ?? null;
    if (!pages || before === null || pages.loadingMore) return;
    pages.loadingMore = true;
    pages.moreError = null;
    const since = this.#changes;
    try {
      const page = await ipc.listTasks({ ...pages.query, before, limit: PAGE_SIZE });
      // A refresh started the pages over meanwhile: this page may not follow them.
      if (pages.cursor !== before) return;
      const older = this.#current(page.tasks.filter((t) => !pages.has(t.id)), since).sort(newestFirst);
      pages.tasks = [...pages.tasks, ...older];
      pages.cursor = page.next_cursor;
      pages.total = page.total;
      if (pages === this.history) for (const t of older) this.#detached.delete(t.id);
      this.#fetchMissingPreviews();
    } catch (err) {
      if (pages.cursor === before) pages.moreError = err as IpcError;
    } finally {
      pages.loadingMore = false;
    }
  }

  setFilter(filter: Filter): void {
    this.filter = filter;
    if (this.query.trim()) void this.search();
  }

  /** The search field changed: the search runs once typing pauses; an empty field ends it. */
  setQuery(text: string): void {
    this.query = text;
    clearTimeout(this.#debounce);
    if (!text.trim()) this.#endSearch();
    else this.#debounce = setTimeout(() => void this.search(), SEARCH_DEBOUNCE_MS);
  }

  clearSearch(): void {
    this.query = '';
    this.#endSearch();
  }

  /** Searches now for the field's words under the filter (unless the shown answer is for
   * exactly that, and `again` is false; again, the loaded pages of the same search are kept
   * as a refresh keeps the history's). The previous answer stays until this one comes; an
   * answer to an older search is dropped. */
  async search(again = false): Promise<void> {
    clearTimeout(this.#debounce);
    const words = this.query.trim();
    if (!words) return this.#endSearch();
    const query: TaskQuery = { search: words };
    const status = statusesOf(this.filter);
    if (status) query.status = status;
    const gen = ++this.#searchGeneration;
    const shown = this.results?.query;
    const same = !!shown && shown.search === words && String(shown.status) === String(query.status);
    if (same && !again && !this.searchError) {
      this.searching = false;
      return;
    }
    this.searching = true;
    const since = this.#changes;
    try {
      const page = await ipc.listTasks({ ...query, limit: PAGE_SIZE });
      if (gen !== this.#searchGeneration) return;
      const pages = same && this.results ? this.results : new TaskPages(query);
      pages.takeFirst(page, this.#current(page.tasks, since));
      this.results = pages;
      this.searchError = null;
      this.#fetchMissingPreviews();
    } catch (err) {
      if (gen === this.#searchGeneration) this.searchError = err as IpcError;
    } finally {
      if (gen === this.#searchGeneration) this.searching = false;
    }
  }

  #endSearch(): void {
    clearTimeout(this.#debounce);
    this.#searchGeneration++;
    this.results = null;
    this.searching = false;
    this.searchError = null;
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

  /** A task as it is now: a new one goes to the top, one that ended moves from the active
   * tasks to the history, a search result is updated where it stands. */
  upsert(task: TaskRecord): void {
    const h = this.history;
    if (!isActive(task.status)) {
      this.cancelling.delete(task.id);
      const newest = Math.max(this.active[0]?.id ?? 0, h.tasks[0]?.id ?? 0);
      const wasActive = this.active.some((t) => t.id === task.id);
      if (!h.has(task.id) && (wasActive || (task.id > newest && !this.#detached.has(task.id)))) h.total += 1;
    }
    this.#touch(task.id);
    this.#place(task);
    const r = this.results;
    if (r?.has(task.id)) r.tasks = placed(r.tasks, task);
  }

  /** Puts a task where it belongs: among the active tasks, the loaded history, or (older than
   * the loaded pages) aside, so that `get` still finds it. */
  #place(task: TaskRecord): void {
    const h = this.history;
    if (isActive(task.status)) {
      this.active = placed(this.active, task);
      h.tasks = without(h.tasks, task.id);
      this.#detached.delete(task.id);
      return;
    }
    this.active = without(this.active, task.id);
    if (h.has(task.id) || h.covers(task.id)) {
      h.tasks = placed(h.tasks, task);
      this.#detached.delete(task.id);
    } else {
      this.#detached.delete(task.id);
      this.#detached.set(task.id, task);
      if (this.#detached.size > DETACHED_MAX) this.#detached.delete(this.#detached.keys().next().value!);
    }
  }

  drop(id: TaskId): void {
    this.#touch(id);
    this.active = without(this.active, id);
    const h = this.history;
    if (h.has(id)) {
      h.tasks = without(h.tasks, id);
      h.total = Math.max(0, h.total - 1);
    }
    const r = this.results;
    if (r?.has(id)) {
      r.tasks = without(r.tasks, id);
      r.total = Math.max(0, r.total - 1);
    }
    this.#detached.delete(id);
    this.cancelling.delete(id);
    this.previews.delete(id);
    this.notes.delete(id);
    this.#generation.delete(id);
    this.#previewFetched.delete(id);
  }

  /** Tasks of an answer asked for at `since`, as the events since then left them (a dropped
   * one is left out). */
  #current(tasks: TaskRecord[], since: number): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const t of tasks) {
      const now = (this.#touched.get(t.id) ?? 0) > since ? this.get(t.id) : t;
      if (now) out.push(now);
    }
    return out;
  }

  #touch(id: TaskId): void {
    this.#touched.delete(id);
    this.#touched.set(id, ++this.#changes);
    if (this.#touched.size > TOUCHED_MAX) this.#touched.delete(this.#touched.keys().next().value!);
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

  /** Forgets the previews and notes of tasks no longer loaded. */
  #forgetUnlisted(): void {
    const ids = new Set<TaskId>(this.#detached.keys());
    for (const list of [this.active, this.history.tasks, this.results?.tasks ?? []]) for (const t of list) ids.add(t.id);
    for (const id of this.previews.keys()) if (!ids.has(id)) this.previews.delete(id);
    for (const id of this.notes.keys()) if (!ids.has(id)) this.notes.delete(id);
    for (const id of this.#previewFetched) if (!ids.has(id)) this.#previewFetched.delete(id);
  }

  /** Loaded tasks that have neither a live preview nor a result get one fetch of their output
   * tail (running tasks opened before the window, text-format tasks), a few at a time. */
  #fetchMissingPreviews(): void {
    let fetches = 0;
    for (const t of [...this.active, ...this.history.tasks, ...(this.results?.tasks ?? [])]) {
      if (fetches >= PREVIEW_FETCHES) break;
      if (this.previews.has(t.id) || t.result?.text || t.error || t.line_count === 0) continue;
      if (this.#previewFetched.has(t.id)) continue;
      fetches++;
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
