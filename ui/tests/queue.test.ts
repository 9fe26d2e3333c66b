// The queue: places, the Queued status and filter, queueing from the launch form, a queued
// task's view and its cancel, the running limit in Settings, and Quit keeping queued tasks.

import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SpawnRequest, TaskRecord } from '../src/lib/bindings';
import { formatAgo, formatPlace, isActive, isRunning, ordinal, STATUS_LABEL } from '../src/lib/format';
import { Clock, SLOW_TICK_MS, TICK_MS } from '../src/lib/stores/clock.svelte';
import { TaskStore, waitText } from '../src/lib/stores/tasks.svelte';
import { backend, calledWith, defaults, emitEvent, page, renderApp, SETTINGS, task, textLine, type Handler, listing } from './helpers';

const MIN = 60_000;
const unfinished = { finished_at_ms: null, exit: null } as const;
const queuedTask = (p: Partial<TaskRecord>) =>
  task({ status: 'queued', started_at_ms: null, ...unfinished, created_at_ms: Date.now() - 3 * MIN, ...p });

const ids = (list: TaskRecord[]) => list.map((t) => t.id);
const rowIds = () => screen.getAllByRole('listitem').map((r) => within(r).getByText(/^#\d+$/).textContent);

/** Two folders: #5 runs in proj and #4, #7 wait behind it; #9 waits elsewhere. */
const LIST = [
  queuedTask({ id: 9, name: 'Elsewhere', project_dir: '/home/u/other' }),
  queuedTask({ id: 7, name: 'Third in proj' }),
  task({ id: 5, name: 'Busy in proj', status: 'running', ...unfinished }),
  queuedTask({ id: 4, name: 'Next in proj' }),
  task({ id: 2, name: 'Done', status: 'completed' }),
];

function store(tasks: TaskRecord[]): TaskStore {
  const s = new TaskStore();
  const finished = tasks.filter((t) => !isActive(t.status));
  s.apply(
    tasks.filter((t) => isActive(t.status)),
    { tasks: finished, next_cursor: null, total: finished.length },
  );
  return s;
}

describe('queue places and waits (tasks store)', () => {
  it('numbers queued tasks from the smallest id, and only them', () => {
    const s = store(LIST);
    expect(ids(s.queue)).toEqual([4, 7, 9]);
    expect([4, 7, 9, 5, 2, 100].map((id) => s.placeOf(id))).toEqual([1, 2, 3, null, null, null]);
    expect(s.queuedCount).toBe(3);
    // The one ahead starts: every place moves up.
    s.upsert({ ...s.get(4)!, status: 'running', started_at_ms: Date.now() });
    expect([4, 7, 9].map((id) => s.placeOf(id))).toEqual([null, 1, 2]);
  });

  it('filters: Queued in the order they start, Running and Finished without them', () => {
    const s = store(LIST);
    s.filter = 'queued';
    expect(ids(s.visible)).toEqual([4, 7, 9]);
    s.filter = 'running';
    expect(ids(s.visible)).toEqual([5]);
    s.filter = 'finished';
    expect(ids(s.visible)).toEqual([2]);
    s.filter = 'all';
    expect(ids(s.visible)).toEqual([9, 7, 5, 4, 2]);
    expect(s.runningCount).toBe(1);
    expect(store(LIST.filter((t) => t.status !== 'running')).anyRunning).toBe(false);
  });

  it('says what a queued task waits for: the task ahead in its folder, the limit, or its turn', () => {
    const s = store(LIST);
    // #7 waits for #4 (queued before it in the same folder), not for #5 that runs there.
    expect(waitText(s.waitOf(s.get(7)!, 4))).toBe('Starts when task #4 in this folder ends.');
    expect(waitText(s.waitOf(s.get(4)!, 4))).toBe('Starts when task #5 in this folder ends.');
    // #9's folder is free: one task runs, under a limit of 4.
    expect(waitText(s.waitOf(s.get(9)!, 4))).toBe('Waiting for its turn.');
    expect(waitText(s.waitOf(s.get(9)!, 1))).toBe('Starts when no other task runs.');
    s.upsert(task({ id: 10, status: 'waiting', project_dir: '/home/u/third', ...unfinished }));
    expect(waitText(s.waitOf(s.get(9)!, 2))).toBe('Starts when fewer than 2 tasks run.');
    // 0 is no limit; settings not loaded yet says nothing it does not know.
    expect(waitText(s.waitOf(s.get(9)!, 0))).toBe('Waiting for its turn.');
    expect(waitText(s.waitOf(s.get(9)!, null))).toBe('Waiting for its turn.');
  });

  it('labels and formats: Queued, places, how long ago', () => {
    expect(STATUS_LABEL.queued).toBe('Queued');
    expect(isActive('queued')).toBe(true);
    expect(isRunning('queued')).toBe(false);
    expect(isRunning('waiting')).toBe(true);
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal)).toEqual([
      '1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st', '111th',
    ]);
    expect(formatPlace(2)).toBe('2nd in line');
    const now = 10_000_000_000;
    expect([now - 20_000, now - 2 * MIN, now - 59 * MIN, now - 125 * MIN, now - 24 * 60 * MIN, now - 72 * 60 * MIN].map((t) => formatAgo(t, now))).toEqual([
      'just now', '2 min ago', '59 min ago', '2 h ago', '1 day ago', '3 days ago',
    ]);
  });
});

