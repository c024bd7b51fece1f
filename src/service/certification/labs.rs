//! Test labs and their dual accreditation (双认证: CMA and CATL), under a regulator's
//! supervision. A lab's own claim is `pending` and counts for nothing until a regulator of the
//! lab's region confirms it; a regulator may delist (摘牌) a lab. A lab report counts only while
//! both schemes are confirmed and valid; citing a lab that was not accredited on the date, or
//! inspection items outside its accredited scope, raises a warning.

use serde::{Deserialize, Serialize};

use crate::crypto::random::new_id;
use crate::db::models::{now, Accreditation, Organization};
use crate::db::DbConn;
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::{checked_id, Actor, AppState};

/// `POST /api/v1/labs/accreditations`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccreditation {
    /// `CMA` (资质认定) or `CATL` (农产品质检机构考核).
    #[schema(value_type = AccreditationScheme)]
    pub scheme: String,
    #[schema(value_type = crate::domain::request::Text64)]
    pub number: String,
    /// The accredited scope (products and parameters).
    #[schema(value_type = crate::domain::request::Text1000)]
    pub scope: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub valid_from: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub valid_until: String,
}

/// The accreditation schemes a lab records.
pub const SCHEMES: [&str; 2] = ["CMA", "CATL"];

crate::domain::request::named_schema!(
    /// CMA (资质认定) or CATL (农产品质量安全检测机构考核).
    AccreditationScheme = crate::domain::request::one_of(&SCHEMES)
);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccreditationView {
    pub id: String,
    pub lab_id: String,
    pub scheme: String,
    pub number: String,
    pub scope: String,
    pub valid_from: String,
    pub valid_until: String,
    /// `pending` (claimed by the lab; does not count), `confirmed` (by a regulator) or
    /// `delisted`.
    pub status: String,
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
            status: a.status,
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
    let scheme = validate::one_of("scheme", "invalid_scheme", &input.scheme, &SCHEMES)?.to_string();
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
        status: "pending".into(),
        decided_by: None,
        decided_at: None,
    };
    state.write(|conn| {
        row.insert(conn)?;
        crate::service::changes::everything(conn)
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

/// The confirmed accreditations of `lab_id` valid on `date` (`YYYY-MM-DD`).
fn valid_on(conn: &mut DbConn, lab_id: &str, date: &str) -> AppResult<Vec<Accreditation>> {
    Ok(Accreditation::for_lab(conn, lab_id)?
        .into_iter()
        .filter(|a| a.status == "confirmed")
        .filter(|a| a.valid_from.as_str() <= date && date <= a.valid_until.as_str())
        .collect())
}

/// Whether `lab_id` held both CMA and CATL accreditations, confirmed by a regulator and valid
/// on `date` (`YYYY-MM-DD`).
pub fn accredited(conn: &mut DbConn, lab_id: &str, date: &str) -> AppResult<bool> {
    Ok(judged(conn, lab_id, date, &[])?.0)
}

/// Whether `lab_id` held every scheme ([`SCHEMES`]) on `date`, and if it did, the inspection
/// `items` (by name) that no confirmed accreditation valid on `date` covers (an item is
/// covered when its name appears in an accreditation's scope text). One read.
pub fn judged(
    conn: &mut DbConn,
    lab_id: &str,
    date: &str,
    items: &[String],
) -> AppResult<(bool, Vec<String>)> {
    let valid = valid_on(conn, lab_id, date)?;
    let accredited = SCHEMES.iter().all(|s| valid.iter().any(|a| a.scheme == *s));
    let outside = match accredited {
        true => items
            .iter()
            .filter(|item| !valid.iter().any(|a| a.scope.contains(item.trim())))
            .cloned()
            .collect(),
        false => vec![],
    };
    Ok((accredited, outside))
}

/// The lab of accreditation `id` and the regulator acting on it, checked: a regulator of the
/// lab's region.
fn regulator_of_lab<'a>(
    conn: &mut DbConn,
    actor: &'a Actor,
    lab_id: &str,
) -> AppResult<(&'a Organization, Organization)> {
    let lab = Organization::find(conn, lab_id)?
        .filter(|o| o.kind() == OrgKind::Lab)
        .ok_or_else(|| AppError::not_found("lab"))?;
    let regulator = crate::service::access::auth::require_regulator_of(actor, &lab)?;
    Ok((regulator, lab))
}

/// A regulator of the lab's region confirms a pending accreditation: from now on it counts.
pub fn confirm(state: &AppState, actor: &Actor, id: &str) -> AppResult<AccreditationView> {
    let id = checked_id(id, "accreditation")?;
    state.write(|conn| {
        let found =
            Accreditation::find(conn, id)?.ok_or_else(|| AppError::not_found("accreditation"))?;
        let (regulator, lab) = regulator_of_lab(conn, actor, &found.lab_id)?;
        if !Accreditation::decide(conn, id, "pending", "confirmed", &regulator.id, now())? {
            return Err(AppError::Conflict {
                code: "not_pending",
                message: format!("the accreditation is {}, not pending", found.status),
            });
        }
        crate::service::audit::record(
            conn,
            actor,
            &lab.region_code,
            "lab.confirm_accreditation",
            &format!("accreditation:{id}"),
            serde_json::json!({"lab_id": lab.id, "scheme": found.scheme, "number": found.number}),
        )?;
        crate::service::changes::everything(conn)?;
        let row =
            Accreditation::find(conn, id)?.ok_or_else(|| AppError::not_found("accreditation"))?;
        Ok(row.into())
    })
}

/// A regulator of the lab's region delists it (摘牌): every accreditation ends at once.
pub fn delist(state: &AppState, actor: &Actor, lab_id: &str, reason: &str) -> AppResult<usize> {
    let reason = validate::text("reason", reason, 500)?;
    let lab_id = checked_id(lab_id, "lab")?;
    state.write(|conn| {
        let (regulator, lab) = regulator_of_lab(conn, actor, lab_id)?;
        let n = Accreditation::delist_lab(conn, lab_id, &regulator.id, now())?;
        crate::service::audit::record(
            conn,
            actor,
            &lab.region_code,
            "lab.delist",
            &format!("organization:{lab_id}"),
            serde_json::json!({"reason": reason, "accreditations": n}),
        )?;
        crate::service::changes::everything(conn)?;
        Ok(n)
    })
}

/// A regulator: the pending accreditations of labs in its region.
pub fn pending(state: &AppState, actor: &Actor) -> AppResult<Vec<AccreditationView>> {
    let org = actor.require_kind(&[OrgKind::Regulator])?;
    let rows = Accreditation::pending_in_region(
        &mut *state.db.reader()?,
        crate::domain::region::prefix(&org.region_code),
    )?;
    Ok(rows.into_iter().map(Into::into).collect())
}
