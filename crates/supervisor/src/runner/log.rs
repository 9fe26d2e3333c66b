//! A task's output log, written by a thread of its own: the runner's async loop hands it the
//! bytes of each read and never waits on the disk, unless the writer falls more than
//! [`BACKLOG`] behind (then the loop stops reading the agent's pipes until it caught up, which
//! slows the agent down rather than growing memory).
//!
//! Line `i` of the log is the output line with sequence number `i`: pages read back after a
//! restart are numbered from it. So a write that fails (a full disk) cuts the log back to the
//! end of the last whole line, nothing is appended after the failure, and when the task ends a
//! note saying how many lines were not saved, and why, marks the gap if the disk takes it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use tokio::sync::{oneshot, Notify};

use crate::table::lock;

/// Bytes handed to the writer and not yet written, beyond which the runner waits.
pub(crate) const BACKLOG: usize = 8 * 1024 * 1024;

/// Most bytes of waiting chunks joined into one write.
const WRITE_BATCH: usize = 1024 * 1024;

#[derive(Debug, Default)]
struct Shared {
    queued: AtomicUsize,
    drained: Notify,
    /// The first write error; later chunks are dropped.
    error: Mutex<Option<String>>,
}

/// Where a log goes: a file, or in tests a writer that fails on purpose.
pub(super) trait LogFile: Write + Send + 'static {
    /// The length the log has now.
    fn len(&mut self) -> io::Result<u64>;
    /// Cuts the log back to `len` bytes.
    fn cut(&mut self, len: u64) -> io::Result<()>;
}

impl LogFile for File {
    fn len(&mut self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn cut(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
}

/// How a log ended.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Closed {
    /// The write error not taken yet, if any.
    pub(super) error: Option<String>,
    /// Whole lines handed to the writer that are not in the log (after a write error).
    pub(super) lost_lines: u64,
}

/// The sending end of a task's log.
#[derive(Debug)]
pub(super) struct LogWriter {
    chunks: Option<mpsc::Sender<Vec<u8>>>,
    shared: Arc<Shared>,
    /// Sends the lines it could not write once every chunk was taken.
    done: Option<oneshot::Receiver<u64>>,
}

impl LogWriter {
    /// Opens (appends to) the log, readable by the user only, and starts its writer thread.
    pub(super) fn open(path: &Path) -> io::Result<Self> {
        Self::start(open_log(path)?)
    }

    /// Starts the writer thread on `file`.
    pub(super) fn start(file: impl LogFile) -> io::Result<Self> {
        let (chunks, received) = mpsc::channel::<Vec<u8>>();
        let (finished, done) = oneshot::channel();
        let shared = Arc::new(Shared::default());
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("tasktray-log".into())
            .spawn(move || {
                let lost = write_all(file, &received, &writer);
                let _ = finished.send(lost);
            })?;
        Ok(LogWriter {
            chunks: Some(chunks),
            shared,
            done: Some(done),
        })
    }

    /// Queues bytes to append.
    pub(super) fn write(&self, chunk: Vec<u8>) {
        let Some(chunks) = &self.chunks else { return };
        let len = chunk.len();
        if len == 0 {
            return;
        }
        self.shared.queued.fetch_add(len, Ordering::SeqCst);
        if chunks.send(chunk).is_err() {
            self.shared.queued.fetch_sub(len, Ordering::SeqCst);
        }
    }

    /// The write error, once, if the writer met one.
    pub(super) fn take_error(&self) -> Option<String> {
        lock(&self.shared.error).take()
    }

    pub(super) fn is_behind(&self) -> bool {
        self.shared.queued.load(Ordering::SeqCst) > BACKLOG
    }

    /// Waits until the writer is at most [`BACKLOG`] behind.
    pub(super) async fn caught_up(&self) {
        loop {
            let drained = self.shared.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if !self.is_behind() {
                return;
            }
            drained.await;
        }
    }

