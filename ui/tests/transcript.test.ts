// The live output window: order, duplicates, gaps, the cap, pausing and Load earlier.

import { waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_LINES,
  FOLLOW_BATCH_LINES,
  PAGE_LINES,
  REFETCH_INTERVAL_MS,
  RENDER_CAP,
  Transcript,
} from '../src/lib/stores/transcript.svelte';
import { backend, calledWith, page, textLine } from './helpers';
import type { OutputPage } from '../src/lib/bindings';

/** Long enough for a few fetches spaced REFETCH_INTERVAL_MS apart on a busy machine. */
const SPACED = { timeout: 5000 };
const seqs = (t: Transcript) => t.lines.map((l) => l.seq);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => textLine(from + i));

async function loaded(initial = range(0, 3), next?: number) {
  let snapshot = page(initial, next);
  const calls = backend({
    task_output: () => snapshot,
    task_log_page: (a) => {
      const before = a.beforeSeq as number;
      const from = Math.max(0, before - (a.count as number));
      return { lines: range(from, before), first_seq: from, next_seq: snapshot.next_seq };
    },
  });
  const t = new Transcript(1);
  await t.reload();
  return { t, calls, setSnapshot: (p: typeof snapshot) => (snapshot = p) };
}

describe('Transcript', () => {
  it('appends live lines in order and ignores duplicates', async () => {
    const { t } = await loaded();
    t.ingest([textLine(3), textLine(4)]);
    t.ingest([textLine(4), textLine(2), textLine(5)]);
    expect(seqs(t)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(t.nextSeq).toBe(6);
    expect(t.rows.map((r) => r.entry?.kind === 'text' && r.entry.text)).toContain('line 5');
  });

  it('re-fetches the tail on a gap, then replays what came after it', async () => {
    const { t, calls, setSnapshot } = await loaded();
    setSnapshot(page(range(0, 8)));
    t.ingest([textLine(10), textLine(11)]); // 3..9 were missed
    await waitFor(() => expect(calledWith(calls, 'task_output')).toHaveLength(2));
    await waitFor(() => expect(t.loading).toBe(false));
    // The snapshot had 0..7; 8 and 9 are still missing, so 10 is a gap again: one more fetch.
    setSnapshot(page(range(0, 12)));
    await waitFor(() => expect(seqs(t)).toEqual(range(0, 12).map((l) => l.seq)));
    expect(calledWith(calls, 'task_output').length).toBeGreaterThanOrEqual(3);
  });

  it('queues lines that arrive during a fetch and drops the ones the snapshot holds', async () => {
    const { t, setSnapshot } = await loaded();
    setSnapshot(page(range(0, 6)));
    const fetching = t.reload();
    t.ingest([textLine(4), textLine(5), textLine(6)]);
    await fetching;
    expect(seqs(t)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('keeps at most RENDER_CAP lines and offers the dropped ones again', async () => {
    const { t, calls } = await loaded([]);
    for (let s = 0; s < 10_000; s += FOLLOW_BATCH_LINES) t.ingest(range(s, s + FOLLOW_BATCH_LINES));
    expect(t.lines.length).toBeLessThanOrEqual(RENDER_CAP);
    expect(t.rows.length).toBeLessThanOrEqual(RENDER_CAP);
    expect(t.lines.at(-1)?.seq).toBe(9_999);
    expect(t.hasEarlier).toBe(true);
    const first = t.lines[0]!.seq;

    t.setFollowing(false);
    await t.loadEarlier();
    expect(calledWith(calls, 'task_log_page')[0]).toEqual({ id: 1, beforeSeq: first, count: PAGE_LINES });
    expect(t.lines[0]?.seq).toBe(first - PAGE_LINES);
    expect(t.lines.length).toBeLessThanOrEqual(RENDER_CAP);
    // Over the cap, the newest lines went: the window no longer reaches the tail.
    expect(t.detached).toBe(true);
    expect(t.newerCount).toBe(10_000 - 1 - t.lines.at(-1)!.seq);
  });

  it('prepares only the last RENDER_CAP lines of a big snapshot', async () => {
    const { t } = await loaded(range(0, RENDER_CAP + 3000));
    expect(t.lines).toHaveLength(RENDER_CAP);
    expect(t.lines[0]?.seq).toBe(3000);
    expect(t.hasEarlier).toBe(true);
  });

  it('following a flood, a big batch restarts the window at its last lines', async () => {
    const { t } = await loaded(range(0, 10));
    t.ingest(range(10, 510));
    expect(seqs(t)).toEqual(range(510 - FOLLOW_BATCH_LINES, 510).map((l) => l.seq));
    expect(t.hasEarlier).toBe(true);
    t.ingest(range(510, 520));
    expect(t.lines.length).toBe(FOLLOW_BATCH_LINES + 10);
  });

  it('following a flood, a resync keeps only the last lines of the tail; Load earlier brings the rest', async () => {
    const { t, calls, setSnapshot } = await loaded(range(0, 10));
    setSnapshot(page(range(0, 1000)));
    t.resync();
    await waitFor(() => expect(calledWith(calls, 'task_output')).toHaveLength(2), SPACED);
    // Only those lines are asked for (the ring may hold 100,000).
    expect(calledWith(calls, 'task_output')).toEqual([
      { id: 1, tail: RENDER_CAP },
      { id: 1, tail: FOLLOW_BATCH_LINES },
    ]);
    await waitFor(() => expect(seqs(t)).toEqual(range(1000 - FOLLOW_BATCH_LINES, 1000).map((l) => l.seq)), SPACED);
    expect(t.following).toBe(true);
    expect(t.hasEarlier).toBe(true);
    await t.loadEarlier();
    expect(t.lines[0]?.seq).toBe(1000 - FOLLOW_BATCH_LINES - PAGE_LINES);
    expect(t.lines.at(-1)?.seq).toBe(999);
  });

  it('a resync that asks for the whole tail (the window shown again) keeps it, also when a flood asked for less', async () => {
    const { t, calls, setSnapshot } = await loaded(range(0, 10));
    setSnapshot(page(range(0, 1000)));
    t.resync(RENDER_CAP);
    await waitFor(() => expect(t.lines).toHaveLength(1000), SPACED);
    setSnapshot(page(range(0, 1200)));
    t.resync(); // a flood's: the last lines only...
    t.resync(RENDER_CAP); // ...but the window was shown again before that fetch began: one fetch
    await waitFor(() => expect(calledWith(calls, 'task_output')).toHaveLength(3), SPACED);
    await waitFor(() => expect(t.lines).toHaveLength(1200), SPACED);
  });

  it('spaces the fetches that resyncs ask for: each starts REFETCH_INTERVAL_MS after the last', async () => {
    const started: number[] = [];
    let snapshot: OutputPage = page(range(0, 10));
    backend({
      task_output: () => {
        started.push(Date.now());
        return snapshot;
      },
    });
    const t = new Transcript(1);
    await t.reload();
    snapshot = page(range(0, 500));
    t.resync();
    t.resync(); // a flood: resyncs come faster than fetches; these two make one
    await waitFor(() => expect(started).toHaveLength(2), SPACED);
    t.resync();
    await waitFor(() => expect(started).toHaveLength(3), SPACED);
    await waitFor(() => expect(seqs(t).at(-1)).toBe(499), SPACED);
    for (let i = 1; i < started.length; i++) {
      expect(started[i]! - started[i - 1]!).toBeGreaterThanOrEqual(REFETCH_INTERVAL_MS - 5);
    }
    expect(t.loading).toBe(false);
  });

  it('groups the window in chunks that keep their identity', async () => {
    const { t } = await loaded(range(0, CHUNK_LINES + 5));
    const [a, b] = t.chunks;
    expect(t.chunks.map((c) => c.lines.length)).toEqual([CHUNK_LINES, 5]);
    t.ingest(range(CHUNK_LINES + 5, CHUNK_LINES + 6));
    expect(t.chunks[0]).toBe(a);
    expect(t.chunks[1]).toBe(b);
    expect(b!.lines).toHaveLength(6);
    t.setRaw(true);
    expect(b!.rows[0]?.entry).toBeNull();
  });

  it('while paused, never drops what the user reads; past the cap it detaches and counts', async () => {
    const { t, calls, setSnapshot } = await loaded();
    t.setFollowing(false);
    t.ingest(range(3, RENDER_CAP + 10));
    expect(t.lines[0]?.seq).toBe(0);
    expect(t.lines.length).toBe(RENDER_CAP);
    expect(t.detached).toBe(true);
    t.ingest(range(RENDER_CAP + 10, RENDER_CAP + 20));
    expect(t.newerCount).toBe(20);

    setSnapshot(page(range(RENDER_CAP + 10, RENDER_CAP + 20)));
    t.jumpToLatest();
    await waitFor(() => expect(t.detached).toBe(false));
    expect(calledWith(calls, 'task_output')).toHaveLength(2);
    expect(t.following).toBe(true);
    expect(t.lines.at(-1)?.seq).toBe(RENDER_CAP + 19);
  });

  it('a resync while paused only detaches; while following it re-fetches', async () => {
    const { t, calls } = await loaded();
    t.setFollowing(false);
    t.resync();
    expect(t.detached).toBe(true);
    expect(calledWith(calls, 'task_output')).toHaveLength(1);
    t.jumpToLatest();
    await waitFor(() => expect(calledWith(calls, 'task_output')).toHaveLength(2));
  });

  it('strips ANSI codes from lines and entries once, on the way in', async () => {
    const { t } = await loaded([]);
    t.ingest([{ seq: 0, stream: 'stderr', text: '\x1b[31mred\x1b[0m', continued: false, entries: [{ kind: 'plain', text: '\x1b[31mred\x1b[0m' }] }]);
    expect(t.lines[0]?.text).toBe('red');
    expect(t.rows[0]?.entry).toEqual({ kind: 'plain', text: 'red' });
  });
});
