// The app's settings: what the backend has saved, and the Settings view's editable draft.

import type { AgentInfo, IpcError, OutputFormat, PermissionMode, Settings } from '../bindings';
import * as ipc from '../ipc';
import { sentence } from '../text';

export const RING_LINES_MIN = 100;
export const RING_LINES_MAX = 100_000;
export const GRACE_MIN = 0.5;
export const GRACE_MAX = 120;
export const APPROVAL_TIMEOUT_MAX = 1440;
/** Tasks running at once: 0 is no limit. */
export const MAX_RUNNING_MAX = 1000;

/** What a form shows before the backend answered (the core's defaults). */
export const FALLBACK_SETTINGS: Settings = {
  agent_path: null,
  default_format: 'stream-json',
  default_permission_mode: 'default',
  default_model: null,
  keep_session_by_default: false,
  worktree_by_default: false,
  notifications: true,
  ring_lines: 1000,
  grace_secs: 5,
  approval_timeout_mins: 30,
  allowed_tools: '',
  max_running: 4,
};

export class SettingsStore {
  /** The saved settings, once loaded. */
  current = $state<Settings | null>(null);
  error = $state<IpcError | null>(null);

  async load(): Promise<Settings | null> {
    try {
      this.current = await ipc.getSettings();
      this.error = null;
    } catch (err) {
      this.error = err as IpcError;
    }
    return this.current;
  }
}

const timeoutError = () => `Whole minutes, from 0 (no limit) to ${APPROVAL_TIMEOUT_MAX.toLocaleString('en')}.`;
const maxRunningError = () => `A whole number, from 0 (no limit) to ${MAX_RUNNING_MAX.toLocaleString('en')}.`;
const badMaxRunning = (n: number) => !Number.isInteger(n) || n < 0 || n > MAX_RUNNING_MAX;

type Field = 'agent_path' | 'ring_lines' | 'grace_secs' | 'approval_timeout_mins' | 'max_running';

/** The Settings view's draft. The number fields are null while empty. */
export class SettingsForm {
  agent_path = $state('');
  default_format = $state<OutputFormat>('stream-json');
  default_permission_mode = $state<PermissionMode>('default');
  default_model = $state('');
  keep_session_by_default = $state(false);
  worktree_by_default = $state(false);
  notifications = $state(true);
  ring_lines = $state<number | null>(1000);
  grace_secs = $state<number | null>(5);
  approval_timeout_mins = $state<number | null>(30);
  allowed_tools = $state('');
  max_running = $state<number | null>(4);

  errors = $state<Partial<Record<Field, string>>>({});
  banner = $state<string | null>(null);
  saving = $state(false);
  saved = $state(false);
  detecting = $state(false);
  agent = $state<AgentInfo | null>(null);

  #store: SettingsStore;

  constructor(store: SettingsStore) {
    this.#store = store;
    this.fill(store.current ?? FALLBACK_SETTINGS);
  }

  fill(s: Settings): void {
    this.agent_path = s.agent_path ?? '';
    this.default_format = s.default_format;
    this.default_permission_mode = s.default_permission_mode;
    this.default_model = s.default_model ?? '';
    this.keep_session_by_default = s.keep_session_by_default;
    this.worktree_by_default = s.worktree_by_default;
    this.notifications = s.notifications;
    this.ring_lines = s.ring_lines;
    this.grace_secs = s.grace_secs;
    this.approval_timeout_mins = s.approval_timeout_mins;
    this.allowed_tools = s.allowed_tools;
    this.max_running = s.max_running;
  }

  /** Any edit hides "Saved" and the error of the edited field. */
  edited(field?: Field): void {
    this.saved = false;
    if (field && this.errors[field]) this.errors = { ...this.errors, [field]: undefined };
  }

  /** Checks the time to answer while it is typed: the field says at once what it takes. */
  checkTimeout(): void {
    this.edited('approval_timeout_mins');
    const t = this.approval_timeout_mins;
    if (t !== null && (!Number.isInteger(t) || t < 0 || t > APPROVAL_TIMEOUT_MAX))
      this.errors = { ...this.errors, approval_timeout_mins: timeoutError() };
  }

  /** Checks the tasks running at once while it is typed, like the time to answer. */
  checkMaxRunning(): void {
    this.edited('max_running');
    const n = this.max_running;
    if (n !== null && badMaxRunning(n)) this.errors = { ...this.errors, max_running: maxRunningError() };
  }

  /** The draft as Settings, or null with `errors` set. */
  validate(): Settings | null {
    const errors: Partial<Record<Field, string>> = {};
    const path = this.agent_path.trim();
    if (path && !path.startsWith('/')) errors.agent_path = 'Use an absolute path, or leave empty to search PATH.';
    const ring = this.ring_lines ?? NaN;
    if (!Number.isInteger(ring) || ring < RING_LINES_MIN || ring > RING_LINES_MAX)
      errors.ring_lines = `A whole number from ${RING_LINES_MIN} to ${RING_LINES_MAX.toLocaleString('en')}.`;
    const grace = this.grace_secs ?? NaN;
    if (!Number.isFinite(grace) || grace < GRACE_MIN || grace > GRACE_MAX)
      errors.grace_secs = `Seconds, from ${GRACE_MIN} to ${GRACE_MAX}.`;
    const timeout = this.approval_timeout_mins ?? NaN;
    if (!Number.isInteger(timeout) || timeout < 0 || timeout > APPROVAL_TIMEOUT_MAX)
      errors.approval_timeout_mins = timeoutError();
    const maxRunning = this.max_running ?? NaN;
    if (badMaxRunning(maxRunning)) errors.max_running = maxRunningError();
    this.errors = errors;
    if (Object.keys(errors).length) return null;
    return {
      agent_path: path || null,
      default_format: this.default_format,
      default_permission_mode: this.default_permission_mode,
      default_model: this.default_model.trim() || null,
      keep_session_by_default: this.keep_session_by_default,
      worktree_by_default: this.worktree_by_default,
      notifications: this.notifications,
      ring_lines: ring,
      grace_secs: grace,
      approval_timeout_mins: timeout,
      allowed_tools: this.allowed_tools.trim(),
      max_running: maxRunning,
    };
  }

  async save(): Promise<boolean> {
    const settings = this.validate();
    if (!settings || this.saving) return false;
    this.saving = true;
    this.banner = null;
    try {
      const saved = await ipc.saveSettings(settings);
      this.#store.current = saved;
      this.fill(saved);
      this.saved = true;
      // What was found before may be stale now: look again for the saved path.
      void this.detect();
      return true;
    } catch (err) {
      const e = err as IpcError;
      if (e.code === 'AgentNotFound') this.errors = { ...this.errors, agent_path: sentence(e.message) };
      else if (e.code === 'InvalidSettings' && /at once/i.test(e.message))
        this.errors = { ...this.errors, max_running: sentence(e.message) };
      else this.banner = sentence(e.message);
      return false;
    } finally {
      this.saving = false;
    }
  }

  async detect(): Promise<void> {
    this.detecting = true;
    try {
      this.agent = await ipc.detectAgent(this.agent_path.trim() || null);
    } catch (err) {
      this.agent = { path: null, version: null, error: sentence((err as IpcError).message) };
    } finally {
      this.detecting = false;
    }
  }
}
