// Searching the tasks: the field waits for typing to pause, the backend's matches replace the
// list (paged like it), the previous answer stays until the next comes and an older, slower
// answer never replaces a newer one; Escape and Clear search bring the list back.

import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskPage, TaskQuery, TaskRecord } from '../src/lib/bindings';
import { FINISHED_STATUSES, SEARCH_DEBOUNCE_MS, TaskStore } from '../src/lib/stores/tasks.svelte';
import { backend, calledWith, defaults, emitEvent, listing, pageOf, renderApp, task, type Handler } from './helpers';

const unfinished = { finished_at_ms: null, exit: null } as const;

/** 120 finished tasks; every tenth deploys the site (12), #121 runs a deploy, #122 tidies the
 * webshop's folder. */
function tasks(): TaskRecord[] {
  return [
    ...Array.from({ length: 120 }, (_, i) =>
      task({ id: i + 1, name: `Task ${i + 1}`, prompt: (i + 1) % 10 === 0 ? 'Deploy the site' : 'Tidy up the docs' }),
    ),
    task({ id: 121, name: 'Deploy now', prompt: 'Ship it', status: 'running', ...unfinished }),
    task({ id: 122, name: 'Tidy', prompt: 'Tidy up', project_dir: '/home/u/code/webshop', status: 'running', ...unfinished }),
  ];
}

