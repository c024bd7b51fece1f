//! `cases`: 先行赔付 (first compensation) cases opened from consumers' reports.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{cases, organizations};
use crate::db::DbConn;
use crate::domain::case::{CaseState, CaseStep};

/// How a case was answered or decided.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// `compensated`, `replaced` or `refused`.
    pub outcome: String,
    pub amount_fen: Option<i64>,
    pub answer: String,
    /// The regulator that decided an overdue case.
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cases)]
pub struct Case {
    pub id: String,
    /// SHA-256 (hex) of the number the consumer holds to follow the case; the number itself
    /// is not stored.
    pub number_hash: String,
    pub complaint_id: String,
    pub certificate_id: String,
    /// The producer or retailer the consumer named.
    pub respondent_id: String,
    /// What the consumer asks for.
    pub claim: String,
    /// `reported`, `accepted`, `answered` or `closed` ([`CaseState`]).
    pub state: String,
    /// `compensated`, `replaced` or `refused`.
    pub outcome: Option<String>,
    pub amount_fen: Option<i64>,
    pub answer: Option<String>,
    pub deadline_at: NaiveDateTime,
    /// The regulator that decided an overdue case.
    pub decided_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Case {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(cases::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        cases::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn by_number_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Self>> {
        cases::table
            .filter(cases::number_hash.eq(hash))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Takes `step` on the case if its state allows it (by [`CaseState::after`]), recording
    /// `resolution` with it; `false` if its state did not allow it (someone acted first).
    pub fn advance(
        conn: &mut DbConn,
        id: &str,
        step: CaseStep,
        resolution: Option<&Resolution>,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        let Some(current) = cases::table
            .find(id)
            .select(cases::state)
            .first::<String>(conn)
            .optional()?
        else {
            return Ok(false);
        };
        let Some(to) = CaseState::from_stored(&current).after(step) else {
            return Ok(false);
        };
        // Conditional on the state read: a concurrent step makes this one change nothing.
        let target = cases::table.find(id).filter(cases::state.eq(current));
        let n = match resolution {
            Some(r) => diesel::update(target)
                .set((
                    cases::state.eq(to.as_str()),
                    cases::outcome.eq(&r.outcome),
                    cases::amount_fen.eq(r.amount_fen),
                    cases::answer.eq(&r.answer),
                    cases::decided_by.eq(&r.decided_by),
                    cases::updated_at.eq(at),
                ))
                .execute(conn)?,
            None => diesel::update(target)
                .set((cases::state.eq(to.as_str()), cases::updated_at.eq(at)))
                .execute(conn)?,
        };
        Ok(n == 1)
    }

    /// Cases naming `respondent_id` or about certificates of `producer_id`, newest first.
    pub fn of_party(
        conn: &mut DbConn,
        organization_id: &str,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        use crate::db::schema::certificates;
        cases::table
            .inner_join(certificates::table.on(certificates::id.eq(cases::certificate_id)))
            .filter(
                cases::respondent_id
                    .eq(organization_id)
                    .or(certificates::organization_id.eq(organization_id)),
            )
            .order((cases::created_at.desc(), cases::id.asc()))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Cases whose respondent's region code starts with `prefix`, newest first.
    pub fn in_region(conn: &mut DbConn, prefix: &str, limit: i64) -> QueryResult<Vec<Self>> {
        cases::table
            .inner_join(organizations::table.on(organizations::id.eq(cases::respondent_id)))
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .order((cases::created_at.desc(), cases::id.asc()))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Cases opened in `[from, to)`.
    pub fn opened_between(
        conn: &mut DbConn,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        cases::table
            .filter(cases::created_at.ge(from))
            .filter(cases::created_at.lt(to))
            .select(Self::as_select())
            .load(conn)
    }
}
