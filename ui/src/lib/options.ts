// Labels for the option values the forms offer.

import type { OutputFormat, PermissionMode } from './bindings';

export const FORMATS: { value: OutputFormat; label: string }[] = [
  { value: 'stream-json', label: 'stream-json (live)' },
  { value: 'text', label: 'text (answer only)' },
];

export const PERMISSION_MODES: { value: PermissionMode; label: string }[] = [
  { value: 'bypassPermissions', label: 'Bypass permissions' },
  { value: 'acceptEdits', label: 'Accept edits' },
  { value: 'default', label: 'Default (ask: refused)' },
  { value: 'plan', label: 'Plan (no changes)' },
];
