//! The thread that SQLite writes run on.
//!
//! SQLite has one writer at a time, so a write transaction is a critical
//! section: while it is open every other write waits. sqlx runs each SQLite
//! connection on a thread of its own and every statement is a round trip
//! between that thread and the task that issued it. When that task is a
//! request handler on the server's runtime, each round trip waits its turn
//! behind every other ready request on two busy cores, and the critical
//! section (BEGIN … four statements … COMMIT for a login) stretches from tens
//! of microseconds to milliseconds. Writes therefore run as tasks on a
//! runtime of their own, on a thread that has nothing else to do: the round
//! trips of a transaction follow each other at once, and the lock is held
//! only as long as SQLite needs it.
//!
//! PostgreSQL needs none of this (its server handles concurrent writers), so
//! there the lane runs writes in place.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::StorageError;

#[derive(Clone)]
pub(super) struct WriteLane {
    thread: Option<Arc<LaneThread>>,
}

/// The lane's runtime; it stops when the last `Database` clone is dropped.
struct LaneThread {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl WriteLane {
    /// Writes run where they are awaited.
    pub(super) fn in_place() -> Self {
        Self { thread: None }
    }

    /// Writes run on a new thread with a single-threaded runtime.
    pub(super) fn dedicated() -> Result<Self, StorageError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StorageError::WriterStopped)?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-writes".to_owned())
            .spawn(move || {
                // Drives the spawned writes until every `Database` is gone;
                // a dropped sender ends `stopped` as well.
                let _ = runtime.block_on(stopped);
            })
            .map_err(StorageError::WriterStopped)?;
        Ok(Self {
            thread: Some(Arc::new(LaneThread {
                handle,
                _stop: stop,
            })),
        })
    }

    /// Runs `write` on the lane and waits for its result. The write completes
    /// even if the caller stops waiting: a transaction is never cut short
    /// because a client hung up.
    pub(super) async fn run<T, F>(&self, write: F) -> Result<T, StorageError>
    where
        F: Future<Output = Result<T, StorageError>> + Send + 'static,
        T: Send + 'static,
    {
        match &self.thread {
            None => write.await,
            Some(lane) => {
                lane.handle.spawn(write).await.map_err(|e| {
                    StorageError::WriterStopped(std::io::Error::other(e.to_string()))
                })?
            }
        }
    }
}
