// The app controller: owns the stores, wires the backend's events to them, and re-fetches
// everything when the window becomes visible again. Components get it from context.

import { getContext, setContext } from 'svelte';
import type { IpcError, Navigate, ProcessRef, TaskId, TaskRecord } from '../bindings';
import * as ipc from '../ipc';
import { sentence, untagged } from '../text';
import { ApprovalStore } from './approvals.svelte';
import { Clock, SLOW_TICK_MS, TICK_MS } from './clock.svelte';
import { LaunchForm } from './launch.svelte';
import { Router } from './router.svelte';
import { SettingsStore } from './settings.svelte';
import { TaskStore } from './tasks.svelte';
import { RENDER_CAP, type Transcript } from './transcript.svelte';

const KEY = Symbol('app');

export type Notice = { kind: 'error' | 'info'; message: string };

export class AppState {
  router = new Router();
  tasks = new TaskStore();
  approvals = new ApprovalStore();
  settings = new SettingsStore();
  launch = new LaunchForm();
  clock = new Clock();
  /** A banner for errors that belong to no field (and persistence failures). */
  notice = $state<Notice | null>(null);
  /** The app's own process; tasks owned by another (`taskctl run --local`) are only watched. */
  host = $state<ProcessRef | null>(null);
  /** The transcript of the open task view, which gets that task's output events. */
  transcript: Transcript | null = null;

  #unlisten: ipc.UnlistenFn[] = [];
  #disposed = false;

  /** Subscribes to the backend's events, then loads the list and the settings. */
  async start(): Promise<void> {
    const subs = await Promise.all([
      ipc.onTaskChanged((c) => {
        this.tasks.onChanged(c);
        this.approvals.onChanged(c);
        if (c.kind === 'removed') this.router.forgetTask(c.id);
        this.launch.taskChanged(c.id, c.kind);
        if (c.kind === 'persistFailed')
          this.notice = {
            kind: 'error',
            message: `Task #${c.id}: could not save its history${c.message ? `: ${untagged(c.message)}` : ''}. The task goes on.`,
          };
      }),
      ipc.onTaskOutput((o) => {
        this.tasks.onOutput(o.id, o.lines);
        if (this.transcript?.id === o.id) this.transcript.ingest(o.lines);
      }),
      ipc.onTaskResync((r) => {
        if (this.transcript?.id === r.id) this.transcript.resync();
      }),
      ipc.onNavigate((n) => this.navigate(n)),
    ]);
    if (this.#disposed) {
      subs.forEach(unlistenQuietly);
      return;
    }
    this.#unlisten = subs;
    document.addEventListener('visibilitychange', this.#onVisibility);
    await Promise.all([
      this.tasks.refresh(),
      this.settings.load(),
      this.approvals.load(),
      ipc.hostProcess().then(
        (host) => (this.host = host),
        () => (this.host = null),
      ),
    ]);
  }

  stop(): void {
    this.#disposed = true;
    this.#unlisten.forEach(unlistenQuietly);
    this.#unlisten = [];
    document.removeEventListener('visibilitychange', this.#onVisibility);
    this.clock.run(false);
  }

  navigate(n: Navigate): void {
    switch (n.view) {
      case 'task':
        this.router.go({ view: 'task', id: n.id });
        void this.tasks.refreshOne(n.id);
        break;
      case 'confirmQuit':
        this.router.go({ view: 'confirmQuit', tasks: n.tasks, queued: n.queued ?? 0 });
        void this.tasks.refresh();
        break;
      default:
        this.router.go({ view: n.view });
    }
  }

  /** Shows an error that belongs nowhere else. */
  fail(err: unknown): void {
    this.notice = { kind: 'error', message: sentence(untagged((err as IpcError).message ?? String(err))) };
  }

  /** Whether this app runs the task (so it can answer and message it), as opposed to another
   * program that only shares the history with it. Unknown hosts count as this app. */
  runsHere(task: TaskRecord): boolean {
    const host = this.host;
    if (!host || !task.owner) return true;
    return task.owner.pid === host.pid && task.owner.start_ticks === host.start_ticks;
  }

  openTask(id: TaskId): void {
    this.router.go({ view: 'task', id });
  }

  /** Everything again, as if freshly opened; events missed while hidden do not matter. */
  async refreshAll(): Promise<void> {
    this.transcript?.resync(RENDER_CAP);
    await Promise.all([this.tasks.refresh(), this.settings.load(), this.approvals.load()]);
  }

  #onVisibility = (): void => {
    const visible = document.visibilityState === 'visible';
    this.#runClock(visible);
    if (visible) void this.refreshAll();
  };

  /** Keeps the clock ticking exactly while a running (or queued) task is listed and the window
   * shows: every second for a running task's elapsed time, slowly for "queued 5 min ago". */
  syncClock(): void {
    this.#runClock(document.visibilityState !== 'hidden');
  }

  #runClock(visible: boolean): void {
    const running = this.tasks.anyRunning;
    this.clock.run(visible && (running || this.tasks.queuedCount > 0), running ? TICK_MS : SLOW_TICK_MS);
  }
}

/** Unlistens, ignoring a failure: at teardown the bridge may be gone already. */
function unlistenQuietly(un: ipc.UnlistenFn): void {
  Promise.resolve()
    .then(un)
    .catch(() => {});
}

export function provideApp(app: AppState): void {
  setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
