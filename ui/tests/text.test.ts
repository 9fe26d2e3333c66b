import { describe, expect, it } from 'vitest';
import { clip, countLines, firstLine, stripAnsi } from '../src/lib/text';
import { folderName, formatCost, formatDuration, formatExit } from '../src/lib/format';

describe('stripAnsi', () => {
  it('leaves plain text alone', () => {
    expect(stripAnsi('hello <b>world</b>\ttab')).toBe('hello <b>world</b>\ttab');
  });

  it('removes colours and styles (CSI SGR)', () => {
    expect(stripAnsi('\x1b[1;31merror\x1b[0m: \x1b[38;5;208mboom\x1b[m')).toBe('error: boom');
  });

  it('removes cursor movement, erase and private mode sequences', () => {
    expect(stripAnsi('\x1b[2K\x1b[1Gdone\x1b[?25h\x1b[3A')).toBe('done');
  });

  it('removes OSC sequences (titles, hyperlinks) ended by BEL or ST', () => {
    expect(stripAnsi('\x1b]0;title\x07text')).toBe('text');
    expect(stripAnsi('\x1b]8;;https://x.y\x1b\\link\x1b]8;;\x1b\\')).toBe('link');
  });

  it('removes two-byte escapes and 8-bit CSI', () => {
    expect(stripAnsi('\x1b(Ba\x1b7b\x1b8\x9b31mc')).toBe('abc');
  });

  it('keeps what a terminal shows after carriage returns', () => {
    expect(stripAnsi('10%\r50%\r100%')).toBe('100%');
    expect(stripAnsi('a\r\nb')).toBe('a\nb');
  });

  it('drops other control characters but keeps newlines and tabs', () => {
    expect(stripAnsi('a\x00b\x07c\x08\nd\te\x7f')).toBe('abc\nd\te');
  });
});

describe('text helpers', () => {
  it('counts lines and takes the first', () => {
    expect(countLines('')).toBe(0);
    expect(countLines('a')).toBe(1);
    expect(countLines('a\nb\n')).toBe(2);
    expect(countLines('a\n\nb')).toBe(3);
    expect(firstLine('one\ntwo')).toBe('one');
  });

  it('clips long text and says how much was left out', () => {
    expect(clip('abcdef', 4)).toEqual({ text: 'abcd', omitted: 2 });
    expect(clip('abc', 4)).toEqual({ text: 'abc', omitted: 0 });
  });
});

describe('format', () => {
  it('formats durations, costs, folders and exits', () => {
    expect(formatDuration(3_400)).toBe('3s');
    expect(formatDuration(125_000)).toBe('2m 05s');
    expect(formatDuration(3_725_000)).toBe('1h 02m');
    expect(formatDuration(-5)).toBe('0s');
    expect(formatCost(0.04213)).toBe('$0.0421');
    expect(folderName('/home/u/code/app/')).toBe('app');
    expect(folderName('/')).toBe('/');
    expect(formatExit({ code: 1 })).toBe('exit code 1');
    expect(formatExit({ signal: 9 })).toBe('signal 9 (SIGKILL)');
    expect(formatExit({ signal: 64 })).toBe('signal 64');
  });
});
