//! Group commit for consumer scans. SQLite has one writer, and a transaction per scan caps
//! verification throughput; instead every scan goes to one writer thread, which stores all
//! scans waiting at that moment in one transaction and then answers each caller. A caller
//! still returns only after its scan is committed, so counts read afterwards include it.

use std::sync::mpsc;

use diesel::Connection;

use crate::db::models::Scan;
use crate::db::{Db, DbConn};
use crate::error::{AppError, AppResult};

/// Most scans stored in one transaction.
const MAX_GROUP: usize = 1024;

type Reply = mpsc::SyncSender<Result<(), String>>;

/// The handle callers record scans through; the thread ends when it is dropped.
pub struct ScanWriter {
    queue: mpsc::Sender<(Scan, Reply)>,
}

impl ScanWriter {
    pub fn start(db: Db) -> Self {
        let (queue, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("scan-writer".into())
            .spawn(move || run(&db, &jobs))
            .expect("spawn the scan writer thread");
        Self { queue }
    }

    /// Stores `scan`, returning once it is committed.
    pub fn record(&self, scan: Scan) -> AppResult<()> {
        let (reply, answer) = mpsc::sync_channel(1);
        let gone = || AppError::Internal("the scan writer stopped".into());
        self.queue.send((scan, reply)).map_err(|_| gone())?;
        answer
            .recv()
            .map_err(|_| gone())?
            .map_err(AppError::Internal)
    }
}

fn run(db: &Db, jobs: &mpsc::Receiver<(Scan, Reply)>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let scans: Vec<Scan> = group.iter().map(|(scan, _)| scan.clone()).collect();
        let result = store(db, &scans);
        if let Err(e) = &result {
            log::error!("storing {} scans failed: {e}", scans.len());
        }
        for (_, reply) in group {
            let _ = reply.send(result.clone());
        }
    }
}

fn store(db: &Db, scans: &[Scan]) -> Result<(), String> {
    let mut pooled = db.writer().map_err(|e| e.to_string())?;
    let conn: &mut DbConn = &mut pooled;
    conn.transaction(|conn| Scan::insert_all(conn, scans))
        .map_err(|e| e.to_string())
}
