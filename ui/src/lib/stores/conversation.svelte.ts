// Talking to a running two-way task: the message box's draft, Send and Stop turn. A sent message
// shows up in the transcript through the task's output (the agent replays what it takes up), so
// nothing is added here but a short "Sent".

import type { IpcError, TaskId } from '../bindings';
import * as ipc from '../ipc';
import { sentence } from '../text';

/** How long "Sent" shows after a message went out. */
export const SENT_MS = 2000;

export function messageError(e: IpcError): string {
  switch (e.code) {
    case 'EmptyMessage':
      return 'Write a message first.';
    case 'TaskNotRunning':
      return 'The task is no longer running.';
    case 'TaskQueued':
      return 'The task is queued and has not started: it takes messages once it runs.';
    case 'InputClosed':
      return 'The task is finishing and takes no more messages.';
    case 'NotTwoWay':
      return 'This task runs in the text format and cannot take messages.';
    default:
      return sentence(e.message);
  }
}

export class Conversation {
  readonly id: TaskId;
  draft = $state('');
  sending = $state(false);
  /** A message went out a moment ago. */
  sent = $state(false);
  stopping = $state(false);
  error = $state<string | null>(null);

  #sentTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(id: TaskId) {
    this.id = id;
  }

  /** Call on every edit of the draft. */
  edited(): void {
    this.error = null;
  }

  async send(): Promise<boolean> {
    if (this.sending) return false;
    const message = this.draft;
    if (!message.trim()) {
      this.error = 'Write a message first.';
      return false;
    }
    this.sending = true;
    this.error = null;
    try {
      await ipc.sendMessage(this.id, message);
      // Keep what the user typed meanwhile (unlikely, but theirs).
      if (this.draft === message) this.draft = '';
      this.#flashSent();
      return true;
    } catch (err) {
      this.error = messageError(err as IpcError);
      return false;
    } finally {
      this.sending = false;
    }
  }

  /** Stops the current turn (`interrupt_task`). */
  async stop(): Promise<boolean> {
    if (this.stopping) return false;
    this.stopping = true;
    this.error = null;
    try {
      await ipc.interruptTask(this.id);
      return true;
    } catch (err) {
      this.error = messageError(err as IpcError);
      return false;
    } finally {
      this.stopping = false;
    }
  }

  dispose(): void {
    if (this.#sentTimer !== null) clearTimeout(this.#sentTimer);
    this.#sentTimer = null;
  }

  #flashSent(): void {
    this.sent = true;
    if (this.#sentTimer !== null) clearTimeout(this.#sentTimer);
    this.#sentTimer = setTimeout(() => {
      this.sent = false;
      this.#sentTimer = null;
    }, SENT_MS);
  }
}
