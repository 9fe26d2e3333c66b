// The one module that talks to Tauri (docs/design.md, "The window"). Every command and event of the IPC
// contract has a typed wrapper here; the rest of the UI imports these and nothing from
// `@tauri-apps/api`, so a test (or the benchmark) can mock the backend at a single seam.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AgentInfo,
  Approval,
  Decision,
  Draft,
  IpcError,
  MergeOutcome,
  Navigate,
  OutputPage,
  ProcessRef,
  RepoHead,
  Review,
  Settings,
  SpawnRequest,
  TaskChanged,
  TaskId,
  TaskOutput,
  TaskPage,
  TaskQuery,
  TaskRecord,
  TaskResync,
} from './bindings';

export type { UnlistenFn };

/** Turns whatever an invoke rejected with into an `IpcError`. The backend always sends
 * `{code, message}`; anything else (a bare string, an exception in the bridge) becomes `Internal`. */
export function toIpcError(err: unknown): IpcError {
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const e = err as Record<string, unknown>;
    const out: IpcError = { code: String(e.code), message: String(e.message) };
    if (typeof e.task_id === 'number') out.task_id = e.task_id;
    return out;
  }
  if (err instanceof Error) return { code: 'Internal', message: err.message };
  return { code: 'Internal', message: typeof err === 'string' ? err : 'unexpected error' };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (err) {
    throw toIpcError(err);
  }
}

/** A page of tasks, newest first: by status, by words, older than a cursor. */
export const listTasks = (query: TaskQuery = {}) => call<TaskPage>('list_tasks', { query });
export const getTask = (id: TaskId) => call<TaskRecord>('get_task', { id });
export const taskOutput = (id: TaskId, tail?: number) => call<OutputPage>('task_output', { id, tail: tail ?? null });
export const taskLogPage = (id: TaskId, beforeSeq: number, count: number) =>
  call<OutputPage>('task_log_page', { id, beforeSeq, count });
export const spawnTask = (request: SpawnRequest) => call<TaskId>('spawn_task', { request });
export const cancelTask = (id: TaskId) => call<null>('cancel_task', { id });
/** Every open request of every task, oldest first. */
export const pendingApprovals = () => call<Approval[]>('pending_approvals');
export const answerApproval = (id: TaskId, requestId: string, decision: Decision) =>
  call<null>('answer_approval', { id, requestId, decision });
/** A message into a running two-way task (steering, or the next instruction). */
export const sendMessage = (id: TaskId, message: string) => call<null>('send_message', { id, message });
/** Stops the task's current turn; the task then waits for a new instruction. */
export const interruptTask = (id: TaskId) => call<null>('interrupt_task', { id });
export const followUp = (id: TaskId, prompt: string) => call<TaskId>('follow_up', { id, prompt });
export const removeTask = (id: TaskId) => call<null>('remove_task', { id });
export const openTranscript = (id: TaskId) => call<null>('open_transcript', { id });
/** Copies the readable transcript, or with `raw` the agent's own lines. Too much for the
 * clipboard is a `TooLargeToCopy` error: offer `saveOutput` then. */
export const copyOutput = (id: TaskId, raw = false) => call<null>('copy_output', { id, raw });
/** Saves the output to a file the user picks; false when the dialog was cancelled. */
export const saveOutput = (id: TaskId, raw = false) => call<boolean>('save_output', { id, raw });
export const getSettings = () => call<Settings>('get_settings');
export const saveSettings = (settings: Settings) => call<Settings>('save_settings', { settings });
export const detectAgent = (path: string | null) => call<AgentInfo>('detect_agent', { path });
export const recentProjects = () => call<string[]>('recent_projects');
export const pickFolder = () => call<string | null>('pick_folder');
/** Cancels every task and exits (after the tray's Quit asked, see `confirmQuit`). */
export const quitApp = () => call<null>('quit_app');
/** The app's own process: a task whose `owner` differs is run by another program. */
export const hostProcess = () => call<ProcessRef | null>('host_process');
/** The view asked for (tray, notification, Quit) before this window listened; once, on mount.
 * From then on navigations come as `onNavigate` events. */
export const takeNavigation = () => call<Navigate | null>('take_navigation');
/** Keeps the New task form's draft in the app while the window is gone (null: forget it). */
export const keepDraft = (draft: Draft | null) => call<null>('keep_draft', { draft });
/** The draft the form had when the window was closed. */
export const getDraft = () => call<Draft | null>('get_draft');
/** The app's version (the same as `tasktray --version` and `taskctl --version`). */
export const appVersion = () => call<string>('app_version');
/** Whether Tasktray starts at login: its autostart entry is there. */
export const startAtLogin = () => call<boolean>('start_at_login');
/** Writes (with `--hidden`) or removes the autostart entry; the state it is in afterwards. */
export const setStartAtLogin = (enabled: boolean) => call<boolean>('set_start_at_login', { enabled });
/** The repository around a folder and its HEAD, where a worktree task would start; errors
 * `NotARepository` / `GitMissing` say why the option is off there. */
export const repoHead = (folder: string) => call<RepoHead>('repo_head', { folder });
/** What a finished worktree task's branch changed: files (bounded diffs), commits. */
export const reviewTask = (id: TaskId) => call<Review>('review_task', { id });
/** One file's whole diff, for a file the review sent without its patch. */
export const fileDiff = (id: TaskId, path: string) => call<string>('file_diff', { id, path });
/** Merges the task's branch into the branch it started from (`MergeConflict`,
 * `MainFolderDirty`, `WrongBranch` refuse it and leave everything as it was). */
export const mergeTask = (id: TaskId, squash: boolean) => call<MergeOutcome>('merge_task', { id, squash });
/** Removes the worktree and its branch; without `force`, `UnmergedWork` refuses while the branch
 * holds work no other branch has (ask, then call again with `force`). */
export const discardWorktree = (id: TaskId, force: boolean) => call<null>('discard_worktree', { id, force });
/** Removes the worktree's folder and keeps its branch. */
export const keepBranch = (id: TaskId) => call<null>('keep_branch', { id });
/** Opens the task's worktree folder in the file manager. */
export const openWorktree = (id: TaskId) => call<null>('open_worktree', { id });

function on<T>(event: string, handler: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(event, (e) => handler(e.payload));
}

export const onTaskChanged = (h: (p: TaskChanged) => void) => on('task://changed', h);
export const onTaskOutput = (h: (p: TaskOutput) => void) => on('task://output', h);
export const onTaskResync = (h: (p: TaskResync) => void) => on('task://resync', h);
export const onNavigate = (h: (p: Navigate) => void) => on('app://navigate', h);
