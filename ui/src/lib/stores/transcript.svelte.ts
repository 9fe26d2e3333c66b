// The live output of one task, as the task view shows it.
//
// Theory of operation. The backend numbers every output line of a task from 0 (`seq`). This
// controller renders a contiguous window of those lines, `lines[0].seq ..= lines[last].seq`,
// bounded by RENDER_CAP so the DOM stays small however long the output grows:
// - Following (the default): new lines from `task://output` are appended and the oldest are
//   dropped from the front. A flood (a batch of more than FOLLOW_BATCH_LINES) restarts the window
//   at the batch's last lines instead of rendering rows nobody can read. "Load earlier" brings
//   dropped lines back from disk.
// - Paused (the user scrolled up): new lines are still appended while there is room, so what the
//   user reads never moves; once the cap is reached the window detaches from the tail and only
//   counts what arrives. "Jump to latest" re-fetches the tail.
// A batch whose first line is not `next + 1` means events were missed: the tail is re-fetched
// (`task_output`). Lines at or below the last seen seq are duplicates and ignored. While a fetch is
// in flight, arriving lines are queued and replayed after it, so nothing is lost or doubled.

import type { IpcError, LineView, TaskId } from '../bindings';
import * as ipc from '../ipc';
import { type Chunk, type Line, type Row, rechunk, toLine } from './lines.svelte';

export { CHUNK_LINES, type Chunk, type Line, type Row } from './lines.svelte';

/** Most lines (and most transcript entries) rendered at once. */
export const RENDER_CAP = 2000;
/** Past RENDER_CAP, the window drops down to RENDER_CAP - TRIM_CHUNK lines, so the trimming
 * (destroying rows) happens every few batches in small steps, not in every batch. */
export const TRIM_CHUNK = 100;
/** Following, a batch with more lines than this restarts the window at its last lines instead
 * of rendering them all: nobody reads 500 lines in 50 ms, and rendering rows that scroll out
 * before the next frame is what would stall the main thread. The skipped lines are on disk,
 * and "Load earlier" brings them back. */
export const FOLLOW_BATCH_LINES = 100;
/** Lines fetched by one "Load earlier". */
export const PAGE_LINES = 500;
/** A fetch of the tail starts at least this long after the one before: a flooding task sends
 * a resync up to 20 times a second, and fetching and drawing the tail that often kept the
 * webview busy, so clicks waited (docs/benchmarks.md, 9). */
export const REFETCH_INTERVAL_MS = 250;
/** Most lines queued while a fetch is in flight; past it the queue is dropped and re-fetched. */
const MAX_QUEUED = 4 * RENDER_CAP;
/** Chunks redrawn in the other form per frame, after the ones on screen (see `setRaw`). */
export const SWITCH_CHUNKS_PER_FRAME = 2;

export class Transcript {
  readonly id: TaskId;
  #lines = $state.raw<Line[]>([]);
  /** The rendered window in chunks, oldest first. */
  chunks = $state.raw<Chunk[]>([]);
  /** Show raw lines instead of the parsed transcript (`setRaw` switches; each chunk follows). */
  raw = $state(false);
  /** Keep the view pinned to the newest line. */
  following = $state(true);
  /** The window does not reach the newest line (paused past the cap, or after Load earlier). */
  detached = $state(false);
  /** The seq the next new line will have: the count of lines the task has produced. */
  nextSeq = $state(0);
  /** The seq of the first line known to exist before the window (0: the window starts at 0). */
  firstSeq = $state(0);
  loading = $state(true);
  loadingEarlier = $state(false);
  error = $state<IpcError | null>(null);

  /** Every rendered row (tests and counts; the view renders `chunks`). */
  rows: Row[] = $derived(this.chunks.flatMap((c) => c.rows));
  isEmpty = $derived(this.chunks.every((c) => c.rows.length === 0));
  /** Lines before the window that "Load earlier" can fetch. */
  hasEarlier = $derived((this.lines[0]?.seq ?? this.firstSeq) > 0);
  /** Lines after the window, when detached. */
  newerCount = $derived(
    this.detached ? this.nextSeq - ((this.lines.at(-1)?.seq ?? this.firstSeq - 1) + 1) : 0,
  );

  #entryCount = 0;
  #fetching = false;
  #refetchAgain = false;
  /** The most lines a fetch asked for meanwhile wants kept (see `reload`). */
  #refetchKeep = 0;
  /** When the last fetch of the tail started (`Date.now()`). */
  #lastFetch = -Infinity;
  #queue: LineView[] = [];
  #disposed = false;
  /** The chunks still in the other form after a switch are redrawn from the next frame on;
   * this cancels that. */
  #switching: (() => void) | null = null;
  /** The key of the chunk a switch started from: the others follow nearest first. */
  #switchFrom = 0;

  constructor(id: TaskId) {
    this.id = id;
  }

  /** The rendered window, oldest first: contiguous seqs. */
  get lines(): Line[] {
    return this.#lines;
  }

