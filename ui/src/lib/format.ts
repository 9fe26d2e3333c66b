// Formatting of times, durations, money and paths for display.

import type { ExitInfo, TaskRecord, TaskStatus } from './bindings';

/** `3s`, `2m 05s`, `1h 02m`. Negative durations (clock skew) show as `0s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A duration from the agent's result (`duration_ms`), with a tenth of a second under a minute. */
export function formatPreciseDuration(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms);
}

export function formatCost(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** The last component of a path: `/home/me/code/app/` -> `app`. */
export function folderName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return (i < 0 ? trimmed : trimmed.slice(i + 1)) || '/';
}

/** A size: `12 KB`, `1.4 MB`. */
export function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024)).toLocaleString('en')} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** Local date and time, short: today shows only the time. */
export function formatTimestamp(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (sameDay) return time;
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}

/** The task has not ended: it is queued, starts, runs, or waits for the user. */
export function isActive(status: TaskStatus): boolean {
  return status === 'queued' || isRunning(status);
}

/** The task has left the queue and not ended: it starts, runs, or waits for the user. It holds
 * its project and counts against the running limit; a queued task does neither. */
export function isRunning(status: TaskStatus): boolean {
  return status === 'pending' || status === 'running' || status === 'waiting';
}

/** A task that ended without ever starting: cancelled while it was queued. */
export function neverStarted(task: TaskRecord): boolean {
  return task.status === 'cancelled' && task.started_at_ms === null;
}

/** Wall time from start (or creation) to finish, or to `now` while the task runs. */
export function taskDuration(task: TaskRecord, now: number): number {
  const start = task.started_at_ms ?? task.created_at_ms;
  return (task.finished_at_ms ?? now) - start;
}

/** How long ago, coarsely: `just now`, `5 min ago`, `2 h ago`, `3 days ago`. */
export function formatAgo(ms: number, now: number): string {
  const min = Math.floor(Math.max(0, now - ms) / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.floor(h / 24);
  return `${d} day${d === 1 ? '' : 's'} ago`;
}

/** 1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st: a place in the queue. */
export function ordinal(n: number): string {
  const ten = n % 10;
  const hundred = n % 100;
  const suffix = hundred >= 11 && hundred <= 13 ? 'th' : ten === 1 ? 'st' : ten === 2 ? 'nd' : ten === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

/** A queued task's place, as its badge shows it: `1st in line`. */
export function formatPlace(place: number): string {
  return `${ordinal(place)} in line`;
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

export function formatExit(exit: ExitInfo): string {
  if ('code' in exit) return `exit code ${exit.code}`;
  const name = SIGNALS[exit.signal];
  return name ? `signal ${exit.signal} (${name})` : `signal ${exit.signal}`;
}

/** The cost of a task, when its agent reported one. */
export function taskCost(task: TaskRecord): number | null {
  return task.result?.cost_usd ?? null;
}

export const STATUS_LABEL: Record<TaskStatus, string> = {
  queued: 'Queued',
  pending: 'Pending',
  running: 'Running',
  waiting: 'Waiting for you',
  completed: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** A text symbol per status, so status never depends on colour alone. */
export const STATUS_ICON: Record<TaskStatus, string> = {
  queued: '◷',
  pending: '○',
  running: '●',
  waiting: '?',
  completed: '✓',
  failed: '✗',
  cancelled: '■',
  interrupted: '!',
};
