//! Plain (non-JSON) output: floods, huge lines, invalid UTF-8, stderr lines.
//!
//! `flood` feeds a throughput benchmark, so it must cost far less than the reader it measures:
//! the line is built once, only its counter prefix changes (incremented in place, in ASCII), and
//! whole lines are gathered into a large buffer written with one call. Each chunk is written under
//! the stdout lock, so a JSON line (the SIGINT result) can only land between whole lines.

use std::io::{self, BufWriter, Write};

/// Bytes gathered before one write to stdout.
const CHUNK_BYTES: usize = 256 * 1024;
/// The bytes of the `invalid-utf8` directive: a lone `\xff\xfe`, and `\xc3` without its
/// continuation byte.
pub(crate) const INVALID_UTF8_LINE: &[u8] = b"ok \xff\xfe bad \xc3\x28 end\n";

/// Writes `lines` lines of `bytes` bytes each (plus `\n`). Each line is a zero-padded counter
/// from 0, a space, and `x`s; all `x`s if the counter does not fit.
pub(crate) fn flood(lines: u64, bytes: usize) -> io::Result<()> {
    let width = decimal_width(lines.saturating_sub(1));
    let mut line = vec![b'x'; bytes];
    line.push(b'\n');
    let counter_len = if bytes > width {
        line[..width].fill(b'0');
        line[width] = b' ';
        width
    } else {
        0
    };
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + line.len());
    for _ in 0..lines {
        chunk.extend_from_slice(&line);
        increment(&mut line[..counter_len]);
        if chunk.len() >= CHUNK_BYTES {
            write_stdout(&chunk)?;
            chunk.clear();
        }
    }
    write_stdout(&chunk)
}

/// Writes one line of `bytes` `x`s (plus `\n`), in bounded pieces, under one stdout lock.
pub(crate) fn huge(bytes: usize) -> io::Result<()> {
    let piece = vec![b'x'; bytes.min(CHUNK_BYTES)];
    let mut out = io::stdout().lock();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(piece.len());
        out.write_all(&piece[..n])?;
        left -= n;
    }
    out.write_all(b"\n")?;
    out.flush()
}

pub(crate) fn invalid_utf8() -> io::Result<()> {
    write_stdout(INVALID_UTF8_LINE)
}

/// Writes `stderr line 1` .. `stderr line N` to stderr.
pub(crate) fn stderr_lines(n: u64) -> io::Result<()> {
    let mut err = BufWriter::with_capacity(64 * 1024, io::stderr().lock());
    for k in 1..=n {
        writeln!(err, "stderr line {k}")?;
    }
    err.flush()
}

/// Reads stdin to EOF, discarding it.
pub(crate) fn wait_stdin() -> io::Result<()> {
    io::copy(&mut io::stdin().lock(), &mut io::sink()).map(drop)
}

fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

fn decimal_width(mut n: u64) -> usize {
    let mut width = 1;
    while n >= 10 {
        n /= 10;
        width += 1;
    }
    width
}

/// Adds one to an ASCII decimal number in place (wrapping to zeros).
fn increment(digits: &mut [u8]) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter() {
        let mut digits = *b"0199";
        increment(&mut digits);
        assert_eq!(&digits, b"0200");
        let mut nines = *b"99";
        increment(&mut nines);
        assert_eq!(&nines, b"00");
        increment(&mut []);
    }

    #[test]
    fn widths() {
        assert_eq!(decimal_width(0), 1);
        assert_eq!(decimal_width(9), 1);
        assert_eq!(decimal_width(10), 2);
        assert_eq!(decimal_width(999_999), 6);
        assert_eq!(decimal_width(u64::MAX), 20);
    }

    #[test]
    fn invalid_line_is_invalid() {
        let line = std::hint::black_box(INVALID_UTF8_LINE);
        assert!(std::str::from_utf8(line).is_err());
    }
}
