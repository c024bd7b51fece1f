//! Whether this instance should be sent requests (`GET /readyz`, for a load balancer), apart
//! from whether it is alive (`GET /healthz`): its database answers, the database's schema is
//! the one this binary knows, and it is not draining for a shutdown.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::db::{Db, SchemaState};

/// Set once a shutdown began: the load balancer is told to stop sending requests while those
/// already sent finish.
#[derive(Default)]
pub struct Draining(AtomicBool);

impl Draining {
    pub fn begin(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `Ok` when ready, else why not (for the operator: says no more than which check failed).
pub fn check(db: &Db, draining: &Draining) -> Result<(), String> {
    if draining.is_on() {
        return Err("draining: this instance is shutting down".into());
    }
    let mut conn = db
        .reader()
        .map_err(|_| "the database does not answer".to_string())?;
    match crate::db::schema_state(&mut conn) {
        Ok(SchemaState::Current) => Ok(()),
        Ok(SchemaState::Behind(n)) => Err(format!(
            "the database's schema is behind this binary ({n} migrations not applied)"
        )),
        Ok(SchemaState::Ahead(_)) => {
            Err("the database's schema is newer than this binary: upgrade this instance".into())
        }
        Err(_) => Err("the database does not answer".into()),
    }
}
