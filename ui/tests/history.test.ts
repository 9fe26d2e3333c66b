// The list over a long history: every active task, the finished ones a page at a time (Show
// older), the count, events that move tasks between the two, tasks outside the loaded pages.

import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { TaskPage, TaskQuery, TaskRecord } from '../src/lib/bindings';
import { FINISHED_STATUSES, TaskStore } from '../src/lib/stores/tasks.svelte';
import { backend, calledWith, defaults, emitEvent, listing, pageOf, renderApp, task, type Handler } from './helpers';

const unfinished = { finished_at_ms: null, exit: null } as const;

/** 120 finished tasks (#1 to #120), then #121 runs, #122 is queued behind it, #123 waits. */
function history(): TaskRecord[] {
  const done = Array.from({ length: 120 }, (_, i) =>
    task({ id: i + 1, name: `Finished ${i + 1}`, status: (i + 1) % 7 === 0 ? 'cancelled' : 'completed' }),
  );
  return [
    ...done,
    task({ id: 121, name: 'Running now', status: 'running', ...unfinished }),
    task({ id: 122, name: 'Queued next', status: 'queued', started_at_ms: null, ...unfinished }),
    task({ id: 123, name: 'Waits for me', status: 'waiting', ...unfinished }),
  ];
}

const rowIds = () => screen.queryAllByRole('listitem').map((r) => Number(within(r).getByText(/^#\d+$/).textContent!.slice(1)));
const count = () => screen.getByTestId('list-count').textContent;
const range = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => from - i);
const queries = (calls: ReturnType<typeof backend>) => calledWith(calls, 'list_tasks').map((a) => a.query as TaskQuery);

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('a long history', () => {
  it('lists every active task and the first 50 finished ones, and shows older ones a page at a time', async () => {
    const calls = backend(defaults({ list_tasks: listing(history()) }));
    await renderApp();
    expect(rowIds()).toEqual(range(123, 71));
    expect(count()).toBe('53 of 123');
    // Only the first page came over IPC: the active tasks, 50 finished ones.
    expect(queries(calls)).toEqual([
      { status: ['queued', 'pending', 'running', 'waiting'], limit: 1000 },
      { status: FINISHED_STATUSES, limit: 50 },
    ]);

    const older = screen.getByTestId('show-older');
    expect(older.textContent).toBe('Show older tasks');
    await fireEvent.click(older);
    await waitFor(() => expect(rowIds()).toEqual(range(123, 21)));
    expect(count()).toBe('103 of 123');
    expect(queries(calls)[2]).toEqual({ status: FINISHED_STATUSES, before: 71, limit: 50 });

    await fireEvent.click(screen.getByTestId('show-older'));
    await waitFor(() => expect(rowIds()).toEqual(range(123, 1)));
    expect(count()).toBe('123 of 123');
    // The last page: nothing older to show.
    expect(screen.queryByTestId('show-older')).toBeNull();
  });

  it('counts with thousands separators, and Finished pages the same way', async () => {
    const many: Handler = (a) => {
      const q = a.query as TaskQuery;
      const page = pageOf(history(), q);
      return q.status?.includes('completed') ? { ...page, total: 20_000 } : page;
    };
    backend(defaults({ list_tasks: many }));
    await renderApp();
    expect(count()).toBe('53 of 20,003');
    await fireEvent.click(screen.getByTestId('filter-finished'));
    expect(rowIds()).toEqual(range(120, 71));
    expect(count()).toBe('50 of 20,003');
    await fireEvent.click(screen.getByTestId('show-older'));
    await waitFor(() => expect(rowIds()).toEqual(range(120, 21)));
    // Running, Waiting and Queued show every active task: nothing to page.
    await fireEvent.click(screen.getByTestId('filter-running'));
    expect(rowIds()).toEqual([123, 121]);
    expect(screen.queryByTestId('show-older')).toBeNull();
  });

  it('shows that an older page loads, and its error with Retry', async () => {
    let pending = deferred<TaskPage>();
    let fail = true;
    const list = history();
    const calls = backend(
      defaults({
        list_tasks: (a) => {
          const q = a.query as TaskQuery;
          if (q.before == null) return pageOf(list, q);
          if (fail) throw { code: 'Io', message: 'the history could not be read' };
          return pending.promise;
        },
      }),
    );
    await renderApp();
    await fireEvent.click(screen.getByTestId('show-older'));
    expect((await screen.findByRole('alert')).textContent).toBe('Could not load older tasks: the history could not be read');
    const retry = screen.getByTestId('show-older');
    expect(retry.textContent).toBe('Retry');
    expect(rowIds()).toHaveLength(53);

    fail = false;
    await fireEvent.click(retry);
    await waitFor(() => expect(screen.getByTestId('show-older').textContent).toBe('Loading…'));
    expect(screen.getByTestId('show-older').getAttribute('aria-disabled')).toBe('true');
    expect(screen.queryByRole('alert')).toBeNull();
    // Clicking again while it loads asks nothing more.
    await fireEvent.click(screen.getByTestId('show-older'));
    expect(queries(calls).filter((q) => q.before != null)).toHaveLength(2);
    pending.resolve(pageOf(list, { status: FINISHED_STATUSES, before: 71, limit: 50 }));
    await waitFor(() => expect(rowIds()).toHaveLength(103));
    expect(screen.getByTestId('show-older').textContent).toBe('Show older tasks');
    pending = deferred();
  });

  it('a task that finishes moves from the active tasks to the history; a new one comes on top', async () => {
    const list = history();
    const byId = (id: number) => list.find((t) => t.id === id)!;
    const { app } = await (async () => {
      backend(defaults({ list_tasks: listing(list), get_task: (a) => byId(a.id as number) }));
      return renderApp();
    })();
    const store = app.tasks;
    expect(store.active.map((t) => t.id)).toEqual([123, 122, 121]);
    list[120] = { ...byId(121), status: 'completed', finished_at_ms: 2_000_000, exit: { code: 0 } };
    await emitEvent('task://changed', { id: 121, kind: 'completed', message: null });
    await waitFor(() => expect(within(screen.getByTestId('task-row-121')).getByTestId('status-badge').textContent).toContain('Done'));
    expect(store.active.map((t) => t.id)).toEqual([123, 122]);
    expect(store.history.tasks[0]!.id).toBe(121);
    expect(store.history.total).toBe(121);
    // Still in its place in All, and the count holds.
    expect(rowIds().slice(0, 4)).toEqual([123, 122, 121, 120]);
    expect(count()).toBe('53 of 123');
    await fireEvent.click(screen.getByTestId('filter-running'));
    expect(rowIds()).toEqual([123]);
    await fireEvent.click(screen.getByTestId('filter-finished'));
    expect(rowIds().slice(0, 2)).toEqual([121, 120]);
    expect(count()).toBe('51 of 123');

    // A new task appears at the top of All.
    list.push(task({ id: 124, name: 'Brand new', status: 'running', ...unfinished }));
    await emitEvent('task://changed', { id: 124, kind: 'created', message: null });
    await fireEvent.click(screen.getByTestId('filter-all'));
    await waitFor(() => expect(rowIds()[0]).toBe(124));
    expect(count()).toBe('54 of 124');
    // A removed finished task leaves the list and the count.
    await emitEvent('task://changed', { id: 120, kind: 'removed', message: null });
    await waitFor(() => expect(screen.queryByTestId('task-row-120')).toBeNull());
    expect(count()).toBe('53 of 123');
  });

  it('an older task opened by id is shown, and stays out of the list', async () => {
    const list = history();
    const calls = backend(defaults({ list_tasks: listing(list), get_task: (a) => list.find((t) => t.id === a.id) }));
    const { app } = await renderApp();
    await emitEvent('app://navigate', { view: 'task', id: 3 });
    await waitFor(() => expect(within(screen.getByTestId('task-header')).getByTestId('task-id').textContent).toBe('#3'));
    expect(calledWith(calls, 'get_task')).toContainEqual({ id: 3 });
    expect(app.tasks.get(3)?.name).toBe('Finished 3');
    app.router.home();
    await screen.findByTestId('task-list');
    expect(rowIds()).toEqual(range(123, 71));
    expect(count()).toBe('53 of 123');
    // Its page comes later in its place, once.
    await fireEvent.click(screen.getByTestId('show-older'));
    await fireEvent.click(await screen.findByTestId('show-older'));
    await waitFor(() => expect(rowIds()).toEqual(range(123, 1)));
  });

  it('the Queued filter lists the queue oldest first, however old', async () => {
    const list = [...history(), task({ id: 5_000, name: 'Queued last', status: 'queued', started_at_ms: null, ...unfinished })];
    list[1] = task({ id: 2, name: 'Queued long ago', status: 'queued', started_at_ms: null, ...unfinished });
    backend(defaults({ list_tasks: listing(list) }));
    await renderApp();
    await fireEvent.click(screen.getByTestId('filter-queued'));
    expect(rowIds()).toEqual([2, 122, 5_000]);
    expect(within(screen.getByTestId('task-row-2')).getByTestId('status-badge').textContent).toBe('◷Queued · 1st in line');
  });
});

describe('the tasks store', () => {
  it('a refresh answer that was on its way keeps what the events said meanwhile', async () => {
    const list = history();
    const slow = deferred<void>();
    let hold = false;
    backend(
      defaults({
        list_tasks: async (a) => {
          const page = pageOf(list, a.query as TaskQuery);
          if (hold) await slow.promise;
          return page;
        },
      }),
    );
    const s = new TaskStore();
    await s.refresh();
    hold = true;
    const refreshing = s.refresh();
    // #121 ends and #100 is removed while the refresh's (older) answer is on its way.
    s.upsert({ ...list[120]!, status: 'failed', finished_at_ms: 2_000_000 });
    s.drop(100);
    slow.resolve();
    await refreshing;
    expect(s.get(121)?.status).toBe('failed');
    expect(s.active.map((t) => t.id)).toEqual([123, 122]);
    expect(s.history.tasks.slice(0, 2).map((t) => t.id)).toEqual([121, 120]);
    expect(s.get(100)).toBeUndefined();
  });

  it('takes every active task, also more than a page; one that ended meanwhile goes to the history', async () => {
    const queued = Array.from({ length: 1_200 }, (_, i) => task({ id: 1_000 + i, status: 'queued', started_at_ms: null, ...unfinished }));
    const list = [...history(), ...queued];
    const calls = backend(
      defaults({
        list_tasks: (a) => {
          const page = pageOf(list, a.query as TaskQuery);
          // The backend picks by the status on disk and answers with the live record.
          return { ...page, tasks: page.tasks.map((t) => (t.id === 121 ? { ...t, status: 'completed' as const } : t)) };
        },
      }),
    );
    const s = new TaskStore();
    await s.refresh();
    expect(s.queuedCount).toBe(1_201);
    expect(queries(calls).filter((q) => q.status?.includes('queued'))).toEqual([
      { status: ['queued', 'pending', 'running', 'waiting'], limit: 1000 },
      { status: ['queued', 'pending', 'running', 'waiting'], before: 1_200, limit: 1000 },
    ]);
    expect(s.active.some((t) => t.id === 121)).toBe(false);
    expect(s.history.tasks[0]).toMatchObject({ id: 121, status: 'completed' });
  });

  it('a refresh keeps the older pages it reaches, and starts over when it does not', async () => {
    let list = history();
    backend(defaults({ list_tasks: (a) => pageOf(list, a.query as TaskQuery) }));
    const s = new TaskStore();
    await s.refresh();
    await s.loadOlder();
    expect(s.history.tasks).toHaveLength(100);
    // Two more finished: the first page now ends at #73, inside what is loaded.
    list = [...list, task({ id: 124 }), task({ id: 125 })];
    await s.refresh();
    expect(s.history.tasks.map((t) => t.id)).toEqual([125, 124, ...range(120, 21)]);
    expect(s.history.cursor).toBe(21);
    // Sixty more (missed events): the first page no longer reaches the loaded ones.
    list = [...list, ...Array.from({ length: 60 }, (_, i) => task({ id: 200 + i }))];
    await s.refresh();
    expect(s.history.tasks.map((t) => t.id)).toEqual(range(259, 210));
    expect(s.history.cursor).toBe(210);
    expect(s.history.total).toBe(182);
  });
});
