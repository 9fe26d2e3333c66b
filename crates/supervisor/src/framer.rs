//! Splits a byte stream into lines, with a bound on line length.
//!
//! tokio-util's `LinesCodec` ends the stream after an over-long line; an agent that prints one
//! huge line must not lose everything after it. Here an over-long line becomes several pieces
//! (each marked as continued), bytes are passed through untouched (UTF-8 is decoded lossily by
//! the caller), and framing goes on to EOF.

/// Default bound on one line, in bytes. stream-json carries whole files in one line (a Write's
/// input, and its result repeats it), so this is large enough for the files an agent writes;
/// a longer line is still cut, and reading goes on.
pub const DEFAULT_MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// How a framed piece ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// A newline ended it (or EOF did).
    Complete,
    /// The line limit cut it; the line goes on in the next piece.
    Continued,
}

/// A line framer fed with chunks as they are read.
#[derive(Debug)]
pub struct LineFramer {
    pending: Vec<u8>,
    max: usize,
}

impl LineFramer {
    /// `max` is the largest piece emitted, in bytes (at least 4, so a UTF-8 character fits).
    pub fn new(max: usize) -> Self {
        LineFramer {
            pending: Vec::new(),
            max: max.max(4),
        }
    }

    /// Feeds one chunk; calls `emit` for every piece it completes, in order.
    pub fn push(&mut self, mut chunk: &[u8], mut emit: impl FnMut(&[u8], LineEnd)) {
        while let Some(pos) = memchr::memchr(b'\n', chunk) {
            let (line, rest) = (&chunk[..pos], &chunk[pos + 1..]);
            if self.pending.is_empty() {
                self.emit_bounded(line, &mut emit);
            } else {
                self.pending.extend_from_slice(line);
                let whole = std::mem::take(&mut self.pending);
                self.emit_bounded(&whole, &mut emit);
                // Keep the allocation for the next partial line.
                self.pending = whole;
                self.pending.clear();
            }
            chunk = rest;
        }
        self.pending.extend_from_slice(chunk);
        // A partial line already past the limit is cut now, so memory stays bounded.
        while self.pending.len() > self.max {
            let cut = char_boundary(&self.pending, self.max);
            emit(&self.pending[..cut], LineEnd::Continued);
            self.pending.drain(..cut);
        }
    }

    /// Emits what is left after EOF: a last line without a newline.
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8], LineEnd)) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit_bounded(&rest, &mut emit);
        }
    }

    fn emit_bounded(&self, mut line: &[u8], emit: &mut impl FnMut(&[u8], LineEnd)) {
        while line.len() > self.max {
            let cut = char_boundary(line, self.max);
            emit(&line[..cut], LineEnd::Continued);
            line = &line[cut..];
        }
        emit(line, LineEnd::Complete);
    }
}

/// The largest cut point `<= max` that does not split a UTF-8 character (falls back to `max`
/// when the bytes there are not UTF-8 anyway).
fn char_boundary(bytes: &[u8], max: usize) -> usize {
    let mut cut = max;
    for _ in 0..3 {
        if cut == 0 || !is_continuation(bytes[cut]) {
            break;
        }
        cut -= 1;
    }
    if cut == 0 || is_continuation(bytes[cut]) {
        max
    } else {
        cut
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0b1100_0000 == 0b1000_0000
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame_all(max: usize, chunks: &[&[u8]]) -> Vec<(Vec<u8>, LineEnd)> {
        let mut framer = LineFramer::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            framer.push(chunk, |l, e| out.push((l.to_vec(), e)));
        }
        framer.finish(|l, e| out.push((l.to_vec(), e)));
        out
    }

    #[test]
    fn splits_on_newlines_across_chunks() {
        let out = frame_all(100, &[b"ab", b"c\nde", b"f\n", b"tail"]);
        let lines: Vec<&[u8]> = out.iter().map(|(l, _)| l.as_slice()).collect();
        assert_eq!(lines, vec![&b"abc"[..], b"def", b"tail"]);
        assert!(out.iter().all(|(_, e)| *e == LineEnd::Complete));
    }

    #[test]
    fn long_line_is_cut_into_marked_pieces_and_framing_goes_on() {
        let out = frame_all(4, &[b"abcdefghij\nnext\n"]);
        assert_eq!(
            out,
            vec![
                (b"abcd".to_vec(), LineEnd::Continued),
                (b"efgh".to_vec(), LineEnd::Continued),
                (b"ij".to_vec(), LineEnd::Complete),
                (b"next".to_vec(), LineEnd::Complete),
            ]
        );
    }

    #[test]
    fn cut_does_not_split_a_character() {
        // "aé" is 3 bytes; a cut at 2 would split é.
        let out = frame_all(4, &["aaaé".as_bytes(), b"\n"]);
        assert_eq!(out[0].0, b"aaa".to_vec());
        assert_eq!(
            String::from_utf8(out[1].0.clone()).ok().as_deref(),
            Some("é")
        );
    }

    proptest! {
        /// Joining the pieces back (newline after complete ones) gives the input, whatever the
        /// chunking; no piece is longer than the limit.
        #[test]
        fn reassembles_input(data in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..2000),
                             cuts in proptest::collection::vec(0usize..2000, 0..20),
                             max in 4usize..64) {
            let mut cuts = cuts;
            cuts.retain(|&c| c <= data.len());
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut prev = 0;
            for c in cuts { chunks.push(&data[prev..c]); prev = c; }
            chunks.push(&data[prev..]);
            let out = frame_all(max, &chunks);
            let mut joined = Vec::new();
            for (piece, end) in &out {
                prop_assert!(piece.len() <= max);
                joined.extend_from_slice(piece);
                if *end == LineEnd::Complete { joined.push(b'\n'); }
            }
            // The last line gets a newline from `finish` that the input may not have had.
            if !data.ends_with(b"\n") && !data.is_empty() { joined.pop(); }
            if data.is_empty() { prop_assert!(out.is_empty()); }
            prop_assert_eq!(joined, data);
        }
    }
}
