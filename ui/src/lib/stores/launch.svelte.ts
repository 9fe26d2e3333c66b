// The launch form's state: the draft (kept across navigation and errors, cleared only after a
// successful submit), client-side validation, and backend errors put where they belong.
//
// The window is destroyed when it is closed, and this store with it, so every edit of the draft
// is also handed to the app (`keep_draft`, memory only) and the next window's form takes it
// back when it mounts (`restore`). Each edit is sent at once, not after a pause: a close right
// after the last keystroke must not lose it, and nothing runs in a page being torn down. At
// most one call is in flight; edits made meanwhile are sent as one, the newest, right after it.

import type { Draft, IpcError, OutputFormat, PermissionMode, RepoHead, Settings, TaskId } from '../bindings';
import * as ipc from '../ipc';
import { sentence } from '../text';

type Field = 'project_dir' | 'prompt';

export type FieldErrors = Partial<Record<Field, string>>;

/** A `ProjectBusy` error: the message and the task that holds the project. */
export type Busy = { message: string; taskId: TaskId | null };

/** The task id of a ProjectBusy error: the payload's `task_id`, else the one in the message. */
export function busyTaskId(e: IpcError): TaskId | null {
  if (typeof e.task_id === 'number') return e.task_id;
  const m = /task #?(\d+)/i.exec(e.message);
  return m ? Number(m[1]) : null;
}

/** Why a folder cannot have a worktree, short enough for under a checkbox: the first clause of
 * the backend's message, without the folder's path (the field above shows it). */
export function shortRepoReason(message: string): string {
  const i = message.indexOf(': ');
  const clause = i < 0 ? message : message.slice(0, i);
  const short = clause
    .replace(/^\/\S*\s+is\s+/, '')
    .replace(/\s+at\s+\/\S+/, '')
    .trim();
  return sentence(short || message);
}

/** What a new worktree starts from, as the form says it under the checkbox. */
export function startsFrom(head: RepoHead): string {
  const at = head.branch ? `${head.branch} at ${head.short}` : `detached HEAD at ${head.short}`;
  return head.dirty ? `${at}; uncommitted changes are not included` : at;
}

export class LaunchForm {
  project_dir = $state('');
  name = $state('');
  prompt = $state('');
  format = $state<OutputFormat>('stream-json');
  permission_mode = $state<PermissionMode>('default');
  model = $state('');
  keep_session = $state(false);
  /** Queue the task when another task runs in its folder, instead of refusing it. Kept for the
   * next task, like the options. */
  queue = $state(false);
  /** Run the task in a git worktree of its own (when its folder is in a repository). */
  worktree = $state(false);
  /** The repository HEAD of the folder (what a worktree starts from), once looked up. */
  head = $state<RepoHead | null>(null);
  /** Why the folder can have no worktree (not a repository, no git), shortened; and whole. */
  headError = $state<{ short: string; message: string } | null>(null);

  recent = $state<string[]>([]);
  errors = $state<FieldErrors>({});
  busy = $state<Busy | null>(null);
  /** The AgentNotFound message, shown with install help. */
  agentMissing = $state<string | null>(null);
  banner = $state<string | null>(null);
  submitting = $state(false);

  #touched = false;
  /** The app's draft was looked for (once per window: after that this store has the draft). */
  #restored = false;
  #keeping = false;
  #keepAgain = false;
  /** Only the newest repo_head answer counts. */
  #headSeq = 0;

  /** The draft as the app keeps it. */
  draft(): Draft {
    return {
      project_dir: this.project_dir,
      name: this.name,
      prompt: this.prompt,
      format: this.format,
      permission_mode: this.permission_mode,
      model: this.model,
      keep_session: this.keep_session,
      queue: this.queue,
      worktree: this.worktree,
    };
  }

