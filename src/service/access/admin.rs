//! Platform administration: organizations (list, search, deactivate and reactivate: a
//! deactivated organization's tokens and sessions are refused at once, because both are read
//! on every request), their users (list, deactivate), and onboarding many organizations from
//! one CSV file, all or none, with every problem reported by line. Every action is on the
//! audit log.

use serde::Serialize;
use serde_json::json;

use crate::crypto::random::new_id;
use crate::db::models::{now, Organization, Session, SigningKeyRow, User};
use crate::domain::role::OrgKind;
use crate::domain::{credit_code, region, validate};
use crate::error::{AppError, AppResult};

use crate::service::access::organizations::OrganizationView;
use crate::service::{audit, checked_id, Actor, AppState};

/// Organizations a list shows at most.
const LIST_LIMIT: i64 = 500;
/// Rows one onboarding file may hold.
pub const MAX_ROWS: usize = 5_000;

/// An organization as the admin lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminOrganization {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
    pub created_at: String,
    /// RFC 3339 UTC, when deactivated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<String>,
}

impl From<Organization> for AdminOrganization {
    fn from(o: Organization) -> Self {
        let at = |t: chrono::NaiveDateTime| crate::domain::payload::rfc3339_seconds(t.and_utc());
        AdminOrganization {
            created_at: at(o.created_at),
            deactivated_at: o.deactivated_at.map(at),
            id: o.id,
            kind: o.kind,
            name: o.name,
            credit_code: o.credit_code,
            region_code: o.region_code,
        }
    }
}

/// A page user as the admin lists it (never its password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminUser {
    pub id: String,
    pub username: String,
    pub platform_admin: bool,
    pub active: bool,
}

/// The admin: organizations whose name or credit code contains `q`, newest first.
pub fn organizations(
    state: &AppState,
    actor: &Actor,
    q: &str,
) -> AppResult<Vec<AdminOrganization>> {
    actor.require_admin()?;
    let q = validate::optional_text("q", Some(q), 100)?.unwrap_or_default();
    let rows = Organization::search(&mut *state.db.reader()?, &q, LIST_LIMIT)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The admin: one organization.
pub fn organization(state: &AppState, actor: &Actor, id: &str) -> AppResult<AdminOrganization> {
    actor.require_admin()?;
    Organization::find(&mut *state.db.reader()?, checked_id(id, "organization")?)?
        .map(Into::into)
        .ok_or_else(|| AppError::not_found("organization"))
}

/// The admin: deactivates (`active` false) or reactivates an organization. Deactivation also
/// ends its users' sessions.
pub fn set_active(
    state: &AppState,
    actor: &Actor,
    id: &str,
    active: bool,
    reason: &str,
) -> AppResult<AdminOrganization> {
    actor.require_admin()?;
    let reason = validate::text("reason", reason, 500)?;
    let id = checked_id(id, "organization")?;
    state.write(|conn| {
        let org =
            Organization::find(conn, id)?.ok_or_else(|| AppError::not_found("organization"))?;
        if org.deactivated_at.is_none() != active {
            Organization::set_deactivated(conn, id, (!active).then(now))?;
            if !active {
                for user in User::of(conn, id)? {
                    Session::delete_others(conn, &user.id, None)?;
                }
            }
            audit::record(
                conn,
                actor,
                &org.region_code,
                if active {
                    "organization.reactivate"
                } else {
                    "organization.deactivate"
                },
                &format!("organization:{id}"),
                json!({"reason": reason}),
            )?;
        }
        let org =
            Organization::find(conn, id)?.ok_or_else(|| AppError::not_found("organization"))?;
        Ok(org.into())
    })
}

/// The admin: an organization's page users.
pub fn users(state: &AppState, actor: &Actor, organization_id: &str) -> AppResult<Vec<AdminUser>> {
    actor.require_admin()?;
    let rows = User::of(
        &mut *state.db.reader()?,
        checked_id(organization_id, "organization")?,
    )?;
    Ok(rows
        .into_iter()
        .map(|u| AdminUser {
            active: u.deactivated_at.is_none(),
            id: u.id,
            username: u.username,
            platform_admin: u.platform_admin,
        })
        .collect())
}

/// The admin: deactivates a user (its sessions end) or reactivates it.
pub fn set_user_active(
    state: &AppState,
    actor: &Actor,
    username: &str,
    active: bool,
) -> AppResult<()> {
    actor.require_admin()?;
    state.write(|conn| {
        let user = User::find_by_username(conn, username.trim())?
            .ok_or_else(|| AppError::not_found("user"))?;
        User::set_deactivated(conn, &user.id, (!active).then(now))?;
        if !active {
            Session::delete_others(conn, &user.id, None)?;
        }
        let region = Organization::find(conn, &user.organization_id)?
            .map(|o| o.region_code)
            .unwrap_or_default();
        audit::record(
            conn,
            actor,
            &region,
            if active {
                "user.reactivate"
            } else {
                "user.deactivate"
            },
            &format!("user:{}", user.username),
            json!({}),
        )
    })
}

/// One problem of an onboarding file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub code: String,
    pub message: String,
}

