// Output is text: these helpers prepare it for `{text}` interpolation (never HTML).

// CSI (ESC [ ... final), 8-bit CSI, OSC (ESC ] ... BEL | ESC \), DCS/SOS/PM/APC strings, and
// two-character escapes (ESC + one byte, e.g. ESC c, ESC 7, charset selections ESC ( B).
const ANSI =
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]/g;
// C0 controls except tab and newline, and DEL. (CR is handled before, see below.)
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * Removes ANSI escape sequences and other control characters. A carriage return is
 * interpreted the way a terminal shows it: what follows it overwrites the line, so only the
 * text after the last `\r` of each line is kept (progress bars collapse to their final state).
 */
export function stripAnsi(text: string): string {
  // Fast path: most lines hold no escape or control character at all.
  if (!/[\x00-\x08\x0b-\x1f\x7f\x9b]/.test(text)) return text;
  let out = text.replace(ANSI, '');
  if (out.includes('\r')) {
    out = out
      .split('\n')
      .map((line) => {
        const parts = line.split('\r').filter((p) => p.length > 0);
        return parts.length ? parts[parts.length - 1] : '';
      })
      .join('\n');
  }
  return out.replace(CONTROL, '');
}

/** A backend message as a sentence: the core writes them lowercase, as Rust errors go. */
export function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** The first line of `text` (without its newline). */
export function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

/** How many lines `text` has (a trailing newline does not start a new line). */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n - 1 : n;
}

/** Most characters one entry shows; the full text stays available through Copy output or the
 * transcript file. A 1 MiB tool result in one text node would stall layout. */
export const MAX_ENTRY_CHARS = 20_000;

/** `text` cut to `max` characters, and how many were left out. */
export function clip(text: string, max = MAX_ENTRY_CHARS): { text: string; omitted: number } {
  if (text.length <= max) return { text, omitted: 0 };
  return { text: text.slice(0, max), omitted: text.length - max };
}

/** A reason without the `[tasktray] ` tag the backend puts before its own lines in the output
 * (the UI already says who speaks). */
export function untagged(text: string): string {
  return text.replace(/^\s*\[tasktray\]\s*/i, '');
}
