// The task list: rendering, the filter, events that change it, navigation.

import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { approval, backend, calledWith, defaults, emitEvent, renderApp, task, textLine, listing } from './helpers';

const TASKS = [
  task({ id: 3, name: 'Running one', status: 'running', finished_at_ms: null, exit: null, line_count: 4 }),
  task({ id: 2, name: 'Done one', status: 'completed', result: { is_error: false, subtype: 'success', text: 'All good.\nmore', cost_usd: 0.04213, session_cost_usd: 0.04213, num_turns: 3, denied_tools: 0, duration_ms: 5000, session_id: 's' } }),
  task({ id: 1, name: 'Failed one', status: 'failed', project_dir: '/home/u/other', error: 'the project folder /x does not exist' }),
];

describe('task list', () => {
  it('renders tasks newest first with status, project, cost and preview', async () => {
    backend(defaults({ list_tasks: listing([TASKS[2]!, TASKS[0]!, TASKS[1]!]), task_output: () => ({ lines: [textLine(3, 'thinking hard')], first_seq: 3, next_seq: 4 }) }));
    await renderApp();
    const rows = screen.getAllByRole('listitem');
    expect(rows.map((r) => within(r).getByText(/^#\d+$/).textContent)).toEqual(['#3', '#2', '#1']);
    const done = rows[1]!;
    expect(within(done).getByText('Done')).toBeTruthy();
    expect(within(done).getByText('$0.0421')).toBeTruthy();
    expect(within(done).getByText('All good.')).toBeTruthy();
    expect(within(done).getByTitle('/home/u/code/proj').textContent).toBe('proj');
    expect(within(rows[2]!).getByText('the project folder /x does not exist')).toBeTruthy();
    // The running task has no result: its preview comes from its output tail.
    await waitFor(() => expect(within(rows[0]!).getByText('thinking hard')).toBeTruthy());
  });

  it('goes straight back to the list from deep in the views', async () => {
    backend(defaults({ list_tasks: listing(() => TASKS), get_task: (a) => TASKS.find((t) => t.id === a.id) }));
    const { app } = await renderApp();
    expect(screen.queryByTestId('to-list')).toBeNull();
    for (const id of [3, 2, 1]) app.openTask(id);
    app.router.go({ view: 'settings' });
    await fireEvent.click(await screen.findByTestId('to-list'));
    expect(app.router.route).toEqual({ view: 'list' });
    expect(screen.getByTestId('view-title').textContent).toBe('Tasks');
    expect(app.router.canGoBack).toBe(false);
  });

  it('filters running and finished tasks', async () => {
    backend(defaults({ list_tasks: listing(() => TASKS) }));
    await renderApp();
    await fireEvent.click(screen.getByRole('button', { name: 'Running' }));
    expect(screen.getAllByRole('listitem')).toHaveLength(1);
    expect(screen.getByText('Running one')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Finished' }));
    expect(screen.getAllByRole('listitem')).toHaveLength(2);
    expect(screen.queryByText('Running one')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'All' }));
    expect(screen.getAllByRole('listitem')).toHaveLength(3);
  });

  it('shows what Tasktray does when there are no tasks', async () => {
    backend(defaults());
    await renderApp();
    expect(screen.getByText('No tasks yet')).toBeTruthy();
    await fireEvent.click(screen.getAllByRole('button', { name: /New task/ }).at(-1)!);
    expect(screen.getByLabelText('Prompt')).toBeTruthy();
  });

  it('follows task://changed: re-fetches the task, drops removed ones', async () => {
    let current = TASKS[0]!;
    const calls = backend(defaults({ list_tasks: listing(() => TASKS), get_task: () => current }));
    await renderApp();
    current = { ...current, status: 'completed', finished_at_ms: 2_000_000 };
    await emitEvent('task://changed', { id: 3, kind: 'completed', message: null });
    await waitFor(() => expect(screen.getByText('Running one').closest('button')?.textContent).toContain('Done'));
    expect(calledWith(calls, 'get_task')).toEqual([{ id: 3 }]);
    await emitEvent('task://changed', { id: 2, kind: 'removed', message: null });
    await waitFor(() => expect(screen.queryByText('Done one')).toBeNull());
  });

  it('updates previews from task://output', async () => {
    backend(defaults({ list_tasks: listing(() => TASKS) }));
    await renderApp();
    await emitEvent('task://output', { id: 3, lines: [textLine(4, 'first'), textLine(5, 'latest words\nsecond line')] });
    await waitFor(() => expect(screen.getByText('latest words')).toBeTruthy());
  });

  it('opens a task on click, and app://navigate and Ctrl+N switch views', async () => {
    backend(defaults({ list_tasks: listing(() => TASKS) }));
    await renderApp();
    await fireEvent.click(screen.getByText('Done one'));
    await waitFor(() => expect(screen.getByRole('log', { name: 'Output' })).toBeTruthy());
    await emitEvent('app://navigate', { view: 'settings' });
    await waitFor(() => expect(screen.getByLabelText('Claude Code program')).toBeTruthy());
    await fireEvent.keyDown(window, { key: 'n', ctrlKey: true });
    await waitFor(() => expect(screen.getByLabelText('Prompt')).toBeTruthy());
    await fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(screen.getByLabelText('Claude Code program')).toBeTruthy());
  });

  it('re-fetches everything when the window becomes visible again', async () => {
    const calls = backend(defaults({ list_tasks: listing(() => TASKS) }));
    await renderApp();
    // The active tasks, and the first page of the finished ones.
    expect(calledWith(calls, 'list_tasks')).toEqual([
      { query: { status: ['queued', 'pending', 'running', 'waiting'], limit: 1000 } },
      { query: { status: ['completed', 'failed', 'cancelled', 'interrupted'], limit: 50 } },
    ]);
    document.dispatchEvent(new Event('visibilitychange'));
    await waitFor(() => expect(calledWith(calls, 'list_tasks')).toHaveLength(4));
  });
});

describe('tasks that wait for the user', () => {
  const WAITING = task({ id: 4, name: 'Needs me', status: 'waiting', finished_at_ms: null, exit: null });

  it('shows "Waiting for you" and what the oldest request asks', async () => {
    backend(
      defaults({
        list_tasks: listing(() => [WAITING, ...TASKS]),
        pending_approvals: () => [
          approval({ task: 4, input: { command: 'npm publish' } }),
          approval({ task: 4, request_id: 'req-2', tool: 'Write', input: { file_path: '/p/x', content: '' } }),
        ],
      }),
    );
    await renderApp();
    const row = screen.getByTestId('task-row-4');
    expect(within(row).getByTestId('status-badge').textContent).toBe('?Waiting for you');
    await waitFor(() => expect(within(row).getByTestId('task-asks').textContent).toBe('? asks to run Bashnpm publish+1 more'));
    expect(within(screen.getByTestId('task-row-3')).queryByTestId('task-asks')).toBeNull();
  });

  it('has a filter of its own, and counts as running', async () => {
    backend(defaults({ list_tasks: listing(() => [WAITING, ...TASKS]) }));
    await renderApp();
    await fireEvent.click(within(screen.getByRole('group', { name: 'Show' })).getByRole('button', { name: /^Waiting/ }));
    expect(screen.getAllByRole('listitem').map((r) => within(r).getByText(/^#\d+$/).textContent)).toEqual(['#4']);
    await fireEvent.click(screen.getByRole('button', { name: 'Running' }));
    expect(screen.getAllByRole('listitem').map((r) => within(r).getByText(/^#\d+$/).textContent)).toEqual(['#4', '#3']);
  });

  it('shows a failure reason whole and without the [tasktray] tag', async () => {
    const reason = `the agent exited with code 1: ${'error: something long went wrong; '.repeat(12).trim()}`;
    backend(defaults({ list_tasks: listing(() => [task({ id: 9, status: 'failed', error: `[tasktray] ${reason}` })]) }));
    await renderApp();
    expect(screen.getByTestId('task-reason').textContent).toBe(reason);
  });

  it('prefers the backend failure reason, fix included', async () => {
    const failure =
      'The agent exited with code 1: --dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons. Claude Code refuses the Bypass permissions mode when it runs as root. Choose another permission mode.';
    backend(defaults({ list_tasks: listing(() => [task({ id: 9, status: 'failed', error: null, result: null, failure })]) }));
    await renderApp();
    expect(screen.getByTestId('task-reason').textContent).toBe(failure);
  });
});

describe('quit with running tasks', () => {
  it('asks on app://navigate confirmQuit, then quits or keeps running', async () => {
    const calls = backend(defaults({ list_tasks: listing(() => TASKS), quit_app: () => null }));
    const { app } = await renderApp();
    await emitEvent('app://navigate', { view: 'confirmQuit', tasks: [3] });
    expect(await screen.findByText('1 task is still running')).toBeTruthy();
    expect(screen.getByRole('button', { name: '#3 Running one' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Keep running' }));
    expect(app.router.route).toEqual({ view: 'list' });
    await emitEvent('app://navigate', { view: 'confirmQuit', tasks: [3] });
    await fireEvent.click(await screen.findByRole('button', { name: 'Cancel tasks and quit' }));
    await waitFor(() => expect(calledWith(calls, 'quit_app')).toHaveLength(1));
  });
});
