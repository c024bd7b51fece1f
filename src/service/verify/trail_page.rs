//! A certificate's trail as the public reads it: a page of events with the result of the
//! whole chain's check, taken from the verification's cached record.

use crate::error::{AppError, AppResult};
use crate::service::trail::{page_rows, present, PageQuery, Trail};
use crate::service::{checked_id, AppState};

/// Public: a page of a certificate's trail with the result of the whole chain's check. The
/// check comes from the verification cache's record (made once per change of the
/// certificate); the page is one bounded, indexed read.
pub fn get(state: &AppState, id: &str, page: PageQuery) -> AppResult<Trail> {
    let id = checked_id(id, "certificate")?;
    let page = page.checked()?;
    let record = super::record(state, id)?.ok_or_else(|| AppError::not_found("certificate"))?;
    let (rows, next) = page_rows(&mut *state.db.replica_reader()?, id, page)?;
    Ok(Trail {
        certificate_id: id.to_string(),
        intact: record.trail_fault.is_none(),
        fault: record.trail_fault.map(str::to_string),
        total: record.trail_total,
        events: present(&rows),
        next,
    })
}
