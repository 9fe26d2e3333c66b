// What a tool request shows: its input in a readable form (a command, a file and its content,
// a -/+ diff, or JSON), how it ended, and how long it may still wait. Text only.

import type { ApprovalOutcome } from './bindings';
import { countLines } from './text';

/** One run of diff lines of one kind, as one text node (a long edit stays a few nodes). */
export type DiffPart = { kind: 'same' | 'del' | 'add'; text: string };

export type ToolView =
  | { kind: 'bash'; command: string }
  | { kind: 'write'; path: string; content: string; lines: number }
  | { kind: 'edit'; path: string; edits: DiffPart[][]; replaceAll: boolean }
  | { kind: 'json'; text: string };

type Obj = Record<string, unknown>;

const str = (o: Obj, key: string): string | null => (typeof o[key] === 'string' ? (o[key] as string) : null);

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The input of `tool` as the request card shows it. */
export function toolView(tool: string, input: unknown): ToolView {
  if (isObj(input)) {
    const path = str(input, 'file_path');
    if (tool === 'Bash' && str(input, 'command') !== null) return { kind: 'bash', command: str(input, 'command')! };
    if (tool === 'Write' && path !== null && str(input, 'content') !== null) {
      const content = str(input, 'content')!;
      return { kind: 'write', path, content, lines: countLines(content) };
    }
    if (tool === 'Edit' && path !== null && str(input, 'old_string') !== null && str(input, 'new_string') !== null) {
      const edits = [diff(str(input, 'old_string')!, str(input, 'new_string')!)];
      return { kind: 'edit', path, edits, replaceAll: input.replace_all === true };
    }
    if (tool === 'MultiEdit' && path !== null && Array.isArray(input.edits)) {
      const edits = input.edits.filter(isObj).map((e) => diff(str(e, 'old_string') ?? '', str(e, 'new_string') ?? ''));
      return { kind: 'edit', path, edits, replaceAll: false };
    }
  }
  return { kind: 'json', text: JSON.stringify(input, null, 2) ?? 'null' };
}

/** A line diff of `before` and `after`: the lines both share at the start and the end stay
 * as context, the rest shows as removed then added. */
export function diff(before: string, after: string): DiffPart[] {
  const a = before.length ? before.split('\n') : [];
  const b = after.length ? after.split('\n') : [];
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const parts: DiffPart[] = [];
  const push = (kind: DiffPart['kind'], mark: string, lines: string[]) => {
    if (lines.length) parts.push({ kind, text: lines.map((l) => `${mark}${l}`).join('\n') });
  };
  push('same', '  ', a.slice(0, head));
  push('del', '- ', a.slice(head, a.length - tail));
  push('add', '+ ', b.slice(head, b.length - tail));
  push('same', '  ', a.slice(a.length - tail));
  return parts;
}

/** What a tool acts on (the command, the file, the URL), as the backend summarizes it. */
export function subjectOf(tool: string, input: unknown): string | null {
  if (!isObj(input)) return null;
  if (tool === 'Bash') return str(input, 'command');
  for (const key of ['file_path', 'notebook_path', 'path', 'url', 'pattern']) {
    const v = str(input, key);
    if (v !== null) return v;
  }
  return null;
}

const VERBS: Record<string, string> = {
  Bash: 'run',
  Write: 'write',
  Edit: 'edit',
  MultiEdit: 'edit',
  NotebookEdit: 'edit',
  Read: 'read',
  WebFetch: 'fetch',
  WebSearch: 'search for',
};

/** `run` for Bash, `write` for Write, ... `use` for the rest. */
export function verbOf(tool: string): string {
  return VERBS[tool] ?? 'use';
}

/** The agent's own account of the call: the request's, else the one a Bash call carries. */
export function descriptionOf(description: string | null, input: unknown): string | null {
  const d = description?.trim() || (isObj(input) ? str(input, 'description')?.trim() : null);
  return d || null;
}

/** What "Allow always" would allow, from the agent's suggestions (`addRules` etc.). */
export function alwaysAllows(tool: string, suggestions: unknown[]): string[] {
  const out: string[] = [];
  for (const s of suggestions) {
    if (!isObj(s)) continue;
    if (s.type === 'addRules' && (s.behavior === undefined || s.behavior === 'allow') && Array.isArray(s.rules)) {
      for (const r of s.rules.filter(isObj)) {
        const name = str(r, 'toolName');
        const content = str(r, 'ruleContent');
        if (name) out.push(content ? `${name}(${content})` : name);
      }
    } else if (s.type === 'setMode' && s.mode === 'acceptEdits') {
      out.push('file edits');
    } else if (s.type === 'addDirectories' && Array.isArray(s.directories)) {
      for (const d of s.directories) if (typeof d === 'string') out.push(`the folder ${d}`);
    }
  }
  return out.length ? out : [tool];
}

/** The one-line outcome of an answered request. */
export function outcomeText(outcome: ApprovalOutcome, message: string | null): { ok: boolean; text: string } {
  const m = message?.trim();
  switch (outcome) {
    case 'allowed':
      return { ok: true, text: '✓ Allowed' };
    case 'allowedAlways':
      return { ok: true, text: '✓ Allowed for the rest of the task' };
    case 'allowedByRule':
      return { ok: true, text: '✓ Allowed by an earlier “always”' };
    case 'denied':
      return { ok: false, text: m && m !== DEFAULT_DENY_MESSAGE ? `✗ Denied: ${m}` : '✗ Denied' };
    case 'timedOut':
      return { ok: false, text: '✗ Denied: no answer in time' };
    case 'withdrawn':
      return { ok: false, text: m ? `Withdrawn: ${m}` : 'Withdrawn' };
  }
}

/** What the agent hears when the user denies without a message (the backend's default). */
const DEFAULT_DENY_MESSAGE = 'The user denied this tool call.';

/** `29 min`, `1 h 05 min`, `40 s`: how long until `at`, in whole minutes (seconds in the last
 * one), the way a clock counts down. */
export function timeLeft(at: number, now: number): string {
  const ms = at - now;
  if (ms <= 0) return 'now';
  if (ms < 60_000) return `${Math.ceil(ms / 1000)} s`;
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min`;
  const m = min % 60;
  return m ? `${Math.floor(min / 60)} h ${String(m).padStart(2, '0')} min` : `${min / 60} h`;
}
