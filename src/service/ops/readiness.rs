//! Whether this instance should be sent requests (`GET /readyz`, for a load balancer), apart
//! from whether it is alive (`GET /healthz`): its database answers, the database's schema is
//! the one this binary knows, it has filled its verification cache after a start, and it is
//! not draining for a shutdown.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::db::replicas::Schema;
use crate::db::Db;

/// A condition that keeps the instance out of the load balancer while it holds: draining
/// (set once a shutdown began, while requests already sent finish) or warming (set from the
/// start until the verification cache is filled, see `verify::warm`).
#[derive(Default)]
pub struct Flag(AtomicBool);

impl Flag {
    pub fn raise(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn lower(&self) {
        self.0.store(false, Ordering::Release);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `Ok` when ready, else why not. Reads only what the change poller last learnt (it reaches
/// the primary, the replicas and the schema every poll), so a probe costs no connection and a
/// busy pool does not make a loaded instance look dead. Ready while the primary or a replica
/// answers: with the primary away, verifications are still served from the cache and replicas.
pub fn check(db: &Db, draining: &Flag, warming: &Flag) -> Result<(), String> {
    if draining.is_on() {
        return Err("draining: this instance is shutting down".into());
    }
    if warming.is_on() {
        return Err("warming: the verification cache is being filled after the start".into());
    }
    if db.replicas.schema() != Schema::Current {
        return Err("the database's schema is not this binary's".into());
    }
    if db.replicas.primary_away() && !db.replicas.replica_answers() {
        return Err("the database does not answer".into());
    }
    Ok(())
}
