// What the rows of a transcript view may need from the view around them: which task they
// belong to, the transcript (to find a turn's refused tools) and ways to scroll to a row or to
// the open requests at the end.

import { getContext, setContext } from 'svelte';
import type { TaskId } from '../bindings';
import type { Row, Transcript } from './transcript.svelte';

const KEY = Symbol('transcript-view');

export type TranscriptContext = {
  taskId: TaskId;
  transcript: Transcript;
  /** Scrolls to the tool result of `toolUseId` (if it is rendered) and focuses it. */
  reveal(toolUseId: string): void;
  /** Scrolls to the open requests at the end of the transcript. */
  toRequests(): void;
};

export function provideTranscript(ctx: TranscriptContext): void {
  setContext(KEY, ctx);
}

export function useTranscript(): TranscriptContext | undefined {
  return getContext<TranscriptContext | undefined>(KEY);
}

/** A tool result the agent got as an error, and the call it answered. */
export type Refusal = { toolUseId: string; tool: string | null; summary: string | null; text: string };

/** Permission refusals read like this (Claude Code's words, and Tasktray's deny messages). */
const REFUSED = /permission|denied|haven't granted|not allowed|refused/i;

/**
 * The tool errors of the turn that `result` ends (the rows after the previous result): the
 * refusals when their text says so (or repeats what the user said with Deny), else every tool
 * error. `rows` is the rendered window.
 */
export function refusalsOf(rows: Row[], result: Row): Refusal[] {
  const end = rows.indexOf(result);
  if (end < 0) return [];
  const errors: Refusal[] = [];
  const calls = new Map<string, { name: string; summary: string }>();
  const denials: string[] = [];
  for (let i = end - 1; i >= 0; i--) {
    const e = rows[i]!.entry;
    if (!e || e.kind === 'result') break;
    if (e.kind === 'toolResult' && e.isError) errors.push({ toolUseId: e.toolUseId, tool: null, summary: null, text: e.text });
    else if (e.kind === 'toolCall') calls.set(e.id, { name: e.name, summary: e.summary });
    else if (e.kind === 'answer' && e.message?.trim() && (e.outcome === 'denied' || e.outcome === 'timedOut'))
      denials.push(e.message.trim());
  }
  errors.reverse();
  for (const r of errors) {
    const call = calls.get(r.toolUseId);
    r.tool = call?.name ?? null;
    r.summary = call?.summary ?? null;
  }
  const refused = errors.filter((r) => REFUSED.test(r.text) || denials.some((m) => r.text.includes(m)));
  return refused.length ? refused : errors;
}