const rowIds = () => screen.queryAllByRole('listitem').map((r) => Number(within(r).getByText(/^#\d+$/).textContent!.slice(1)));
const field = () => screen.getByTestId('task-search') as HTMLInputElement;
const type = (text: string) => fireEvent.input(field(), { target: { value: text } });
const searches = (calls: ReturnType<typeof backend>) =>
  calledWith(calls, 'list_tasks')
    .map((a) => a.query as TaskQuery)
    .filter((q) => q.search != null);

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

describe('the search field', () => {
  it('is at the top of the list, a search field, reachable by keyboard', async () => {
    backend(defaults({ list_tasks: listing(tasks()) }));
    await renderApp();
    const input = field();
    expect(input.type).toBe('search');
    expect(input.placeholder).toBe('Search tasks');
    expect(screen.getByRole('searchbox', { name: 'Search tasks' })).toBe(input);
    expect(screen.queryByTestId('search-count')).toBeNull();
  });

  it('searches once typing pauses, and the matches replace the list', async () => {
    const calls = backend(defaults({ list_tasks: listing(tasks()) }));
    await renderApp();
    await type('d');
    await type('de');
    await type('deploy');
    // Nothing asked yet: typing has not paused.
    expect(searches(calls)).toEqual([]);
    await waitFor(() => expect(rowIds()).toEqual([121, 120, 110, 100, 90, 80, 70, 60, 50, 40, 30, 20, 10]));
    expect(searches(calls)).toEqual([{ search: 'deploy', limit: 50 }]);
    expect(screen.getByTestId('search-count').textContent).toContain('13 tasks match');
    expect(screen.getByTestId('list-count').textContent).toBe('13 of 13');
    expect(screen.queryByTestId('show-older')).toBeNull();
    // Both words must appear, in any field.
    await type('site TASK');
    await waitFor(() => expect(rowIds()).toEqual([120, 110, 100, 90, 80, 70, 60, 50, 40, 30, 20, 10]));
    expect(searches(calls).at(-1)).toEqual({ search: 'site TASK', limit: 50 });
    // The folder counts too.
    await type('webshop');
    await waitFor(() => expect(rowIds()).toEqual([122]));
  });

  it('searches under the filter, and pages its matches like the list', async () => {
    const calls = backend(defaults({ list_tasks: listing(tasks()) }));
    await renderApp();
    await type('tidy');
    await waitFor(() => expect(screen.getByTestId('search-count').textContent).toContain('109 tasks match'));
    expect(rowIds()).toHaveLength(50);
    expect(screen.getByTestId('list-count').textContent).toBe('50 of 109');
    const older = screen.getByTestId('show-older');
    expect(older.textContent).toBe('Show older matches');
    await fireEvent.click(older);
    await waitFor(() => expect(rowIds()).toHaveLength(100));
    expect(searches(calls).at(-1)).toEqual({ search: 'tidy', before: 66, limit: 50 });

    // Finished: the same words, only finished tasks (at once, no pause needed).
    await fireEvent.click(screen.getByTestId('filter-finished'));
    // Until the answer comes, the matches already loaded show, filtered.
    expect(rowIds()).not.toContain(122);
    await waitFor(() => expect(screen.getByTestId('search-count').textContent).toContain('108 tasks match'));
    expect(searches(calls).at(-1)).toEqual({ search: 'tidy', status: FINISHED_STATUSES, limit: 50 });
    expect(rowIds()).toHaveLength(50);
    expect(rowIds()[0]).toBe(119);
    await fireEvent.click(screen.getByTestId('filter-running'));
    await waitFor(() => expect(screen.getByTestId('search-count').textContent).toContain('1 task matches'));
    expect(rowIds()).toEqual([122]);
  });

  it('keeps the previous matches while the next search runs, and drops a slower, older answer', async () => {
    const answers = new Map<string, ReturnType<typeof deferred<TaskPage>>>();
    const all = tasks();
    const list: Handler = (a) => {
      const q = a.query as TaskQuery;
      if (q.search == null) return pageOf(all, q);
      const d = deferred<TaskPage>();
      answers.set(q.search, d);
      return d.promise.then(() => pageOf(all, q));
    };
    backend(defaults({ list_tasks: list }));
    await renderApp();
    await type('ship');
    await waitFor(() => expect(answers.has('ship')).toBe(true));
    // The first search runs: the list stays as it was, and says so.
    expect(rowIds()).toHaveLength(52);
    expect(screen.getByTestId('search-count').textContent).toContain('Searching…');
    answers.get('ship')!.resolve({} as TaskPage);
    await waitFor(() => expect(rowIds()).toEqual([121]));

    // "deploy" is asked and stays on its way; then "site" is asked and answers first.
    await type('deploy');
    await waitFor(() => expect(answers.has('deploy')).toBe(true));
    expect(rowIds()).toEqual([121]);
    expect(screen.getByTestId('search-count').textContent).toContain('1 task matches · searching…');
    expect(screen.getByRole('list').getAttribute('aria-busy')).toBe('true');
    await type('site');
    await waitFor(() => expect(answers.has('site')).toBe(true));
    answers.get('site')!.resolve({} as TaskPage);
    await waitFor(() => expect(rowIds()).toHaveLength(12));
    answers.get('deploy')!.resolve({} as TaskPage);
    await new Promise((r) => setTimeout(r, 20));
    expect(rowIds()).toHaveLength(12);
    expect(rowIds()).not.toContain(121);
    expect(screen.getByTestId('search-count').textContent).toContain('12 tasks match');
    expect(screen.getByTestId('search-count').textContent).not.toContain('searching');
  });

  it('says when nothing matches, and Clear search brings the list back', async () => {
    const calls = backend(defaults({ list_tasks: listing(tasks()) }));
    await renderApp();
    await fireEvent.click(screen.getByTestId('filter-finished'));
    await type('zebra');
    await waitFor(() => expect(screen.getByTestId('search-count').textContent).toContain('No task matches “zebra”'));
    expect(rowIds()).toEqual([]);
    expect(screen.getByText("Tasktray looks for every word in each task's name, prompt, folder and result.")).toBeTruthy();
    // Under a filter, one click searches everything.
    await fireEvent.click(screen.getByRole('button', { name: 'Search all tasks' }));
    expect(screen.getByTestId('filter-all').getAttribute('aria-pressed')).toBe('true');
    await waitFor(() => expect(searches(calls).at(-1)).toEqual({ search: 'zebra', limit: 50 }));
    await fireEvent.click(screen.getByTestId('search-clear'));
    expect(field().value).toBe('');
    expect(document.activeElement).toBe(field());
    expect(screen.queryByTestId('search-count')).toBeNull();
    expect(rowIds()).toHaveLength(52);
    expect(screen.getByTestId('list-count').textContent).toBe('52 of 122');
  });

  it('Escape clears the field and the search', async () => {
    backend(defaults({ list_tasks: listing(tasks()) }));
    await renderApp();
    await type('deploy');
    await waitFor(() => expect(rowIds()).toHaveLength(13));
    await fireEvent.keyDown(field(), { key: 'Escape' });
    expect(field().value).toBe('');
    expect(rowIds()).toHaveLength(52);
    expect(screen.queryByTestId('search-count')).toBeNull();
  });

  it('shows a failed search with Retry', async () => {
    let fail = true;
    backend(
      defaults({
        list_tasks: (a) => {
          const q = a.query as TaskQuery;
          if (q.search != null && fail) throw { code: 'Io', message: 'the history could not be read' };
          return pageOf(tasks(), q);
        },
      }),
    );
    await renderApp();
    await type('deploy');
    expect((await screen.findByTestId('search-error')).textContent).toContain('Could not search: the history could not be read');
    fail = false;
    await fireEvent.click(within(screen.getByTestId('search-error')).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(rowIds()).toHaveLength(13));
    expect(screen.queryByTestId('search-error')).toBeNull();
  });

  it('follows events: a match that ends is updated in place, a removed one leaves', async () => {
    const all = tasks();
    backend(defaults({ list_tasks: listing(all), get_task: (a) => all.find((t) => t.id === a.id) }));
    const { app } = await renderApp();
    await type('deploy');
    await waitFor(() => expect(rowIds()).toHaveLength(13));
    all[120] = { ...all[120]!, status: 'completed', finished_at_ms: 2_000_000 };
    await emitEvent('task://changed', { id: 121, kind: 'completed', message: null });
    await waitFor(() => expect(within(screen.getByTestId('task-row-121')).getByTestId('status-badge').textContent).toContain('Done'));
    await emitEvent('task://changed', { id: 110, kind: 'removed', message: null });
    await waitFor(() => expect(rowIds()).toHaveLength(12));
    expect(screen.getByTestId('search-count').textContent).toContain('12 tasks match');
    // A match opens like any row, also one older than the loaded history.
    await fireEvent.click(within(screen.getByTestId('task-row-10')).getByText('Task 10'));
    await waitFor(() => expect(within(screen.getByTestId('task-header')).getByTestId('task-id').textContent).toBe('#10'));
    expect(app.tasks.get(10)?.name).toBe('Task 10');
  });
});

describe('the search in the store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it(`waits ${SEARCH_DEBOUNCE_MS} ms after the last keystroke; an empty field ends the search at once`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const calls = backend(defaults({ list_tasks: listing(tasks()) }));
    const s = new TaskStore();
    s.setQuery('dep');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 50);
    s.setQuery('deploy');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 1);
    expect(searches(calls)).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(searches(calls)).toEqual([{ search: 'deploy', limit: 50 }]);
    await vi.waitFor(() => expect(s.results?.total).toBe(13));
    expect(s.showsResults).toBe(true);
    // Typing on: the answer shown stays; clearing drops it and nothing more is asked.
    s.setQuery('deploy s');
    expect(s.showsResults).toBe(true);
    s.setQuery('  ');
    expect(s.showsResults).toBe(false);
    expect(s.results).toBeNull();
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS * 2);
    expect(searches(calls)).toHaveLength(1);
  });
});