  /** Takes back the draft the app kept when the last window closed, unless the user already
   * edited this one. Call when the form mounts, before `applyDefaults`. */
  async restore(): Promise<void> {
    if (this.#restored) return;
    this.#restored = true;
    let kept: Draft | null;
    try {
      kept = await ipc.getDraft();
    } catch {
      return; // a convenience only
    }
    if (!kept || this.#touched) return;
    this.project_dir = kept.project_dir;
    this.name = kept.name;
    this.prompt = kept.prompt;
    this.format = kept.format;
    this.permission_mode = kept.permission_mode;
    this.model = kept.model;
    this.keep_session = kept.keep_session;
    this.queue = kept.queue;
    this.worktree = kept.worktree ?? false;
    this.#touched = true;
  }

  /** Hands the draft (null once it was submitted) to the app: now, or right after the call in
   * flight. */
  async #keep(): Promise<void> {
    if (this.#keeping) {
      this.#keepAgain = true;
      return;
    }
    this.#keeping = true;
    try {
      do {
        this.#keepAgain = false;
        // After the edit's other handlers (a field's binding) have run.
        await Promise.resolve();
        try {
          await ipc.keepDraft(this.#touched ? this.draft() : null);
        } catch {
          // Memory only: a draft not kept is no error to show.
        }
      } while (this.#keepAgain);
    } finally {
      this.#keeping = false;
    }
  }

  /** Fills the options from the settings and the folder from the most recent project, unless
   * the user already started a draft. */
  applyDefaults(settings: Settings | null, recent: string[]): void {
    this.recent = recent;
    if (this.#touched) return;
    if (settings) {
      this.format = settings.default_format;
      this.permission_mode = settings.default_permission_mode;
      this.model = settings.default_model ?? '';
      this.keep_session = settings.keep_session_by_default;
      this.worktree = settings.worktree_by_default;
    }
    if (!this.project_dir && recent[0]) this.project_dir = recent[0];
  }

  /** Looks up the repository of `dir` (call it debounced as the folder changes). An answer for
   * a folder that is no longer the form's is dropped. */
  async checkRepo(dir: string): Promise<void> {
    const seq = ++this.#headSeq;
    if (!dir.startsWith('/')) {
      this.head = null;
      this.headError = null;
      return;
    }
    try {
      const head = await ipc.repoHead(dir);
      if (seq !== this.#headSeq) return;
      this.head = head;
      this.headError = null;
    } catch (err) {
      if (seq !== this.#headSeq) return;
      const message = sentence((err as IpcError).message);
      this.head = null;
      this.headError = { short: shortRepoReason(message), message };
    }
  }

  /** The worktree option as it is sent: off where the folder has no repository. */
  get wantsWorktree(): boolean {
    return this.worktree && !this.headError;
  }

  async loadRecent(): Promise<string[]> {
    try {
      return await ipc.recentProjects();
    } catch {
      return []; // a convenience only
    }
  }

  /** Call on every edit: marks the draft as the user's and clears the field's errors. */
  edited(field?: Field): void {
    this.#touched = true;
    void this.#keep();
    if (field && this.errors[field]) this.errors = { ...this.errors, [field]: undefined };
    if (field === 'project_dir') this.busy = null;
  }

  /** A task ended or went away: a "project busy" note about it is no longer true. */
  taskChanged(id: TaskId, kind: string): void {
    const ended = ['completed', 'failed', 'cancelled', 'removed'].includes(kind);
    if (ended && this.busy?.taskId === id) this.busy = null;
  }

  async choose(): Promise<void> {
    try {
      const dir = await ipc.pickFolder();
      if (dir) {
        this.project_dir = dir;
        this.edited('project_dir');
      }
    } catch (err) {
      this.banner = sentence((err as IpcError).message);
    }
  }

  validate(): boolean {
    const errors: FieldErrors = {};
    const dir = this.project_dir.trim();
    if (!dir) errors.project_dir = 'Choose the project folder the agent works in.';
    else if (!dir.startsWith('/')) errors.project_dir = 'Use an absolute path (starting with /).';
    if (!this.prompt.trim()) errors.prompt = 'Write what the agent should do.';
    this.errors = errors;
    return Object.keys(errors).length === 0;
  }

  /** Spawns the task; returns its id, or null with the errors shown. The draft is kept on error.
   * `queue`: queue it if its folder is busy (the checkbox; "Queue it instead" forces it). Over
   * the running limit the backend queues it either way. */
  async submit(queue: boolean = this.queue): Promise<TaskId | null> {
    if (this.submitting) return null;
    this.busy = null;
    this.agentMissing = null;
    this.banner = null;
    if (!this.validate()) return null;
    this.submitting = true;
    try {
      const id = await ipc.spawnTask({
        name: this.name.trim(),
        prompt: this.prompt,
        project_dir: this.project_dir.trim(),
        options: {
          format: this.format,
          permission_mode: this.permission_mode,
          model: this.model.trim() || null,
          keep_session: this.keep_session,
          resume: null,
          allowed_tools: [], // the backend adds the ones Settings always allows
          worktree: this.wantsWorktree,
        },
        follow_up_of: null,
        queue,
      });
      this.clear();
      return id;
    } catch (err) {
      this.show(err as IpcError);
      return null;
    } finally {
      this.submitting = false;
    }
  }

  show(err: IpcError): void {
    const e = { ...err, message: sentence(err.message) };
    switch (e.code) {
      case 'ProjectBusy':
        this.busy = { message: e.message, taskId: busyTaskId(e) };
        break;
      case 'AgentNotFound':
        this.agentMissing = e.message;
        break;
      case 'EmptyPrompt':
      case 'InvalidPrompt':
        this.errors = { ...this.errors, prompt: e.message };
        break;
      case 'InvalidProjectDir':
        this.errors = { ...this.errors, project_dir: e.message };
        break;
      default:
        this.banner = e.message;
    }
  }

  /** After a successful submit: a fresh prompt; the folder and options stay for the next task. */
  clear(): void {
    this.name = '';
    this.prompt = '';
    this.errors = {};
    this.#touched = false;
    void this.#keep(); // forgets the kept draft
  }
}
