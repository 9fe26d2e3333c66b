// Requests from two-way tasks: the store, the cards in the task view, the answers.

import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { Approval, TaskRecord } from '../src/lib/bindings';
import { approval, backend, calledWith, defaults, emitEvent, line, page, renderApp, task, type Handler, listing } from './helpers';

const WAITING = task({ id: 5, name: 'Push it', status: 'waiting', finished_at_ms: null, exit: null });

async function openTask(t: TaskRecord, open: () => Approval[], over: Record<string, Handler> = {}) {
  const calls = backend(defaults({ list_tasks: listing(() => [t]), get_task: () => t, pending_approvals: open, ...over }));
  const r = await renderApp();
  r.app.openTask(t.id);
  await waitFor(() => expect(r.app.transcript?.loading).toBe(false));
  return { ...r, calls };
}

const card = () => screen.getByTestId('approval-card');

describe('approvals store', () => {
  it('loads at start and again on request, answer, status and end events', async () => {
    let open: Approval[] | Promise<Approval[]> = [approval()];
    const calls = backend(defaults({ list_tasks: listing(() => [WAITING]), get_task: () => WAITING, pending_approvals: () => open }));
    const { app } = await renderApp();
    const ids = () => app.approvals.forTask(5).map((a) => a.request_id);
    await waitFor(() => expect(ids()).toEqual(['req-1']));
    expect(calledWith(calls, 'pending_approvals')).toHaveLength(1);

    const two = [approval(), approval({ request_id: 'req-2', tool: 'Write', input: { file_path: '/p/a.txt', content: 'x' } })];
    open = two;
    await emitEvent('task://changed', { id: 5, kind: 'approvalRequested', message: 'req-2' });
    await waitFor(() => expect(ids()).toEqual(['req-1', 'req-2']));

    // Resolved elsewhere: gone at once, before the fetch answers.
    let release!: () => void;
    open = new Promise<Approval[]>((r) => (release = () => r([two[1]!])));
    await emitEvent('task://changed', { id: 5, kind: 'approvalResolved', message: 'req-1' });
    expect(ids()).toEqual(['req-2']);
    release();
    await waitFor(() => expect(calledWith(calls, 'pending_approvals')).toHaveLength(3));

    open = [two[1]!];
    await emitEvent('task://changed', { id: 5, kind: 'statusChanged', message: null });
    await waitFor(() => expect(calledWith(calls, 'pending_approvals')).toHaveLength(4));
    await emitEvent('task://changed', { id: 5, kind: 'spawned', message: null });
    expect(calledWith(calls, 'pending_approvals')).toHaveLength(4);
    await emitEvent('task://changed', { id: 5, kind: 'cancelled', message: null });
    expect(ids()).toEqual([]);
    await waitFor(() => expect(calledWith(calls, 'pending_approvals')).toHaveLength(5));
  });
});

