// The task view: live output through events, text-only rendering, the DOM cap, actions.

import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { LineView, TaskRecord } from '../src/lib/bindings';
import { RENDER_CAP } from '../src/lib/stores/transcript.svelte';
import { backend, calledWith, defaults, emitEvent, line, page, renderApp, task, textLine, type Handler, listing } from './helpers';

const RUNNING = task({ id: 5, name: 'Live task', status: 'running', finished_at_ms: null, exit: null });

async function openTask(t: TaskRecord, output: () => ReturnType<typeof page>, over: Record<string, Handler> = {}) {
  const calls = backend(defaults({ list_tasks: listing(() => [t]), get_task: () => t, task_output: output, ...over }));
  const r = await renderApp();
  r.app.openTask(t.id);
  await waitFor(() => expect(calledWith(calls, 'task_output').length).toBeGreaterThan(0));
  await waitFor(() => expect(r.app.transcript?.loading).toBe(false));
  return { ...r, calls };
}

const rowTexts = () => [...document.querySelectorAll('[data-testid=transcript] .row')].map((e) => e.textContent);
const batch = (from: number, to: number): LineView[] => Array.from({ length: to - from }, (_, i) => textLine(from + i));

describe('task view', () => {
  it('appends live output in order, ignores duplicates, re-fetches on a gap', async () => {
    let snapshot = page([textLine(0), textLine(1)]);
    const { calls } = await openTask(RUNNING, () => snapshot);
    expect(rowTexts()).toEqual(['line 0', 'line 1']);

    await emitEvent('task://output', { id: 5, lines: [textLine(2), textLine(3)] });
    await emitEvent('task://output', { id: 5, lines: [textLine(3)] }); // duplicate
    await emitEvent('task://output', { id: 99, lines: [textLine(4)] }); // another task
    await waitFor(() => expect(rowTexts()).toEqual(['line 0', 'line 1', 'line 2', 'line 3']));
    expect(calledWith(calls, 'task_output')).toHaveLength(1);

    snapshot = page(batch(0, 7));
    await emitEvent('task://output', { id: 5, lines: [textLine(6)] }); // 4 and 5 missed
    await waitFor(() => expect(rowTexts()).toEqual(batch(0, 7).map((l) => `line ${l.seq}`)));
    expect(calledWith(calls, 'task_output')).toHaveLength(2);

    snapshot = page(batch(0, 9));
    await emitEvent('task://resync', { id: 5 });
    await waitFor(() => expect(rowTexts()).toHaveLength(9));
  });

  it('renders HTML-looking output as text', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await openTask(RUNNING, () =>
      page([
        line(0, [{ kind: 'text', text: evil }]),
        line(1, [{ kind: 'toolCall', id: 't', name: 'Bash', summary: evil, input: { command: evil } }]),
        line(2, [{ kind: 'toolResult', toolUseId: 't', text: `${evil}\n${evil}`, isError: false }]),
        { seq: 3, stream: 'stderr', text: evil, continued: false, entries: [{ kind: 'plain', text: evil }] },
      ]),
    );
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getAllByText(evil).length).toBeGreaterThanOrEqual(3);
    await fireEvent.click(screen.getByRole('button', { name: '1 more line' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Raw' }));
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getAllByText(evil).length).toBeGreaterThanOrEqual(1);
  });

  it('keeps the DOM bounded: 10,000 lines render at most RENDER_CAP rows, with Load earlier', async () => {
    const { calls } = await openTask(RUNNING, () => page([]), {
      task_log_page: (a: Record<string, unknown>) => page(batch((a.beforeSeq as number) - 500, a.beforeSeq as number), 10_000),
    });
    // 100 lines a batch: the view renders every line (bigger batches restart the window).
    for (let s = 0; s < 10_000; s += 100) await emitEvent('task://output', { id: 5, lines: batch(s, s + 100) });
    await waitFor(() => expect(rowTexts().at(-1)).toBe('line 9999'));
    expect(rowTexts().length).toBeLessThanOrEqual(RENDER_CAP);
    expect(rowTexts().length).toBeGreaterThan(RENDER_CAP / 2);
    expect(screen.getByText('10,000 lines')).toBeTruthy();
    const first = Number(rowTexts()[0]!.replace('line ', ''));

    await fireEvent.click(screen.getByRole('button', { name: 'Load earlier' }));
    await waitFor(() => expect(rowTexts()[0]).toBe(`line ${first - 500}`));
    expect(rowTexts().length).toBeLessThanOrEqual(RENDER_CAP);
    expect(calledWith(calls, 'task_log_page')).toEqual([{ id: 5, beforeSeq: first, count: 500 }]);
    // Reading older output: the newest lines left the DOM; Jump to latest brings them back.
    await fireEvent.click(screen.getByRole('button', { name: /Jump to latest/ }));
    await waitFor(() => expect(calledWith(calls, 'task_output')).toHaveLength(2));
  });

  it('a flood (500-line batches) keeps the DOM small and the newest line shown', async () => {
    await openTask(RUNNING, () => page([]));
    for (let s = 0; s < 10_000; s += 500) await emitEvent('task://output', { id: 5, lines: batch(s, s + 500) });
    await waitFor(() => expect(rowTexts().at(-1)).toBe('line 9999'));
    expect(rowTexts().length).toBeLessThanOrEqual(RENDER_CAP);
    expect(screen.getByRole('button', { name: 'Load earlier' })).toBeTruthy();
  });

  it('shows tool calls compactly, tool results collapsed, errors and the result card', async () => {
    await openTask(RUNNING, () =>
      page([
        line(0, [{ kind: 'system', subtype: 'init', text: 'session s-1 · model m' }]),
        line(1, [
          { kind: 'text', text: 'Let me look.\nSecond line.' },
          { kind: 'toolCall', id: 't1', name: 'Bash', summary: 'ls -la', input: { command: 'ls -la' } },
        ]),
        line(2, [{ kind: 'toolResult', toolUseId: 't1', text: 'a\nb\nc', isError: true }]),
        { seq: 3, stream: 'tasktray', text: 'agent missing', continued: false, entries: [{ kind: 'plain', text: 'agent missing' }] },
        line(4, [{ kind: 'result', is_error: false, subtype: 'success', text: 'All done', cost_usd: 0.5, session_cost_usd: 0.5, num_turns: 2, denied_tools: 0, duration_ms: 2500, session_id: 's-1' }]),
      ]),
    );
    expect(screen.getByText('Bash').closest('button')?.textContent).toContain('ls -la');
    expect(screen.getByText(/^Let me look\.\s+Second line\.$/)).toBeTruthy();
    const more = screen.getByRole('button', { name: '2 more lines' });
    expect(more.closest('.row')?.classList.contains('error')).toBe(true);
    expect(screen.queryByText(/^b$/m)).toBeNull();
    await fireEvent.click(more);
    expect(document.querySelector('.tool-result pre')?.textContent).toBe('a\nb\nc');
    expect(screen.getByText('agent missing').closest('.row')?.classList.contains('tasktray')).toBe(true);
    expect(screen.getByText('2.5s · 2 turns · $0.5000')).toBeTruthy();
    expect(screen.getByText('All done')).toBeTruthy();
  });

  it('cancels a running task', async () => {
    const { calls } = await openTask(RUNNING, () => page([]), { cancel_task: () => null });
    expect(screen.queryByRole('button', { name: 'Remove' })).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(calledWith(calls, 'cancel_task')).toEqual([{ id: 5 }]));
  });

  it('says Cancelling… from the click until the task has ended', async () => {
    let current = RUNNING;
    await openTask(RUNNING, () => page([]), { cancel_task: () => null, get_task: () => current });
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    const badge = () => screen.getByTestId('task-view').querySelector('[data-testid=status-badge]')!;
    await waitFor(() => expect(badge().textContent).toContain('Cancelling…'));
    expect((screen.getByTestId('task-cancel') as HTMLButtonElement).disabled).toBe(true);
    // Still running during the grace period: still cancelling.
    await emitEvent('task://changed', { id: 5, kind: 'statusChanged', message: 'running' });
    expect(badge().textContent).toContain('Cancelling…');
    current = { ...RUNNING, status: 'cancelled', finished_at_ms: 1_070_000 };
    await emitEvent('task://changed', { id: 5, kind: 'cancelled', message: null });
    await waitFor(() => expect(badge().textContent).toContain('Cancelled'));
    expect(badge().textContent).not.toContain('Cancelling');
  });

  it('watches a task another program runs: no message box, a note saying where it is answered', async () => {
    const theirs = task({ ...RUNNING, owner: { pid: 4242, start_ticks: 9 } });
    const { calls } = await openTask(theirs, () => page([]), { cancel_task: () => null });
    await waitFor(() => expect(screen.getByTestId('task-elsewhere').textContent).toContain('pid 4242'));
    expect(screen.queryByTestId('message-box')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(calledWith(calls, 'cancel_task')).toEqual([{ id: 5 }]));
  });

  it('talks to a task this app runs', async () => {
    const ours = task({ ...RUNNING, owner: { pid: 100, start_ticks: 7 } });
    await openTask(ours, () => page([]));
    await waitFor(() => expect(screen.getByTestId('message-box')).toBeTruthy());
    expect(screen.queryByTestId('task-elsewhere')).toBeNull();
  });

  it('copies the readable output, or offers to save it when it is too much for the clipboard', async () => {
    let big = false;
    const { calls } = await openTask(task({ id: 5 }), () => page([textLine(0)]), {
      copy_output: () => {
        if (big) throw { code: 'TooLargeToCopy', message: 'the output is more than 4 MiB, too much for the clipboard: save it to a file instead' };
        return null;
      },
      save_output: () => true,
    });
    await fireEvent.click(screen.getByTestId('copy-output'));
    await waitFor(() => expect(screen.getByTestId('copy-output').textContent).toBe('Copied ✓'));
    expect(calledWith(calls, 'copy_output')).toEqual([{ id: 5, raw: false }]);
    big = true;
    await fireEvent.click(screen.getByTestId('copy-output'));
    expect((await screen.findByTestId('too-large')).textContent).toContain('too much for the clipboard');
    await fireEvent.click(screen.getByTestId('save-output'));
    await waitFor(() => expect(calledWith(calls, 'save_output')).toEqual([{ id: 5, raw: false }]));
    await waitFor(() => expect(screen.getByTestId('too-large').textContent).toContain('Saved ✓'));
  });

  it('follows up a finished task with a kept session, then opens the new task', async () => {
    const done = task({ id: 8, status: 'completed', session_id: 's-8', options: { format: 'stream-json', permission_mode: 'plan', model: null, keep_session: true, resume: null, allowed_tools: [], worktree: false } });
    const { calls, app } = await openTask(done, () => page([]), { follow_up: () => 9 });
    await fireEvent.click(screen.getByRole('button', { name: 'Follow up' }));
    const box = screen.getByLabelText('Follow-up prompt');
    await fireEvent.input(box, { target: { value: 'Now add tests.' } });
    await fireEvent.keyDown(box, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(calledWith(calls, 'follow_up')).toEqual([{ id: 8, prompt: 'Now add tests.' }]));
    await waitFor(() => expect(app.router.route).toEqual({ view: 'task', id: 9 }));
  });

  it('offers no follow-up without a kept session', async () => {
    await openTask(task({ id: 8, session_id: 's-8' }), () => page([]));
    expect(screen.queryByRole('button', { name: 'Follow up' })).toBeNull();
  });

  it('removes a finished task after confirming, and links to the parent task', async () => {
    const child = task({ id: 4, follow_up_of: 2 });
    const { calls, app } = await openTask(child, () => page([]), { remove_task: () => null });
    expect(screen.getByRole('button', { name: '#2' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    expect(calledWith(calls, 'remove_task')).toHaveLength(0);
    await fireEvent.click(screen.getByRole('button', { name: 'Keep' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(calledWith(calls, 'remove_task')).toEqual([{ id: 4 }]));
    await waitFor(() => expect(app.router.route).toEqual({ view: 'list' }));
  });

  it('shows reasons whole and without the [tasktray] tag', async () => {
    const long = `API Error: 500 ${'{"type":"error","error":{"type":"api_error","message":"Internal server error"}} '.repeat(40)}`.trim();
    const failed = task({ id: 6, status: 'failed', error: '[tasktray] the agent exited with code 1: boom' });
    await openTask(failed, () =>
      page([
        { seq: 0, stream: 'tasktray', text: '[tasktray] the agent exited with code 1: boom', continued: false, entries: [{ kind: 'plain', text: '[tasktray] the agent exited with code 1: boom' }] },
        line(1, [{ kind: 'result', is_error: true, subtype: 'error_during_execution', text: long, cost_usd: null, session_cost_usd: null, num_turns: 1, denied_tools: 0, duration_ms: 100, session_id: null }]),
      ]),
    );
    expect(screen.getByTestId('task-error').textContent).toBe('the agent exited with code 1: boom');
    expect(screen.getByTestId('entry-plain').textContent).toBe('Tasktray: the agent exited with code 1: boom');
    expect(screen.getByTestId('result-text').textContent).toBe(long);
    await fireEvent.click(screen.getByRole('button', { name: 'Show all' }));
    expect(screen.getByRole('button', { name: 'Show less' })).toBeTruthy();
  });

  it('shows a failure without a result line, with its fix', async () => {
    const failure =
      'The agent exited with code 1: --dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons. Claude Code refuses the Bypass permissions mode when it runs as root. Choose another permission mode ("Ask me" lets you approve each tool), or run Tasktray as a regular user.';
    const refused = task({ id: 7, status: 'failed', error: null, result: null, failure });
    await openTask(refused, () => page([]));
    expect(screen.getByTestId('task-error').textContent).toBe(failure);
  });

  it('says which tools were refused and why, and leads to them', async () => {
    const why = 'Permission to use Bash with command rm -rf /tmp/x has been denied because Claude Code is running in don\'t ask mode.';
    await openTask(task({ id: 6, status: 'completed' }), () =>
      page([
        line(0, [{ kind: 'toolCall', id: 't1', name: 'Bash', summary: 'cargo test', input: { command: 'cargo test' } }]),
        line(1, [{ kind: 'toolResult', toolUseId: 't1', text: 'test failed', isError: true }]),
        line(2, [{ kind: 'toolCall', id: 't2', name: 'Bash', summary: 'rm -rf /tmp/x', input: { command: 'rm -rf /tmp/x' } }]),
        line(3, [{ kind: 'toolResult', toolUseId: 't2', text: why, isError: true }]),
        line(4, [{ kind: 'result', is_error: false, subtype: 'success', text: 'Done, mostly.', cost_usd: 0.01, session_cost_usd: 0.01, num_turns: 3, denied_tools: 1, duration_ms: 900, session_id: null }]),
      ]),
    );
    const refusals = screen.getByTestId('refusals');
    expect(refusals.textContent).toContain('Bash');
    expect(refusals.textContent).toContain('rm -rf /tmp/x');
    expect(refusals.textContent).toContain(why);
    expect(refusals.textContent).not.toContain('test failed');
    await fireEvent.click(screen.getByRole('button', { name: '1 tool refused' }));
    expect(document.activeElement?.getAttribute('data-tool-use-id')).toBe('t2');
    // The row itself shows the whole reason, not a cut first line.
    expect((document.activeElement as HTMLElement).textContent).toContain(why);
  });

  it('counts a tool the user denied with a message as refused', async () => {
    await openTask(task({ id: 6, status: 'completed' }), () =>
      page([
        line(0, [{ kind: 'toolCall', id: 't1', name: 'Bash', summary: 'cargo test', input: { command: 'cargo test' } }]),
        line(1, [{ kind: 'toolResult', toolUseId: 't1', text: 'test failed', isError: true }]),
        line(2, [{ kind: 'toolCall', id: 't2', name: 'Bash', summary: 'git push', input: { command: 'git push' } }]),
        line(3, [{ kind: 'answer', requestId: 'r2', tool: 'Bash', summary: 'git push', outcome: 'denied', message: 'Not yet: CI is red' }]),
        line(4, [{ kind: 'toolResult', toolUseId: 't2', text: 'Not yet: CI is red', isError: true }]),
        line(5, [{ kind: 'result', is_error: false, subtype: 'success', text: 'Stopped before pushing.', cost_usd: null, session_cost_usd: null, num_turns: 2, denied_tools: 1, duration_ms: 900, session_id: null }]),
      ]),
    );
    const refusals = screen.getByTestId('refusals');
    expect(refusals.textContent).toContain('Not yet: CI is red');
    expect(refusals.textContent).not.toContain('test failed');
  });
});
