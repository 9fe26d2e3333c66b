// Which view is shown. A small stack gives the top bar's Back button somewhere to go.

import type { TaskId } from '../bindings';

export type Route =
  | { view: 'list' }
  | { view: 'task'; id: TaskId }
  | { view: 'new' }
  | { view: 'settings' }
  | { view: 'confirmQuit'; tasks: TaskId[]; queued: number };

const MAX_HISTORY = 50;

function same(a: Route, b: Route): boolean {
  if (a.view === 'task') return b.view === 'task' && a.id === b.id;
  return a.view === b.view;
}

export class Router {
  route = $state<Route>({ view: 'list' });
  #history: Route[] = [];

  get canGoBack(): boolean {
    return this.route.view !== 'list';
  }

  go(to: Route): void {
    if (same(to, this.route)) return;
    this.#history.push(this.route);
    if (this.#history.length > MAX_HISTORY) this.#history.shift();
    this.route = to;
  }

  /** Goes to `to` in place of the current view (after a submit, Back skips the form). */
  replace(to: Route): void {
    this.route = to;
  }

  back(): void {
    let prev = this.#history.pop();
    while (prev && same(prev, this.route)) prev = this.#history.pop();
    this.route = prev ?? { view: 'list' };
  }

  /** Straight to the list, however deep the views visited: Back starts over from there. */
  home(): void {
    this.#history = [];
    this.route = { view: 'list' };
  }

  /** A removed task is no place to go back to. */
  forgetTask(id: TaskId): void {
    this.#history = this.#history.filter((r) => !(r.view === 'task' && r.id === id));
    if (this.route.view === 'task' && this.route.id === id) this.back();
  }
}
