// Test helpers: a mocked backend (through @tauri-apps/api/mocks, the same seam the real app
// uses) and fixtures shaped exactly like the IPC contract.

import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { render, waitFor } from '@testing-library/svelte';
import { vi } from 'vitest';
import App from '../src/App.svelte';
import type { Approval, Entry, LineView, OutputPage, Settings, TaskPage, TaskQuery, TaskRecord } from '../src/lib/bindings';
import { AppState } from '../src/lib/stores/app.svelte';

export type Handler = (args: Record<string, unknown>) => unknown;

export function task(p: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: 1,
    name: 'A task',
    prompt: 'Do it',
    project_dir: '/home/u/code/proj',
    options: { format: 'stream-json', permission_mode: 'default', model: null, keep_session: false, resume: null, allowed_tools: [], worktree: false },
    status: 'completed',
    created_at_ms: 1_000_000,
    started_at_ms: 1_000_100,
    finished_at_ms: 1_065_100,
    exit: { code: 0 },
    error: null,
    result: null,
    session_id: null,
    follow_up_of: null,
    owner: null,
    shim: null,
    line_count: 0,
    ...p,
  };
}

export const SETTINGS: Settings = {
  agent_path: null,
  default_format: 'stream-json',
  default_permission_mode: 'acceptEdits',
  default_model: null,
  keep_session_by_default: true,
  worktree_by_default: false,
  notifications: true,
  ring_lines: 1000,
  grace_secs: 5,
  approval_timeout_mins: 30,
  allowed_tools: 'Read Grep',
  max_running: 4,
};

export function textLine(seq: number, text = `line ${seq}`): LineView {
  return { seq, stream: 'stdout', text, continued: false, entries: [{ kind: 'text', text }] };
}

export function line(seq: number, entries: Entry[], text = JSON.stringify(entries)): LineView {
  return { seq, stream: 'stdout', text, continued: false, entries };
}

export function page(lines: LineView[], next = (lines.at(-1)?.seq ?? -1) + 1): OutputPage {
  return { lines, first_seq: lines[0]?.seq ?? next, next_seq: next };
}

/** What `list_tasks` answers from `list`, as the backend does: only the query's statuses (all
 * when none), only tasks with every word of `search` in their name, prompt, folder or result text
 * (ignoring case), older than `before`; newest first, `limit` (50, at most 1000) a page. */
export function pageOf(list: TaskRecord[], q: TaskQuery = {}): TaskPage {
  const words = (q.search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const matching = list
    .filter((t) => !q.status?.length || q.status.includes(t.status))
    .filter((t) => words.every((w) => [t.name, t.prompt, t.project_dir, t.result?.text ?? ''].some((f) => f.toLowerCase().includes(w))))
    .sort((a, b) => b.id - a.id);
  const before = q.before;
  const older = before == null ? matching : matching.filter((t) => t.id < before);
  const limit = Math.min(q.limit ?? 50, 1000);
  const tasks = older.slice(0, limit);
  return { tasks, next_cursor: older.length > limit ? tasks.at(-1)!.id : null, total: matching.length };
}

/** A `list_tasks` handler over a list (or a function giving the list at each call). */
export function listing(list: TaskRecord[] | (() => TaskRecord[])): Handler {
  return (args) => pageOf(typeof list === 'function' ? list() : list, (args.query ?? {}) as TaskQuery);
}

/** Mocks the backend: `handlers` answer commands, anything else rejects like the backend
 * would. Returns a spy of every command call (name, args). */
export function backend(handlers: Record<string, Handler>) {
  const calls = vi.fn<(cmd: string, args: Record<string, unknown>) => void>();
  mockWindows('main');
  mockIPC(
    async (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls(cmd, a);
      const h = handlers[cmd];
      if (!h) throw { code: 'Unmocked', message: `no mock for ${cmd}` };
      return h(a);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** The defaults most tests need, overridable. */
export function defaults(over: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    list_tasks: listing([]),
    get_settings: () => SETTINGS,
    recent_projects: () => [],
    task_output: () => page([]),
    pending_approvals: () => [],
    host_process: () => ({ pid: 100, start_ticks: 7 }),
    detect_agent: () => ({ path: '/usr/bin/claude', version: '2.1.332', error: null }),
    get_draft: () => null,
    keep_draft: () => null,
    app_version: () => '0.1.0',
    start_at_login: () => false,
    ...over,
  };
}

/** Renders the whole app and waits until it listens to the backend and loaded the list. */
export async function renderApp() {
  const app = new AppState();
  const result = render(App, { props: { app } });
  await waitFor(() => {
    if (!app.tasks.loaded) throw new Error('list not loaded yet');
  });
  return { app, ...result };
}

export function emitEvent(event: string, payload: unknown): Promise<void> {
  return emit(event, payload);
}

export function calledWith(calls: ReturnType<typeof backend>, cmd: string) {
  return calls.mock.calls.filter(([c]) => c === cmd).map(([, a]) => a);
}

/** An open request, as `pending_approvals` returns it. */
export function approval(p: Partial<Approval> = {}): Approval {
  return {
    task: 5,
    request_id: 'req-1',
    tool: 'Bash',
    input: { command: 'git push origin main', description: 'Push the branch' },
    description: null,
    suggestions: [{ type: 'addRules', rules: [{ toolName: 'Bash', ruleContent: 'git push:*' }], behavior: 'allow', destination: 'session' }],
    blocked_path: null,
    requested_at_ms: Date.now(),
    expires_at_ms: null,
    ...p,
  };
}
