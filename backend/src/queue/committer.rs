//! Group commit for [`Queue::enqueue`]: every enqueue waiting at the same moment in this process
//! shares one transaction, so a burst costs one commit (one fsync on SQLite, one WAL flush on
//! PostgreSQL) per group instead of one per job, and no enqueue waits longer than one commit
//! more than it would alone. A lone enqueue is committed at once, as before.
//!
//! Writers: one on SQLite (the database has one write lock; more writers would only queue on
//! it), four on PostgreSQL. A group is at most [`MAX_GROUP`] jobs. When a group's transaction
//! fails, each of its jobs is tried alone, so one bad job fails alone and the others commit.
//!
//! `enqueue_in` (inside a caller's transaction, with the data that caused the job) is untouched:
//! it commits with the caller's data, never here.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::{JobId, NewJob, Queue, QueueResult};
use crate::store::Backend;

pub const MAX_GROUP: usize = 128;

type Request = (NewJob, oneshot::Sender<QueueResult<JobId>>);

#[derive(Debug)]
pub struct Committer {
    writers: Vec<mpsc::UnboundedSender<Request>>,
    next: AtomicUsize,
}

impl Committer {
    pub(super) fn start(queue: Queue) -> Committer {
        let n = match queue.store().backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        let writers = (0..n)
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(write(queue.clone(), rx));
                tx
            })
            .collect();
        Committer { writers, next: AtomicUsize::new(0) }
    }

    pub(super) async fn submit(&self, job: NewJob) -> QueueResult<JobId> {
        let (tx, rx) = oneshot::channel();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.writers.len();
        self.writers[i].send((job, tx)).map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }
}

fn closed() -> sqlx::Error {
    sqlx::Error::PoolClosed
}

async fn write(queue: Queue, mut rx: mpsc::UnboundedReceiver<Request>) {
    let mut group: Vec<Request> = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        match commit(&queue, &group).await {
            Ok(ids) => {
                for ((_, reply), id) in group.drain(..).zip(ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(e) if group.len() == 1 => {
                let (_, reply) = group.pop().expect("one request");
                let _ = reply.send(Err(e));
            }
            Err(e) => {
                tracing::debug!(error = %e, jobs = group.len(), "group enqueue failed; enqueueing each alone");
                for (job, reply) in group.drain(..) {
                    let _ = reply.send(queue.enqueue_alone(job).await);
                }
            }
        }
    }
}

async fn commit(queue: &Queue, group: &[Request]) -> QueueResult<Vec<JobId>> {
    let mut tx = queue.store().pool().begin().await?;
    let mut ids = Vec::with_capacity(group.len());
    for (job, _) in group {
        ids.push(queue.enqueue_in(&mut tx, job.clone()).await?);
    }
    tx.commit().await?;
    Ok(ids)
}
