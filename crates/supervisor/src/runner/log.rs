//! A task's output log, written by a thread of its own: the runner's async loop hands it the
//! bytes of each read and never waits on the disk, unless the writer falls more than
//! [`BACKLOG`] behind (then the loop stops reading the agent's pipes until it caught up, which
//! slows the agent down rather than growing memory).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use tokio::sync::{oneshot, Notify};

use crate::supervisor::lock;

/// Bytes handed to the writer and not yet written, beyond which the runner waits.
pub(crate) const BACKLOG: usize = 8 * 1024 * 1024;

#[derive(Debug, Default)]
struct Shared {
    queued: AtomicUsize,
    drained: Notify,
    /// The first write error; later chunks are dropped.
    error: Mutex<Option<String>>,
}

/// The sending end of a task's log.
#[derive(Debug)]
pub(super) struct LogWriter {
    chunks: Option<mpsc::Sender<Vec<u8>>>,
    shared: Arc<Shared>,
    done: Option<oneshot::Receiver<()>>,
}

impl LogWriter {
    /// Opens (appends to) the log, readable by the user only, and starts its writer thread.
    pub(super) fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(crate::history::PRIVATE_FILE)
            .open(path)?;
        let (chunks, received) = mpsc::channel::<Vec<u8>>();
        let (finished, done) = oneshot::channel();
        let shared = Arc::new(Shared::default());
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("tasktray-log".into())
            .spawn(move || {
                write_all(file, &received, &writer);
                let _ = finished.send(());
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
    /// is whole. Returns a write error not taken yet.
    pub(super) async fn close(mut self) -> Option<String> {
        drop(self.chunks.take());
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
        self.take_error()
    }
}

fn write_all(mut file: File, received: &mpsc::Receiver<Vec<u8>>, shared: &Shared) {
    let mut failed = false;
    // Ends when the runner closed its end and every chunk was taken.
    for chunk in received {
        if !failed {
            if let Err(e) = file.write_all(&chunk) {
                failed = true;
                *lock(&shared.error) = Some(e.to_string());
            }
        }
        shared.queued.fetch_sub(chunk.len(), Ordering::SeqCst);
        shared.drained.notify_waiters();
    }
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
        assert_eq!(log.close().await, None);
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
        let error = log.close().await;
        assert!(error.expect("an error").contains("No space"), "ENOSPC");
    }
}
