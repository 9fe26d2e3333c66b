// The requests that wait for the user: every open approval of every task, as the backend has
// them (`pending_approvals`, oldest first). Re-fetched at start, on each task://changed that can
// open or close one (a request, an answer, a status change, the task's end) and when the window
// shows again; answering removes the request here at once.

import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { Approval, Decision, IpcError, TaskChanged, TaskId } from '../bindings';
import * as ipc from '../ipc';
import { sentence } from '../text';

/** Identifies one request across tasks. */
export function requestKey(task: TaskId, requestId: string): string {
  return `${task}/${requestId}`;
}

export const keyOf = (a: Approval) => requestKey(a.task, a.request_id);

/** A request this window tried to answer after it had closed elsewhere: said once, in place. */
export type Gone = { key: string; task: TaskId; tool: string; message: string };

/** Changes after which the open requests may differ. */
const RELOAD_ON = new Set<TaskChanged['kind']>([
  'approvalRequested',
  'approvalResolved',
  'statusChanged',
  'completed',
  'failed',
  'cancelled',
  'removed',
]);
const ENDED = new Set<TaskChanged['kind']>(['completed', 'failed', 'cancelled', 'removed']);

const NONE: Approval[] = [];

/** Why an answer did not reach the task, for the card. */
export function answerError(e: IpcError): string {
  switch (e.code) {
    case 'ApprovalNotFound':
      return 'Already answered elsewhere, or it timed out or was withdrawn.';
    case 'TaskNotRunning':
      return 'The task is no longer running.';
    case 'NotTwoWay':
      return 'This task cannot take answers (it runs in the text format).';
    default:
      return sentence(e.message);
  }
}

export class ApprovalStore {
  /** Every open request, oldest first. */
  all = $state.raw<Approval[]>([]);
  error = $state<IpcError | null>(null);
  /** Answers on their way, by request key. */
  answering = new SvelteSet<string>();
  /** The last failed answer of a request that is still open. */
  errors = new SvelteMap<string, string>();
  /** "Message to the agent" drafts, by request key. */
  drafts = new SvelteMap<string, string>();
  gone = $state.raw<Gone[]>([]);

  #byTask = $derived.by(() => {
    const m = new Map<TaskId, Approval[]>();
    for (const a of this.all) {
      const list = m.get(a.task);
      if (list) list.push(a);
      else m.set(a.task, [a]);
    }
    return m;
  });
  #generation = 0;

  /** The task's open requests, oldest first. */
  forTask(id: TaskId): Approval[] {
    return this.#byTask.get(id) ?? NONE;
  }

  isOpen(task: TaskId, requestId: string): boolean {
    return this.forTask(task).some((a) => a.request_id === requestId);
  }

  goneFor(id: TaskId): Gone[] {
    return this.gone.filter((g) => g.task === id);
  }

  /** Re-fetches the open requests; the newest answer wins over a slower, older one. */
  async load(): Promise<void> {
    const gen = ++this.#generation;
    try {
      const list = await ipc.pendingApprovals();
      if (gen !== this.#generation) return;
      this.all = list;
      this.error = null;
      this.#prune();
    } catch (err) {
      if (gen === this.#generation) this.error = err as IpcError;
    }
  }

  onChanged(c: TaskChanged): void {
    if (!RELOAD_ON.has(c.kind)) return;
    // Say it at once; the fetch confirms.
    if (c.kind === 'approvalResolved' && c.message) this.#remove(requestKey(c.id, c.message));
    if (ENDED.has(c.kind)) {
      this.all = this.all.filter((a) => a.task !== c.id);
      this.gone = this.gone.filter((g) => g.task !== c.id);
    }
    void this.load();
  }

  /** Answers a request; true once the task has it. Deny sends the request's draft message. */
  async answer(a: Approval, decision: Decision['decision']): Promise<boolean> {
    const key = keyOf(a);
    if (this.answering.has(key)) return false;
    this.answering.add(key);
    this.errors.delete(key);
    const message = this.drafts.get(key)?.trim() || null;
    const d: Decision = decision === 'deny' ? { decision, message } : { decision };
    try {
      await ipc.answerApproval(a.task, a.request_id, d);
      this.#remove(key);
      void this.load(); // supersedes a fetch that started before the answer
      return true;
    } catch (err) {
      const e = err as IpcError;
      if (e.code === 'ApprovalNotFound' || e.code === 'TaskNotRunning') {
        this.#remove(key);
        this.gone = [...this.gone.filter((g) => g.key !== key), { key, task: a.task, tool: a.tool, message: answerError(e) }];
        void this.load();
      } else {
        this.errors.set(key, answerError(e));
      }
      return false;
    } finally {
      this.answering.delete(key);
    }
  }

  dismiss(key: string): void {
    this.gone = this.gone.filter((g) => g.key !== key);
  }

  #remove(key: string): void {
    if (this.all.some((a) => keyOf(a) === key)) this.all = this.all.filter((a) => keyOf(a) !== key);
    this.errors.delete(key);
    this.drafts.delete(key);
  }

  /** Forgets the errors and drafts of requests that closed. */
  #prune(): void {
    const open = new Set(this.all.map(keyOf));
    for (const k of [...this.errors.keys()]) if (!open.has(k)) this.errors.delete(k);
    for (const k of [...this.drafts.keys()]) if (!open.has(k)) this.drafts.delete(k);
  }
}