describe('the clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks slowly while only queued tasks show, every second while one runs, not at all otherwise', () => {
    vi.useFakeTimers();
    const clock = new Clock();
    const ticks = () => {
      const before = clock.now;
      vi.advanceTimersByTime(TICK_MS);
      return clock.now !== before;
    };
    clock.run(true, SLOW_TICK_MS);
    expect(ticks()).toBe(false);
    vi.advanceTimersByTime(SLOW_TICK_MS - TICK_MS);
    expect(clock.now).toBe(Date.now());
    clock.run(true, TICK_MS);
    expect(ticks()).toBe(true);
    clock.run(false);
    expect(ticks()).toBe(false);
  });
});

describe('queued tasks in the list', () => {
  it('shows the badge with the place, the wait, and since when it waits (not a running time)', async () => {
    backend(defaults({ list_tasks: listing(() => LIST) }));
    await renderApp();
    const row = screen.getByTestId('task-row-7');
    const badge = within(row).getByTestId('status-badge');
    expect(badge.textContent).toBe('◷Queued · 2nd in line');
    expect(badge.classList.contains('queued')).toBe(true);
    expect(within(row).getByTestId('queue-place').textContent).toBe(' · 2nd in line');
    expect(within(row).getByText('queued 3 min ago')).toBeTruthy();
    expect(within(row).getByTestId('task-queue-wait').textContent).toBe('Starts when task #4 in this folder ends.');
    expect(row.classList.contains('queued')).toBe(true);
    expect(row.classList.contains('active')).toBe(false);
    expect(within(screen.getByTestId('task-row-4')).getByTestId('status-badge').textContent).toBe('◷Queued · 1st in line');
    // A running task's badge has no place.
    expect(within(screen.getByTestId('task-row-5')).queryByTestId('queue-place')).toBeNull();
  });

  it('has a Queued filter with the queue length, in start order; Running leaves them out', async () => {
    backend(defaults({ list_tasks: listing(() => LIST) }));
    await renderApp();
    const filters = within(screen.getByRole('group', { name: 'Show' }));
    const queued = filters.getByTestId('filter-queued');
    expect(queued.textContent).toBe('Queued3');
    await fireEvent.click(queued);
    expect(queued.getAttribute('aria-pressed')).toBe('true');
    expect(rowIds()).toEqual(['#4', '#7', '#9']);
    expect(screen.getByText('3 of 5')).toBeTruthy();
    await fireEvent.click(filters.getByRole('button', { name: 'Running' }));
    expect(rowIds()).toEqual(['#5']);
    await fireEvent.click(filters.getByRole('button', { name: 'Finished' }));
    expect(rowIds()).toEqual(['#2']);
  });

  it('the Queued filter without queued tasks says so and shows no count', async () => {
    backend(defaults({ list_tasks: listing(() => [LIST[2]!, LIST[4]!]) }));
    await renderApp();
    const queued = screen.getByTestId('filter-queued');
    expect(queued.textContent).toBe('Queued');
    await fireEvent.click(queued);
    expect(screen.getByText('No queued tasks: each new task starts at once.')).toBeTruthy();
  });

  it('a queued task that starts leaves the queue and the others move up', async () => {
    let four = LIST[3]!;
    backend(defaults({ list_tasks: listing(() => LIST), get_task: () => four }));
    await renderApp();
    four = { ...four, status: 'running', started_at_ms: Date.now() };
    await emitEvent('task://changed', { id: 4, kind: 'started', message: null });
    await waitFor(() => expect(within(screen.getByTestId('task-row-7')).getByTestId('status-badge').textContent).toBe('◷Queued · 1st in line'));
    expect(within(screen.getByTestId('task-row-4')).getByTestId('status-badge').textContent).toBe('●Running');
    expect(screen.getByTestId('filter-queued').textContent).toBe('Queued2');
  });
});