describe('request cards', () => {
  it('names the file a command writes, and warns only when it is outside the project', async () => {
    const inside = [approval({ input: { command: 'echo x > out.txt' }, blocked_path: '/home/u/code/proj/out.txt' })];
    await openTask(WAITING, () => inside);
    const blocked = await screen.findByTestId('approval-blocked');
    expect(blocked.textContent).toContain('Writes to /home/u/code/proj/out.txt');
    expect(blocked.textContent).not.toContain('Outside');
  });

  it('shows a Bash request whole, focuses Allow, and answers it', async () => {
    const command = 'cargo build --release && ./target/release/tool --flag ' + 'x'.repeat(300);
    let open = [
      approval({
        input: { command },
        description: 'Build and run the tool',
        blocked_path: '/etc/tool.conf',
        expires_at_ms: Date.now() + 29.5 * 60_000,
      }),
    ];
    const { calls } = await openTask(WAITING, () => open, { answer_approval: () => null });
    await screen.findByTestId('approval-card');
    expect(within(card()).getByRole('heading').textContent).toBe('Bash asks to run');
    expect(screen.getByTestId('approval-command').textContent).toBe(command);
    expect(screen.getByTestId('approval-description').textContent).toBe('Build and run the tool');
    expect(screen.getByTestId('approval-blocked').textContent).toContain('/etc/tool.conf');
    expect(screen.getByTestId('approval-blocked').textContent).toContain('Outside the project');
    expect(screen.getByTestId('approval-expires').textContent).toBe('denied automatically in 29 min');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Allow' })));

    open = [];
    await fireEvent.click(screen.getByRole('button', { name: 'Allow' }));
    await waitFor(() => expect(screen.queryByTestId('approval-card')).toBeNull());
    expect(calledWith(calls, 'answer_approval')).toEqual([{ id: 5, requestId: 'req-1', decision: { decision: 'allow' } }]);
  });

  it('shows a Write request with its path, whole content and line count', async () => {
    const content = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    await openTask(WAITING, () => [approval({ tool: 'Write', input: { file_path: '/home/u/code/proj/notes.md', content } })]);
    await screen.findByTestId('approval-card');
    expect(within(card()).getByRole('heading').textContent).toBe('Write asks to write');
    expect(screen.getByTestId('approval-path').textContent).toBe('/home/u/code/proj/notes.md');
    expect(screen.getByText('40 lines')).toBeTruthy();
    expect(screen.getByTestId('approval-content').textContent).toBe(content);
  });

  it('shows an Edit as a -/+ diff, and other tools as JSON', async () => {
    await openTask(WAITING, () => [
      approval({ tool: 'Edit', input: { file_path: 'src/a.rs', old_string: 'fn a() {\n    old();\n}', new_string: 'fn a() {\n    new();\n}' } }),
      approval({ request_id: 'req-2', tool: 'WebFetch', input: { url: 'https://example.com', prompt: 'Read it' } }),
    ]);
    await waitFor(() => expect(screen.getAllByTestId('approval-card')).toHaveLength(2));
    const parts = [...screen.getByTestId('approval-diff').querySelectorAll('.part')].map((p) => [p.classList[1], p.textContent]);
    expect(parts).toEqual([
      ['same', '  fn a() {'],
      ['del', '-     old();'],
      ['add', '+     new();'],
      ['same', '  }'],
    ]);
    expect(JSON.parse(screen.getByTestId('approval-json').textContent!)).toEqual({ url: 'https://example.com', prompt: 'Read it' });
  });

  it('Deny sends the message; Allow always answers allowAlways', async () => {
    let open = [approval(), approval({ request_id: 'req-2' })];
    const { calls } = await openTask(WAITING, () => open, {
      answer_approval: (a) => {
        open = open.filter((o) => o.request_id !== a.requestId);
        return null;
      },
    });
    await waitFor(() => expect(screen.getAllByTestId('approval-card')).toHaveLength(2));
    const [first, second] = screen.getAllByTestId('approval-card');
    expect(within(second!).getByText('“Always” allows Bash(git push:*) for the rest of this task.')).toBeTruthy();
    await fireEvent.input(within(first!).getByLabelText('Message to the agent (optional)'), { target: { value: ' Use a PR instead ' } });
    await fireEvent.click(within(first!).getByRole('button', { name: 'Deny' }));
    await fireEvent.click(within(second!).getByRole('button', { name: 'Allow always for this task' }));
    await waitFor(() =>
      expect(calledWith(calls, 'answer_approval')).toEqual([
        { id: 5, requestId: 'req-1', decision: { decision: 'deny', message: 'Use a PR instead' } },
        { id: 5, requestId: 'req-2', decision: { decision: 'allowAlways' } },
      ]),
    );
    await waitFor(() => expect(screen.queryAllByTestId('approval-card')).toHaveLength(0));
  });

  it('says a request was already answered elsewhere, and shows other errors on the card', async () => {
    let error = { code: 'Internal', message: 'the task did not take the answer' };
    let open = [approval()];
    await openTask(WAITING, () => open, {
      answer_approval: () => {
        throw error;
      },
    });
    await screen.findByTestId('approval-card');
    await fireEvent.click(screen.getByRole('button', { name: 'Allow' }));
    expect((await screen.findByTestId('approval-error')).textContent).toBe('The task did not take the answer');

    error = { code: 'ApprovalNotFound', message: 'no open request req-1 of task 5' };
    open = [];
    await fireEvent.click(screen.getByRole('button', { name: 'Allow' }));
    expect((await screen.findByTestId('approval-gone')).textContent).toMatch(/Already answered elsewhere/);
    expect(screen.queryByTestId('approval-card')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('approval-gone')).toBeNull();
  });

  it('goes away when answered anywhere else', async () => {
    let open = [approval()];
    await openTask(WAITING, () => open);
    await screen.findByTestId('approval-card');
    open = [];
    await emitEvent('task://changed', { id: 5, kind: 'approvalResolved', message: 'req-1' });
    await waitFor(() => expect(screen.queryByTestId('approval-card')).toBeNull());
  });
});

