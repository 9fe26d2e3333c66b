// The launch form's state: the draft (kept across navigation and errors, cleared only after a
// successful submit), client-side validation, and backend errors put where they belong.

import type { IpcError, OutputFormat, PermissionMode, Settings, TaskId } from '../bindings';
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

  recent = $state<string[]>([]);
  errors = $state<FieldErrors>({});
  busy = $state<Busy | null>(null);
  /** The AgentNotFound message, shown with install help. */
  agentMissing = $state<string | null>(null);
  banner = $state<string | null>(null);
  submitting = $state(false);

  #touched = false;

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
    }
    if (!this.project_dir && recent[0]) this.project_dir = recent[0];
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
  }
}