    /// Lets the writer finish what was queued and waits for it: after this the log on disk
    /// is whole, or ends at the last whole line before a write error.
    pub(super) async fn close(mut self) -> Closed {
        drop(self.chunks.take());
        let lost_lines = match self.done.take() {
            Some(done) => done.await.unwrap_or(0),
            None => 0,
        };
        Closed {
            error: self.take_error(),
            lost_lines,
        }
    }
}

fn open_log(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(crate::history::PRIVATE_FILE)
        .open(path)
}

/// Appends a note to a log whose writing failed, where the missing lines would be: how many
/// and why. Best effort: the disk may still refuse it.
pub(super) fn mark_gap(path: &Path, lost_lines: u64, error: &str) -> io::Result<()> {
    let mut file = open_log(path)?;
    let line = format!(
        "[tasktray] {lost_lines} lines of output were not saved from here on ({error}); the \
         lines above are numbered as they came\n"
    );
    file.write_all(line.as_bytes())
}

/// Writes every chunk (whole lines) to the log; returns how many lines it could not. After a
/// write error the log is cut back to the end of the last whole chunk and nothing more is
/// written, so its line numbers stay those of the output.
fn write_all(mut file: impl LogFile, received: &mpsc::Receiver<Vec<u8>>, shared: &Shared) -> u64 {
    let mut whole = file.len().ok();
    let mut lost = 0u64;
    // Ends when the runner closed its end and every chunk was taken. Chunks that wait are
    // written together: one write for many small ones (an agent that prints a message at a
    // time sends one chunk per message); a chunk alone is written as it came, not copied.
    while let Ok(mut batch) = received.recv() {
        for more in received.try_iter() {
            batch.extend_from_slice(&more);
            if batch.len() >= WRITE_BATCH {
                break;
            }
        }
        match whole {
            Some(len) => match file.write_all(&batch) {
                Ok(()) => whole = Some(len + batch.len() as u64),
                Err(e) => {
                    *lock(&shared.error) = Some(e.to_string());
                    if let Err(cut) = file.cut(len) {
                        tracing::warn!("cannot cut the log back to its last whole line: {cut}");
                    }
                    whole = None;
                    lost += memchr::memchr_iter(b'\n', &batch).count() as u64;
                }
            },
            None => lost += memchr::memchr_iter(b'\n', &batch).count() as u64,
        }
        shared.queued.fetch_sub(batch.len(), Ordering::SeqCst);
        shared.drained.notify_waiters();
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn everything_queued_is_on_disk_once_closed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("output.log");
        let log = LogWriter::open(&path).expect("open");
        for i in 0..1000 {
            log.write(format!("line {i}\n").into_bytes());
        }
        log.caught_up().await;
        assert_eq!(log.close().await, Closed::default());
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 1000);
        assert_eq!(text.lines().last(), Some("line 999"));
    }

    #[tokio::test]
    async fn a_write_error_is_reported_once() {
        // /dev/full fails every write with ENOSPC.
        let log = LogWriter::open(Path::new("/dev/full")).expect("open /dev/full");
        log.write(b"x\n".to_vec());
        log.write(b"y\n".to_vec());
        let closed = log.close().await;
        assert!(
            closed.error.expect("an error").contains("No space"),
            "ENOSPC"
        );
        assert_eq!(closed.lost_lines, 2);
    }

    /// A log on a disk that fills up after `room` bytes: a write that does not fit writes
    /// what fits, then fails, as a real full disk does.
    #[derive(Debug, Clone, Default)]
    struct SmallDisk {
        bytes: Arc<Mutex<Vec<u8>>>,
        room: usize,
    }

    impl Write for SmallDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut bytes = lock(&self.bytes);
            let fits = buf.len().min(self.room - bytes.len());
            if fits == 0 {
                return Err(io::Error::from_raw_os_error(28));
            }
            bytes.extend_from_slice(&buf[..fits]);
            Ok(fits)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl LogFile for SmallDisk {
        fn len(&mut self) -> io::Result<u64> {
            Ok(lock(&self.bytes).len() as u64)
        }

        fn cut(&mut self, len: u64) -> io::Result<()> {
            lock(&self.bytes).truncate(len as usize);
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_full_disk_leaves_the_log_at_its_last_whole_line() {
        let disk = SmallDisk {
            room: 25,
            ..SmallDisk::default()
        };
        let log = LogWriter::start(disk.clone()).expect("start");
        // Three chunks of whole lines; the second one only half fits.
        log.write(b"line 0\nline 1\n".to_vec());
        log.write(b"line 2\nline 3\n".to_vec());
        log.write(b"line 4\n".to_vec());
        let closed = log.close().await;
        assert!(closed.error.is_some());
        let text = String::from_utf8(lock(&disk.bytes).clone()).expect("utf-8");
        // Line i is still sequence number i: no half line, nothing after the gap (how many
        // chunks went in one write, and so failed together, is up to the writer).
        assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
        let kept: Vec<&str> = text.lines().collect();
        for (i, line) in kept.iter().enumerate() {
            assert_eq!(*line, format!("line {i}"));
        }
        assert!(kept.len() <= 2, "the second chunk does not fit: {kept:?}");
        assert_eq!(
            kept.len() as u64 + closed.lost_lines,
            5,
            "every line is kept or counted"
        );
    }

    #[test]
    fn the_gap_is_marked_with_what_was_lost() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("output.log");
        std::fs::write(&path, "a\nb\n").expect("write");
        mark_gap(&path, 7, "No space left on device").expect("mark");
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[2].starts_with("[tasktray] 7 lines of output were not saved"));
        assert!(lines[2].contains("No space left"));
    }
}