describe('two-way transcript entries', () => {
  const asked = (seq: number, requestId: string, command: string) =>
    line(seq, [{ kind: 'approval', requestId, tool: 'Bash', summary: command, input: { command }, blockedPath: null }]);
  const answered = (seq: number, outcome: 'allowed' | 'allowedAlways' | 'allowedByRule' | 'denied' | 'timedOut' | 'withdrawn', message: string | null = null) =>
    line(seq, [{ kind: 'answer', requestId: `r${seq}`, tool: 'Bash', summary: 'x', outcome, message }]);

  it('renders requests, answers, messages, a stopped turn and notices as text', async () => {
    const output = page([
      asked(0, 'r-old', 'rm -rf build'),
      answered(1, 'allowed'),
      answered(2, 'allowedAlways'),
      answered(3, 'allowedByRule'),
      answered(4, 'denied', 'Not <b>now</b>'),
      answered(5, 'timedOut', 'Nobody answered within 30 minutes, so Tasktray denied this request.'),
      answered(6, 'withdrawn'),
      line(7, [{ kind: 'message', text: 'Please also update the docs' }]),
      line(8, [{ kind: 'system', subtype: 'interrupt', text: 'You stopped the turn' }]),
      line(9, [{ kind: 'system', subtype: 'notice', text: 'No new instruction within 30 minutes after the turn was stopped: the task ends.' }]),
      asked(10, 'req-1', 'git push origin main'),
    ]);
    await openTask(WAITING, () => [approval()], { task_output: () => output });
    const rows = screen.getAllByTestId('entry-approval');
    expect(rows[0]!.textContent).toContain('Bash asked to run: rm -rf build');
    expect(rows[1]!.textContent).toMatch(/Bash asks to run: git push origin main\s*Answer below ↓/);
    expect(screen.getAllByTestId('entry-answer').map((e) => e.textContent)).toEqual([
      '✓ Allowed',
      '✓ Allowed for the rest of the task',
      '✓ Allowed by an earlier “always”',
      '✗ Denied: Not <b>now</b>',
      '✗ Denied: no answer in time',
      'Withdrawn',
    ]);
    expect(document.querySelector('b')).toBeNull();
    expect(screen.getByTestId('entry-message').textContent).toBe('You: Please also update the docs');
    expect(screen.getByTestId('entry-interrupt').textContent).toContain('You stopped the turn');
    expect(screen.getByTestId('entry-notice').textContent).toContain('Tasktray: No new instruction');

    // "Answer below" leads to the open request's Allow.
    (document.activeElement as HTMLElement | null)?.blur();
    await fireEvent.click(screen.getByRole('button', { name: 'Answer below ↓' }));
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Allow' }));

    // A resolved request shows its whole input on demand.
    await fireEvent.click(within(rows[0]!).getByRole('button'));
    expect(within(rows[0]!).getByTestId('approval-command').textContent).toBe('rm -rf build');
  });
});