describe('queueing from the launch form', () => {
  async function openForm(over: Record<string, Handler>) {
    const calls = backend(defaults({ recent_projects: () => ['/home/u/code/proj'], ...over }));
    const r = await renderApp();
    r.app.router.go({ view: 'new' });
    const dir = (await screen.findByLabelText('Project folder')) as HTMLInputElement;
    await waitFor(() => expect(dir.value).toBe('/home/u/code/proj'));
    await fireEvent.input(screen.getByLabelText('Prompt'), { target: { value: 'Tidy up' } });
    return { ...r, calls };
  }

  const spawned = (calls: ReturnType<typeof backend>) => calledWith(calls, 'spawn_task').map((a) => a.request as SpawnRequest);

  it('"Queue if the project is busy" sends queue: true, and the new task opens as queued with its place', async () => {
    const running = task({ id: 5, name: 'Busy in proj', status: 'running', ...unfinished });
    const created = queuedTask({ id: 12, name: 'Tidy up', created_at_ms: Date.now() });
    let list = [running];
    const { calls, app } = await openForm({
      list_tasks: listing(() => list),
      spawn_task: () => {
        list = [created, running];
        return 12;
      },
      get_task: (a) => (a.id === 12 ? created : running),
    });
    const box = screen.getByTestId('launch-queue') as HTMLInputElement;
    expect(box.checked).toBe(false);
    expect(screen.getByLabelText(/Queue if the project is busy/)).toBe(box);
    await fireEvent.click(box);
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    await waitFor(() => expect(app.router.route).toEqual({ view: 'task', id: 12 }));
    expect(spawned(calls)).toHaveLength(1);
    expect(spawned(calls)[0]!.queue).toBe(true);
    const header = await screen.findByTestId('task-header');
    await waitFor(() => expect(within(header).getByTestId('status-badge').textContent).toBe('◷Queued · 1st in line'));
    expect(screen.getByTestId('queue-wait').textContent?.trim()).toBe('Starts when task #5 in this folder ends.');
    // The choice stays for the next task, like the options.
    app.router.go({ view: 'new' });
    expect(((await screen.findByTestId('launch-queue')) as HTMLInputElement).checked).toBe(true);
  });

  it('ProjectBusy offers "Queue it instead", which sends the same request with queue: true', async () => {
    const created = queuedTask({ id: 13, name: 'Tidy up' });
    const { calls, app } = await openForm({
      spawn_task: (a) => {
        if (!(a.request as SpawnRequest).queue)
          throw { code: 'ProjectBusy', message: 'task 3 is already running in /home/u/code/proj; wait for it or cancel it first', task_id: 3 };
        return 13;
      },
      get_task: () => created,
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Start task' }));
    const note = await screen.findByTestId('busy-note');
    expect(note.textContent).toContain('Task 3 is already running');
    expect(within(note).getByRole('button', { name: 'Show task 3' })).toBeTruthy();
    await fireEvent.click(within(note).getByRole('button', { name: 'Queue it instead' }));
    await waitFor(() => expect(app.router.route).toEqual({ view: 'task', id: 13 }));
    const [first, second] = spawned(calls);
    expect(first!.queue).toBe(false);
    expect(second).toEqual({ ...first, queue: true });
    expect(second!.prompt).toBe('Tidy up');
    expect(screen.queryByTestId('busy-note')).toBeNull();
  });

  it('a follow-up refused as busy offers no queueing (follow_up cannot queue)', async () => {
    const done = task({ id: 8, status: 'completed', session_id: 's-8', options: { format: 'stream-json', permission_mode: 'plan', model: null, keep_session: true, resume: null, allowed_tools: [], worktree: false } });
    backend(
      defaults({
        list_tasks: listing(() => [done]),
        get_task: () => done,
        follow_up: () => {
          throw { code: 'ProjectBusy', message: 'task 3 is already running in /p; wait for it or cancel it first', task_id: 3 };
        },
      }),
    );
    const { app } = await renderApp();
    app.openTask(8);
    await fireEvent.click(await screen.findByRole('button', { name: 'Follow up' }));
    await fireEvent.input(screen.getByLabelText('Follow-up prompt'), { target: { value: 'More' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Send follow-up' }));
    expect((await screen.findByTestId('busy-note')).textContent).toContain('Task 3 is already running');
    expect(screen.queryByTestId('busy-queue')).toBeNull();
  });
});

describe('a queued task view', () => {
  async function openQueued(t: () => TaskRecord, list: () => TaskRecord[], over: Record<string, Handler> = {}) {
    const calls = backend(defaults({ list_tasks: listing(list), get_task: (a) => list().find((x) => x.id === a.id) ?? t(), ...over }));
    const r = await renderApp();
    r.app.openTask(t().id);
    await screen.findByTestId('task-header');
    await waitFor(() => expect(r.app.transcript?.loading).toBe(false));
    return { ...r, calls };
  }

  it('explains the wait, offers Cancel only, and shows no transcript, message box or running time', async () => {
    const { calls } = await openQueued(() => LIST[1]!, () => LIST, { cancel_task: () => null });
    const header = screen.getByTestId('task-header');
    expect(within(header).getByTestId('status-badge').textContent).toBe('◷Queued · 2nd in line');
    expect(within(header).getByTestId('task-queued-at').textContent).toBe('3 min ago');
    expect(within(header).queryByText('Elapsed')).toBeNull();
    expect(within(header).queryByText('Started')).toBeNull();
    const note = screen.getByTestId('queue-note');
    expect(within(note).getByTestId('queue-wait').textContent?.trim()).toBe('Starts when task #4 in this folder ends.');
    expect(within(note).getByText('Queued · 2nd in line')).toBeTruthy();
    // Nothing that suggests it runs.
    expect(screen.queryByTestId('transcript')).toBeNull();
    expect(screen.queryByText('Waiting for output…')).toBeNull();
    expect(screen.queryByTestId('message-box')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Stop turn' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Copy output' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove' })).toBeNull();
    // The task it waits for is a click away.
    await fireEvent.click(within(note).getByRole('button', { name: 'task #4' }));
    await waitFor(() => expect(within(screen.getByTestId('task-header')).getByTestId('task-id').textContent).toBe('#4'));
    expect(calledWith(calls, 'cancel_task')).toHaveLength(0);
  });

  it('Cancel takes it out of the queue (cancel_task) and it shows as never started', async () => {
    let current = queuedTask({ id: 9, project_dir: '/home/u/other' });
    const { calls } = await openQueued(() => current, () => [current], { cancel_task: () => null });
    const cancel = screen.getByTestId('task-cancel');
    expect(cancel.textContent?.trim()).toBe('Cancel');
    expect(cancel.getAttribute('title')).toMatch(/out of the queue/);
    await fireEvent.click(cancel);
    await waitFor(() => expect(calledWith(calls, 'cancel_task')).toEqual([{ id: 9 }]));
    current = { ...current, status: 'cancelled', finished_at_ms: Date.now() };
    await emitEvent('task://changed', { id: 9, kind: 'cancelled', message: null });
    const header = screen.getByTestId('task-header');
    await waitFor(() => expect(within(header).getByTestId('status-badge').textContent).toBe('■Cancelled'));
    expect(header.textContent).toContain('never started');
    expect(within(header).queryByText('Took')).toBeNull();
    expect(screen.queryByTestId('queue-note')).toBeNull();
    expect(screen.queryByTestId('task-cancel')).toBeNull();
  });

  it('waits under the running limit: says so with the limit from Settings, and links to it', async () => {
    const others = [1, 2].map((i) => task({ id: 20 + i, status: 'running', project_dir: `/home/u/p${i}`, ...unfinished }));
    const mine = queuedTask({ id: 30 });
    const { app } = await openQueued(() => mine, () => [mine, ...others], { get_settings: () => ({ ...SETTINGS, max_running: 2 }) });
    await waitFor(() => expect(screen.getByTestId('queue-wait').textContent?.trim()).toBe('Starts when fewer than 2 tasks run.'));
    await fireEvent.click(screen.getByRole('button', { name: 'Change how many tasks run at once' }));
    expect(app.router.route).toEqual({ view: 'settings' });
  });

  it('with nothing in its way it just waits for its turn', async () => {
    const mine = queuedTask({ id: 30 });
    await openQueued(() => mine, () => [mine]);
    expect(screen.getByTestId('queue-wait').textContent?.trim()).toBe('Waiting for its turn.');
  });

  it('when it starts, the transcript comes in with its output', async () => {
    let current = queuedTask({ id: 9, project_dir: '/home/u/other' });
    let output = page([]);
    const { calls } = await openQueued(() => current, () => [current], { task_output: () => output });
    expect(calledWith(calls, 'task_output')).toHaveLength(1);
    current = { ...current, status: 'running', started_at_ms: Date.now() };
    output = page([textLine(0, 'first words')]);
    await emitEvent('task://changed', { id: 9, kind: 'started', message: null });
    await waitFor(() => expect(screen.getByTestId('transcript').textContent).toContain('first words'));
    expect(calledWith(calls, 'task_output')).toHaveLength(2);
    expect(screen.queryByTestId('queue-note')).toBeNull();
    expect(within(screen.getByTestId('task-header')).getByText('Elapsed')).toBeTruthy();
  });
});

describe('the running limit in Settings', () => {
  async function openSettings(over: Record<string, Handler> = {}) {
    const calls = backend(defaults({ save_settings: (a) => a.settings, ...over }));
    const r = await renderApp();
    r.app.router.go({ view: 'settings' });
    await screen.findByLabelText('Claude Code program');
    await waitFor(() => expect(calledWith(calls, 'detect_agent')).toHaveLength(1));
    return { ...r, calls, field: screen.getByLabelText('Tasks running at once') as HTMLInputElement };
  }
  const type = (el: HTMLElement, value: string) => fireEvent.input(el, { target: { value } });

  it('shows the saved value and saves a new one', async () => {
    const { calls, app, field } = await openSettings({ get_settings: () => ({ ...SETTINGS, max_running: 3 }) });
    await waitFor(() => expect(field.value).toBe('3'));
    expect(screen.getByTestId('settings-max-running-hint').textContent?.trim()).toBe('More are queued and start in order as others end. 0 = no limit.');
    await type(field, '2');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved ✓');
    expect(calledWith(calls, 'save_settings')).toEqual([{ settings: { ...SETTINGS, max_running: 2 } }]);
    expect(app.settings.current?.max_running).toBe(2);
  });

  it('0 is no limit, and says so', async () => {
    const { calls, field } = await openSettings();
    await type(field, '0');
    expect(screen.getByTestId('settings-max-running-hint').textContent?.trim()).toBe(
      'No limit: every task starts at once, unless another task runs in its folder.',
    );
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved ✓');
    expect(calledWith(calls, 'save_settings')).toEqual([{ settings: { ...SETTINGS, max_running: 0 } }]);
  });

  it('refuses what is not a whole number from 0 to 1,000, as it is typed and on save', async () => {
    const { calls, field } = await openSettings();
    const error = () => screen.queryByTestId('settings-max-running-error')?.textContent ?? null;
    await type(field, '1001');
    expect(error()).toBe('A whole number, from 0 (no limit) to 1,000.');
    expect(field.getAttribute('aria-invalid')).toBe('true');
    await type(field, '3');
    expect(error()).toBeNull();
    await type(field, '2.5');
    expect(error()).toBe('A whole number, from 0 (no limit) to 1,000.');
    await type(field, '-1');
    expect(error()).toBe('A whole number, from 0 (no limit) to 1,000.');
    await type(field, '');
    expect(error()).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(error()).toBe('A whole number, from 0 (no limit) to 1,000.');
    expect(calledWith(calls, 'save_settings')).toHaveLength(0);
  });

  it("puts the backend's refusal of the limit under the field", async () => {
    await openSettings({
      save_settings: () => {
        throw { code: 'InvalidSettings', message: 'tasks running at once must be 0 to 1000 (0: no limit)' };
      },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByTestId('settings-max-running-error')).textContent).toBe('Tasks running at once must be 0 to 1000 (0: no limit)');
    expect(screen.queryByTestId('settings-banner')).toBeNull();
  });
});

describe('quit with queued tasks', () => {
  const TASKS = [task({ id: 3, name: 'Running one', status: 'running', ...unfinished }), queuedTask({ id: 4 }), queuedTask({ id: 6 })];

  it('says the queued tasks stay queued and start again with Tasktray', async () => {
    backend(defaults({ list_tasks: listing(() => TASKS) }));
    await renderApp();
    await emitEvent('app://navigate', { view: 'confirmQuit', tasks: [3], queued: 2 });
    expect(await screen.findByText('1 task is still running')).toBeTruthy();
    expect(screen.getByTestId('confirm-quit-queued').textContent?.trim()).toBe('2 queued tasks stay queued and start when Tasktray starts again.');
    // Only the running task is named as cancelled.
    expect(screen.getByRole('button', { name: '#3 Running one' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^#4/ })).toBeNull();
  });

  it('one queued task in the singular; none, no line', async () => {
    backend(defaults({ list_tasks: listing(() => TASKS) }));
    const { app } = await renderApp();
    await emitEvent('app://navigate', { view: 'confirmQuit', tasks: [3], queued: 1 });
    expect((await screen.findByTestId('confirm-quit-queued')).textContent?.trim()).toBe('1 queued task stays queued and starts when Tasktray starts again.');
    await fireEvent.click(screen.getByRole('button', { name: 'Keep running' }));
    expect(app.router.route).toEqual({ view: 'list' });
    await emitEvent('app://navigate', { view: 'confirmQuit', tasks: [3], queued: 0 });
    await screen.findByTestId('confirm-quit');
    expect(screen.queryByTestId('confirm-quit-queued')).toBeNull();
  });
});
