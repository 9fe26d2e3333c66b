// Output lines as the task view keeps them, and the chunks they are rendered in.

import type { Entry, LineView, Stream } from '../bindings';
import { stripAnsi } from '../text';

/** Lines per chunk: rows are rendered in chunks of consecutive lines, and only chunks near the
 * viewport are laid out and painted (`content-visibility: auto`). Per-row containment would
 * cost an intersection check per row and frame; per chunk it is one per CHUNK_LINES rows. */
export const CHUNK_LINES = 50;

/** One rendered item. Rows are created once per line and keep their identity, so a keyed
 * `{#each}` moves nothing and keeps each row's local state (an expanded tool result). */
export type Row = { line: Line; entry: Entry | null };

/** A line as the view keeps it: ANSI stripped, with its transcript rows built once. */
export type Line = {
  seq: number;
  stream: Stream;
  text: string;
  continued: boolean;
  rows: Row[];
  raw: Row;
};

/** The entry without ANSI codes; the same object when it had none (most do not). */
function cleanEntry(e: Entry): Entry {
  switch (e.kind) {
    case 'text':
    case 'plain':
    case 'system':
    case 'message':
    case 'toolResult':
    case 'result': {
      const text = stripAnsi(e.text);
      return text === e.text ? e : { ...e, text };
    }
    case 'toolCall':
    case 'approval': {
      const summary = stripAnsi(e.summary);
      return summary === e.summary ? e : { ...e, summary };
    }
    case 'answer': {
      const message = e.message === null ? null : stripAnsi(e.message);
      return message === e.message ? e : { ...e, message };
    }
    default:
      return e;
  }
}

/** Prepares a line from the backend for display. */
export function toLine(v: LineView): Line {
  const line: Line = {
    seq: v.seq,
    stream: v.stream,
    text: stripAnsi(v.text),
    continued: v.continued,
    rows: [],
    raw: null as unknown as Row,
  };
  line.raw = { line, entry: null };
  line.rows = v.entries.map((e) => ({ line, entry: cleanEntry(e) }));
  return line;
}

/** Consecutive lines with seqs in `[key * CHUNK_LINES, (key + 1) * CHUNK_LINES)`. A chunk keeps
 * its identity while it is in the window, and only the chunk that changes recomputes its rows. */
export class Chunk {
  readonly key: number;
  lines = $state.raw<Line[]>([]);
  /** The form this chunk is drawn in: the agent's raw lines, or transcript rows. Each chunk has
   * its own, so that a switch can redraw the chunks on screen first (`Transcript.setRaw`). */
  raw = $state(false);
  rows: Row[] = $derived(this.raw ? this.lines.map((l) => l.raw) : this.lines.flatMap((l) => l.rows));

  constructor(key: number, raw: boolean) {
    this.key = key;
    this.raw = raw;
  }
}

/** Groups `lines` into chunks, reusing the chunks of `prev` and leaving unchanged ones alone.
 * New chunks are drawn raw when `raw`. */
export function rechunk(prev: Chunk[], lines: Line[], raw: boolean): Chunk[] {
  const byKey = new Map(prev.map((c) => [c.key, c]));
  const out: Chunk[] = [];
  for (let i = 0; i < lines.length; ) {
    const key = Math.floor(lines[i]!.seq / CHUNK_LINES);
    let j = i + 1;
    while (j < lines.length && Math.floor(lines[j]!.seq / CHUNK_LINES) === key) j++;
    const chunk = byKey.get(key) ?? new Chunk(key, raw);
    const cur = chunk.lines;
    if (cur.length !== j - i || cur[0] !== lines[i] || cur[cur.length - 1] !== lines[j - 1]) {
      chunk.lines = lines.slice(i, j);
    }
    out.push(chunk);
    i = j;
  }
  return out;
}
