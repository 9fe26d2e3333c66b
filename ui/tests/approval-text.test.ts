// The pure helpers behind request cards and answers.

import { describe, expect, it } from 'vitest';
import { alwaysAllows, diff, outcomeText, subjectOf, timeLeft, toolView } from '../src/lib/approval';
import { untagged } from '../src/lib/text';

describe('request helpers', () => {
  it('diffs by lines, keeping shared lines as context', () => {
    expect(diff('a\nb\nc', 'a\nB\nc')).toEqual([
      { kind: 'same', text: '  a' },
      { kind: 'del', text: '- b' },
      { kind: 'add', text: '+ B' },
      { kind: 'same', text: '  c' },
    ]);
    expect(diff('', 'new')).toEqual([{ kind: 'add', text: '+ new' }]);
    expect(diff('x\nx', 'x')).toEqual([
      { kind: 'same', text: '  x' },
      { kind: 'del', text: '- x' },
    ]);
  });

  it('reads tool inputs, falling back to JSON', () => {
    expect(toolView('Bash', { command: 'ls' })).toEqual({ kind: 'bash', command: 'ls' });
    expect(toolView('Write', { file_path: '/a', content: 'x\ny\n' })).toEqual({ kind: 'write', path: '/a', content: 'x\ny\n', lines: 2 });
    expect(toolView('Bash', { nope: 1 }).kind).toBe('json');
    expect(toolView('Edit', 'weird').kind).toBe('json');
    expect(toolView('MultiEdit', { file_path: '/a', edits: [{ old_string: 'a', new_string: 'b' }] }).kind).toBe('edit');
    expect(subjectOf('Read', { file_path: '/etc/passwd' })).toBe('/etc/passwd');
    expect(subjectOf('Bash', { command: 'ls' })).toBe('ls');
  });

  it('words outcomes, time left and what Always allows', () => {
    expect(outcomeText('denied', 'The user denied this tool call.').text).toBe('✗ Denied');
    expect(outcomeText('denied', 'not now').text).toBe('✗ Denied: not now');
    expect(outcomeText('timedOut', 'Nobody answered').text).toBe('✗ Denied: no answer in time');
    expect(timeLeft(29 * 60_000, 0)).toBe('29 min');
    expect(timeLeft(30 * 60_000 - 1, 0)).toBe('29 min');
    expect(timeLeft(40_500, 0)).toBe('41 s');
    expect(timeLeft(65 * 60_000, 0)).toBe('1 h 05 min');
    expect(timeLeft(120 * 60_000, 0)).toBe('2 h');
    expect(timeLeft(-5, 0)).toBe('now');
    expect(alwaysAllows('Edit', [{ type: 'setMode', mode: 'acceptEdits' }])).toEqual(['file edits']);
    expect(alwaysAllows('Bash', [])).toEqual(['Bash']);
  });

  it('drops the [tasktray] tag of a reason', () => {
    expect(untagged('[tasktray] the agent exited with code 1')).toBe('the agent exited with code 1');
    expect(untagged('the [tasktray] stays inside')).toBe('the [tasktray] stays inside');
  });
});
