//! Test labs and their dual accreditation (双认证: CMA and CATL). A lab report counts only while
//! both are valid; citing a lab that was not accredited on the date raises a warning.

use serde::{Deserialize, Serialize};

use crate::crypto::random::new_id;
use crate::db::models::{now, Accreditation, Organization};
use crate::db::DbConn;
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use super::{checked_id, Actor, AppState};

/// `POST /api/v1/labs/accreditations`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccreditation {
    /// `CMA` (资质认定) or `CATL` (农产品质检机构考核).
    pub scheme: String,
    pub number: String,
    /// The accredited scope (products and parameters).
    pub scope: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccreditationView {
    pub id: String,
    pub lab_id: String,
    pub scheme: String,
    pub number: String,
    pub scope: String,
    pub valid_from: String,
    pub valid_until: String,
}

impl From<Accreditation> for AccreditationView {
    fn from(a: Accreditation) -> Self {
        Self {
            id: a.id,
            lab_id: a.lab_id,
            scheme: a.scheme,
            number: a.number,
            scope: a.scope,
            valid_from: a.valid_from,
            valid_until: a.valid_until,
        }
    }
}

/// Labs only: records one of the caller's accreditations.
pub fn add(
    state: &AppState,
    actor: &Actor,
    input: NewAccreditation,
) -> AppResult<AccreditationView> {
    let lab = actor.require_kind(&[OrgKind::Lab])?;
    let scheme = match input.scheme.trim() {
        s @ ("CMA" | "CATL") => s.to_string(),
        _ => {
            return Err(AppError::invalid(
                "invalid_scheme",
                "scheme",
                "scheme must be CMA or CATL",
            ))
        }
    };
    let (from, until) = validate::period(&input.valid_from, &input.valid_until)?;
    let row = Accreditation {
        id: new_id(),
        lab_id: lab.id.clone(),
        scheme,
        number: validate::text("number", &input.number, 64)?,
        scope: validate::text("scope", &input.scope, 1000)?,
        valid_from: from.format("%Y-%m-%d").to_string(),
        valid_until: until.format("%Y-%m-%d").to_string(),
        created_at: now(),
    };
    state.write(|conn| {
        row.insert(conn)?;
        super::changes::everything(conn)
    })?;
    Ok(row.into())
}

/// Public: a lab's accreditations.
pub fn list(state: &AppState, lab_id: &str) -> AppResult<Vec<AccreditationView>> {
    let mut conn = state.db.reader()?;
    Ok(
        Accreditation::for_lab(&mut conn, checked_id(lab_id, "lab")?)?
            .into_iter()
            .map(Into::into)
            .collect(),
    )
}

/// The lab organization `lab_id`, or 422 if no lab has that id.
pub fn find_lab(conn: &mut DbConn, lab_id: &str) -> AppResult<Organization> {
    let unknown = || AppError::invalid("unknown_lab", "lab_id", "no lab has this id");
    if !validate::is_id(lab_id) {
        return Err(unknown());
    }
    Organization::find(conn, lab_id)?
        .filter(|o| o.kind() == OrgKind::Lab)
        .ok_or_else(unknown)
}

/// Whether `lab_id` held both CMA and CATL accreditations valid on `date` (`YYYY-MM-DD`).
pub fn accredited(conn: &mut DbConn, lab_id: &str, date: &str) -> AppResult<bool> {
    let valid: Vec<String> = Accreditation::for_lab(conn, lab_id)?
        .into_iter()
        .filter(|a| a.valid_from.as_str() <= date && date <= a.valid_until.as_str())
        .map(|a| a.scheme)
        .collect();
    Ok(valid.iter().any(|s| s == "CMA") && valid.iter().any(|s| s == "CATL"))
}