  set lines(lines: Line[]) {
    this.#lines = lines;
    this.chunks = rechunk(this.chunks, lines, this.raw);
  }

  dispose(): void {
    this.#disposed = true;
    this.#queue = [];
    this.#switching?.();
    this.#switching = null;
  }

  /** Shows the agent's raw lines (true) or the transcript. The chunks in `first` (those on
   * screen) are redrawn at once; the others follow, SWITCH_CHUNKS_PER_FRAME a frame, nearest
   * first. Redrawing every row of the window in one go (up to RENDER_CAP) kept the webview
   * from answering the click for 55-80 ms, and from drawing anything else meanwhile
   * (docs/benchmarks.md, 9). Without `first`, every chunk is redrawn at once. */
  setRaw(on: boolean, first: Chunk[] = this.chunks): void {
    this.raw = on;
    for (const chunk of first) chunk.raw = on;
    const mid = first[Math.floor(first.length / 2)];
    this.#switchFrom = mid ? mid.key : (this.chunks.at(-1)?.key ?? 0);
    this.#switchRest();
  }

  #switchRest(): void {
    if (this.#switching !== null || this.#disposed) return;
    if (this.chunks.every((c) => c.raw === this.raw)) return;
    this.#switching = nextFrame(() => {
      this.#switching = null;
      if (this.#disposed) return;
      const from = this.#switchFrom;
      const behind = this.chunks
        .filter((c) => c.raw !== this.raw)
        .sort((a, b) => Math.abs(a.key - from) - Math.abs(b.key - from));
      for (const chunk of behind.slice(0, SWITCH_CHUNKS_PER_FRAME)) chunk.raw = this.raw;
      this.#switchRest();
    });
  }

  /** Fetches the tail (`task_output`) and replaces the window with its last `keep` lines (at
   * most RENDER_CAP), REFETCH_INTERVAL_MS after the last fetch at the earliest. Safe to call at
   * any time: concurrent calls coalesce into one more fetch after the current one, which keeps
   * as many lines as the most any of them asked for. */
  async reload(keep: number = RENDER_CAP): Promise<void> {
    if (this.#fetching) {
      this.#refetchAgain = true;
      this.#refetchKeep = Math.max(this.#refetchKeep, keep);
      return;
    }
    this.#fetching = true;
    try {
      do {
        const wait = this.#lastFetch + REFETCH_INTERVAL_MS - Date.now();
        if (wait > 0) {
          await new Promise((go) => setTimeout(go, wait));
          if (this.#disposed) return;
        }
        // What was asked for meanwhile is this fetch.
        keep = Math.max(keep, this.#refetchKeep);
        this.#refetchKeep = 0;
        this.#refetchAgain = false;
        this.#lastFetch = Date.now();
        const n = Math.min(keep, RENDER_CAP);
        const page = await ipc.taskOutput(this.id, n);
        if (this.#disposed) return;
        this.error = null;
        this.detached = false;
        this.following = true;
        // The ring can hold far more than the window shows (up to 100,000 lines): only the
        // lines that will be rendered are asked for, and prepared.
        const tail = page.lines.length > n ? page.lines.slice(-n) : page.lines;
        this.#replace(tail.map(toLine), page.first_seq, page.next_seq);
        this.loading = false;
        keep = 0; // the next fetch keeps what is asked for from now on
      } while (this.#refetchAgain);
    } catch (err) {
      this.#refetchKeep = 0;
      // No replay after a failed fetch: it would only find the same gap and fetch again.
      this.#queue = [];
      if (!this.#disposed) this.error = err as IpcError;
    } finally {
      this.#fetching = false;
      this.loading = false;
    }
    // Replay what arrived meanwhile: older lines are duplicates now, a gap triggers a new fetch.
    const queued = this.#queue;
    this.#queue = [];
    if (queued.length && !this.#disposed) this.ingest(queued);
  }

  /** A batch from `task://output`, in seq order. */
  ingest(batch: LineView[]): void {
    if (this.#disposed || batch.length === 0) return;
    if (this.#fetching) {
      this.#queue.push(...batch);
      if (this.#queue.length > MAX_QUEUED) {
        this.#queue = [];
        this.#refetchAgain = true;
      }
      return;
    }
    if (this.detached) {
      // Nothing is appended past a detached window; only count what the task produced.
      this.nextSeq = Math.max(this.nextSeq, batch[batch.length - 1]!.seq + 1);
      return;
    }
    const fresh: Line[] = [];
    for (let i = 0; i < batch.length; i++) {
      const v = batch[i]!;
      if (v.seq < this.nextSeq) continue; // a duplicate
      if (v.seq > this.nextSeq) {
        // A gap: lines were missed.
        this.#commit(fresh);
        this.#queue.push(...batch.slice(i));
        this.resync();
        return;
      }
      this.nextSeq = v.seq + 1;
      fresh.push(toLine(v));
    }
    this.#commit(fresh);
  }

  /** The window may have missed lines (a gap, `task://resync`, the window was hidden).
   * Following: fetch the tail now, and keep its last `keep` lines. By default that is what a
   * flooding batch keeps (FOLLOW_BATCH_LINES): lines are missed when the task floods, and a
   * flood sends a resync up to 20 times a second; drawing the whole tail (1,000 rows) again
   * each time kept WebKitGTK's main thread busy for as long as the flood lasted, and clicks
   * waited (docs/benchmarks.md, 9). Paused: leave what the user reads alone; the window is
   * marked detached and "Jump to latest" fetches the tail. */
  resync(keep: number = FOLLOW_BATCH_LINES): void {
    if (this.following && !this.detached) {
      void this.reload(keep);
    } else {
      this.detached = true;
      this.#queue = [];
    }
  }

  /** Fetches up to PAGE_LINES lines before the window from the log on disk. */
  async loadEarlier(): Promise<void> {
    const before = this.lines[0]?.seq ?? this.firstSeq;
    if (before <= 0 || this.loadingEarlier) return;
    this.loadingEarlier = true;
    this.following = false;
    try {
      const page = await ipc.taskLogPage(this.id, before, PAGE_LINES);
      if (this.#disposed) return;
      const start = this.lines[0]?.seq ?? this.firstSeq;
      const older = page.lines.filter((l) => l.seq < start).map(toLine);
      const lines = [...older, ...this.lines];
      this.firstSeq = older[0]?.seq ?? Math.min(page.first_seq, start);
      this.#entryCount += count(older);
      // Over the cap: drop the newest lines; the window no longer reaches the tail.
      let end = lines.length;
      while (end > 0 && (end > RENDER_CAP || this.#entryCount > RENDER_CAP)) {
        end--;
        this.#entryCount -= lines[end]!.rows.length;
        this.detached = true;
      }
      this.lines = end === lines.length ? lines : lines.slice(0, end);
    } catch (err) {
      if (!this.#disposed) this.error = err as IpcError;
    } finally {
      this.loadingEarlier = false;
    }
  }

  /** Back to the newest output: re-fetches the tail if the window left it. */
  jumpToLatest(): void {
    this.following = true;
    if (this.detached) void this.reload();
  }

  /** The user scrolled away from (false) or back to (true) the newest line. */
  setFollowing(on: boolean): void {
    if (on && this.detached) return; // reaching the bottom of a detached window changes nothing
    this.following = on;
  }

  #replace(lines: Line[], firstSeq: number, nextSeq: number): void {
    this.#entryCount = count(lines);
    this.firstSeq = firstSeq;
    this.nextSeq = nextSeq;
    this.lines = lines;
    this.#trimFront();
  }

  #commit(fresh: Line[]): void {
    if (fresh.length === 0) return;
    if (this.following) {
      if (fresh.length > FOLLOW_BATCH_LINES) {
        const tail = fresh.slice(-FOLLOW_BATCH_LINES);
        this.#entryCount = count(tail);
        this.lines = tail;
      } else {
        this.#entryCount += count(fresh);
        this.lines = this.lines.concat(fresh);
      }
      this.#trimFront();
      return;
    }
    // Paused: append what fits without dropping anything the user may be reading.
    let fit = 0;
    let entries = this.#entryCount;
    while (fit < fresh.length) {
      const n = fresh[fit]!.rows.length;
      if (this.lines.length + fit + 1 > RENDER_CAP || entries + n > RENDER_CAP) break;
      entries += n;
      fit++;
    }
    if (fit > 0) {
      this.#entryCount = entries;
      this.lines = this.lines.concat(fit === fresh.length ? fresh : fresh.slice(0, fit));
    }
    if (fit < fresh.length) this.detached = true;
  }

  /** Over the cap, drops the oldest lines down to RENDER_CAP - TRIM_CHUNK. */
  #trimFront(): void {
    const lines = this.lines;
    if (lines.length <= RENDER_CAP && this.#entryCount <= RENDER_CAP) return;
    const target = RENDER_CAP - TRIM_CHUNK;
    let drop = 0;
    let entries = this.#entryCount;
    while (drop < lines.length && (lines.length - drop > target || entries > target)) {
      entries -= lines[drop]!.rows.length;
      drop++;
    }
    this.#entryCount = entries;
    this.lines = lines.slice(drop);
  }
}

/** Runs `go` once the next frame has been drawn (a timer where there are no frames): work
 * done before it would delay that frame, the one that shows the answer to a click. Returns
 * what cancels it. */
function nextFrame(go: () => void): () => void {
  let cancelled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = () => {
    if (cancelled) return;
    timer = setTimeout(() => {
      if (!cancelled) go();
    }, 0);
  };
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(later);
  else setTimeout(later, 16);
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}

function count(lines: Line[]): number {
  let n = 0;
  for (const l of lines) n += l.rows.length;
  return n;
}