/// Why an onboarding file registered nothing.
#[derive(Debug)]
pub enum OnboardError {
    /// Every problem, by line.
    Rows(Vec<RowError>),
    Request(AppError),
}

impl From<AppError> for OnboardError {
    fn from(e: AppError) -> Self {
        OnboardError::Request(e)
    }
}

/// The admin: registers every organization of a CSV file (header `kind, name, credit_code,
/// region_code, address`, or 类型, 名称, 统一社会信用代码, 行政区划代码, 地址), each with its
/// own signing key, in one transaction: all or none.
pub fn onboard(
    state: &AppState,
    actor: &Actor,
    bytes: &[u8],
) -> Result<Vec<OrganizationView>, OnboardError> {
    actor.require_admin()?;
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).map_err(
        |_| AppError::invalid("invalid_encoding", "file", "the file must be UTF-8 text"),
    )?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| AppError::invalid("invalid_csv", "file", e.to_string()))?
        .clone();
    let column = |names: [&str; 2]| headers.iter().position(|h| names.contains(&h));
    let columns = [
        ("kind", column(["kind", "类型"])),
        ("name", column(["name", "名称"])),
        ("credit_code", column(["credit_code", "统一社会信用代码"])),
        ("region_code", column(["region_code", "行政区划代码"])),
        ("address", column(["address", "地址"])),
    ];
    if let Some((missing, _)) = columns.iter().find(|(_, at)| at.is_none()) {
        return Err(AppError::invalid(
            "missing_column",
            "file",
            format!("the header has no {missing} column"),
        )
        .into());
    }
    let mut errors = Vec::new();
    // Each organization with the line it came from.
    let mut orgs: Vec<(u64, Organization)> = Vec::new();
    let at = now();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    field: "row".into(),
                    code: "invalid_csv".into(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if orgs.len() + errors.len() >= MAX_ROWS {
            return Err(AppError::invalid(
                "too_many_rows",
                "file",
                format!("at most {MAX_ROWS} organizations per file"),
            )
            .into());
        }
        let get = |name: &str| {
            columns
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, at)| at.and_then(|i| record.get(i)))
                .unwrap_or("")
        };
        let mut fail = |e: crate::domain::ValidationError| {
            errors.push(RowError {
                line,
                field: e.field.clone(),
                code: e.code.into(),
                message: e.message.clone(),
            });
        };
        let kind = match OrgKind::parse_field("kind", get("kind")) {
            Ok(k) => k.as_str().to_string(),
            Err(e) => {
                fail(e);
                continue;
            }
        };
        let checked = (|| {
            Ok::<_, crate::domain::ValidationError>(Organization {
                id: new_id(),
                kind,
                name: validate::text("name", get("name"), 200)?,
                credit_code: credit_code::parse("credit_code", get("credit_code"))?,
                region_code: region::parse("region_code", get("region_code"))?,
                address: validate::text("address", get("address"), 300)?,
                created_at: at,
                deactivated_at: None,
                market_id: None,
            })
        })();
        match checked {
            Err(e) => fail(e),
            Ok(org) if orgs.iter().any(|(_, o)| o.credit_code == org.credit_code) => {
                fail(crate::domain::ValidationError::new(
                    "duplicate_credit_code",
                    "credit_code",
                    format!("{} appears twice in the file", org.credit_code),
                ))
            }
            Ok(org) => orgs.push((line, org)),
        }
    }
    if orgs.is_empty() && errors.is_empty() {
        return Err(
            AppError::invalid("empty_file", "file", "the file has no organizations").into(),
        );
    }
    let keys: Vec<SigningKeyRow> = orgs
        .iter()
        .map(|(_, o)| state.keys.generate(&o.id))
        .collect();
    let written = state.write(|conn| {
        let mut clashes = Vec::new();
        for (line, org) in &orgs {
            if Organization::find_by_credit_code(conn, &org.credit_code)?.is_some() {
                clashes.push(RowError {
                    line: *line,
                    field: "credit_code".into(),
                    code: "duplicate_credit_code".into(),
                    message: format!(
                        "an organization with credit code {} exists",
                        org.credit_code
                    ),
                });
            }
        }
        if !errors.is_empty() || !clashes.is_empty() {
            return Ok(Err(clashes));
        }
        for ((_, org), key) in orgs.iter().zip(&keys) {
            org.insert(conn)?;
            key.insert(conn)?;
        }
        audit::record(
            conn,
            actor,
            "",
            "organization.onboard",
            "organizations",
            json!({"count": orgs.len()}),
        )?;
        Ok(Ok(()))
    })?;
    if let Err(clashes) = written {
        errors.extend(clashes);
        errors.sort_by_key(|e| e.line);
        return Err(OnboardError::Rows(errors));
    }
    Ok(orgs
        .into_iter()
        .zip(&keys)
        .map(|((_, org), key)| OrganizationView::from_parts(org, Some(key)))
        .collect())
}
