// Transcript <-> Raw: the click redraws only the chunks on screen (and a screen around them),
// the others follow a few per frame. Redrawing the whole window (up to RENDER_CAP rows) in the
// click took WebKitGTK 55-80 ms even idle (docs/benchmarks.md, 9).

import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LineView } from '../src/lib/bindings';
import { CHUNK_LINES, SWITCH_CHUNKS_PER_FRAME } from '../src/lib/stores/transcript.svelte';
import { backend, calledWith, defaults, listing, page, renderApp, task, textLine } from './helpers';

const RUNNING = task({ id: 5, name: 'Big task', status: 'running', finished_at_ms: null, exit: null });
const LINES = 1000;
const VIEW_PX = 600;
const CHUNK_PX = 800;

/** jsdom lays nothing out: the scroller is VIEW_PX high and pinned to the bottom, each chunk
 * CHUNK_PX high, the newest last; so the newest chunk and the one before it are within a
 * screen of the view. */
function layOut() {
  const real = Element.prototype.getBoundingClientRect;
  vi.spyOn(Element.prototype, 'getBoundingClientRect').mockImplementation(function (this: Element) {
    const rect = (top: number, height: number) => ({ top, bottom: top + height, height, left: 0, right: 400, width: 400, x: 0, y: top, toJSON: () => ({}) }) as DOMRect;
    if (this.matches('[data-testid=transcript]')) return rect(0, VIEW_PX);
    if (this.parentElement?.classList.contains('chunks')) {
      const all = [...this.parentElement.children];
      const fromEnd = all.length - 1 - all.indexOf(this);
      return rect(VIEW_PX - CHUNK_PX * (fromEnd + 1), CHUNK_PX);
    }
    return real.call(this);
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

const count = (css: string) => document.querySelectorAll(`[data-testid=transcript] ${css}`).length;
const lines = (n: number): LineView[] => Array.from({ length: n }, (_, i) => textLine(i));

describe('Transcript and Raw', () => {
  it('redraw the chunks on screen at once and the rest in the next frames', async () => {
    const calls = backend(defaults({ list_tasks: listing([RUNNING]), get_task: () => RUNNING, task_output: () => page(lines(LINES)) }));
    const r = await renderApp();
    r.app.openTask(5);
    await waitFor(() => expect(calledWith(calls, 'task_output').length).toBeGreaterThan(0));
    await waitFor(() => expect(count('[data-testid=entry-text]')).toBe(LINES));
    layOut();

    await fireEvent.click(screen.getByRole('button', { name: 'Raw' }));
    // Drawn by the click: the newest two chunks only.
    expect(screen.getByRole('button', { name: 'Raw' }).getAttribute('aria-pressed')).toBe('true');
    expect(count('[data-testid=raw-line]')).toBe(2 * CHUNK_LINES);
    expect(count('[data-testid=raw-line]') + count('[data-testid=entry-text]')).toBe(LINES);
    const raw = [...document.querySelectorAll('[data-testid=transcript] [data-testid=raw-line]')].map((e) => e.textContent);
    expect(raw[0]).toBe(`line ${LINES - 2 * CHUNK_LINES}`);
    expect(raw.at(-1)).toBe(`line ${LINES - 1}`);
    // The rest, SWITCH_CHUNKS_PER_FRAME chunks a frame, newest first.
    await waitFor(() => expect(count('[data-testid=raw-line]')).toBeGreaterThan(2 * CHUNK_LINES));
    expect(count('[data-testid=raw-line]')).toBeLessThanOrEqual((2 + SWITCH_CHUNKS_PER_FRAME) * CHUNK_LINES);
    expect(document.querySelector('[data-testid=transcript] .chunk:first-child [data-testid=entry-text]')).not.toBeNull();
    await waitFor(() => expect(count('[data-testid=raw-line]')).toBe(LINES));
    expect(count('[data-testid=entry-text]')).toBe(0);

    // And back, the same way; a click in the middle of a switch goes on from where it is.
    await fireEvent.click(screen.getByRole('button', { name: 'Transcript' }));
    expect(count('[data-testid=entry-text]')).toBe(2 * CHUNK_LINES);
    await fireEvent.click(screen.getByRole('button', { name: 'Raw' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Transcript' }));
    await waitFor(() => expect(count('[data-testid=entry-text]')).toBe(LINES));
    expect(count('[data-testid=raw-line]')).toBe(0);
  });

  it('new output is drawn in the form shown', async () => {
    const calls = backend(defaults({ list_tasks: listing([RUNNING]), get_task: () => RUNNING, task_output: () => page(lines(10)) }));
    const r = await renderApp();
    r.app.openTask(5);
    await waitFor(() => expect(calledWith(calls, 'task_output').length).toBeGreaterThan(0));
    await waitFor(() => expect(count('[data-testid=entry-text]')).toBe(10));
    await fireEvent.click(screen.getByRole('button', { name: 'Raw' }));
    r.app.transcript!.ingest(Array.from({ length: 2 * CHUNK_LINES }, (_, i) => textLine(10 + i)));
    await waitFor(() => expect(count('[data-testid=raw-line]')).toBe(10 + 2 * CHUNK_LINES));
    expect(count('[data-testid=entry-text]')).toBe(0);
  });
});
