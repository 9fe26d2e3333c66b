// Labels for the option values the forms offer.

import type { OutputFormat, PermissionMode } from './bindings';

export const FORMATS: { value: OutputFormat; label: string }[] = [
  { value: 'stream-json', label: 'stream-json (live)' },
  { value: 'text', label: 'text (answer only)' },
];

/** Every mode the agent accepts, safest first, with what it means for the user. */
export const PERMISSION_MODES: { value: PermissionMode; label: string; hint: string }[] = [
  { value: 'default', label: 'Ask me (recommended)', hint: 'The agent asks you here before each tool that needs permission.' },
  { value: 'acceptEdits', label: 'Accept edits, ask for the rest', hint: 'File edits in the project run at once; commands and the rest ask you.' },
  { value: 'auto', label: "Auto (the agent's safety check decides)", hint: "Claude Code's own check allows or refuses each call; nothing asks you." },
  { value: 'dontAsk', label: "Don't ask: deny what needs permission", hint: 'Nothing asks you: what needs permission is refused and the agent goes on without it.' },
  { value: 'manual', label: 'Manual (same as Ask me)', hint: 'Every tool that needs permission asks you, as with Ask me.' },
  { value: 'plan', label: 'Plan only: no changes', hint: 'The agent reads and writes a plan; it changes no file and runs no command.' },
  {
    value: 'bypassPermissions',
    label: 'Bypass permissions — dangerous: runs anything without asking',
    hint: 'Every tool runs without asking, whatever the agent decides.',
  },
];

export function permissionMode(value: PermissionMode) {
  return PERMISSION_MODES.find((m) => m.value === value) ?? PERMISSION_MODES[0]!;
}
