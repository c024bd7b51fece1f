//! 先行赔付 (first compensation): a consumer's report can become a case against the producer or
//! a retailer that took the goods in. States: `reported` → `accepted` (the named party takes
//! it up) → `answered` (compensated with an amount in fen, replaced, or refused with a reason)
//! → `closed` (the consumer confirms, or a regulator closes). A case not answered by its
//! deadline (`CERTRAIL_CASE_DAYS`, default 7) is overdue: a regulator of the named party's
//! region may then decide it, which closes it. The consumer follows it by its number, without
//! an account: the number is shown once, to the consumer, and only its SHA-256 is stored, so
//! nobody else (the parties, regulators, the database) can act as the consumer. The parties
//! address the case by its id. Every step is a `case_updated` event on the certificate's trail (with the
//! case's id, never its number) and a `case.updated` webhook to the parties.
//!
//! Longer than 400 lines because a case's life (opened, its steps, its views and lists) is one state machine.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::crypto::random::{new_id, new_secret};
use crate::db::models::case::{Case, Resolution};
use crate::db::models::{now, Certificate, Complaint, EventRow, Organization};
use crate::db::DbConn;
use crate::domain::case::{CaseState, CaseStep};
use crate::domain::payload::rfc3339_seconds;
use crate::domain::region::{prefix, within};
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::{audit, checked_id, trail, webhooks, Actor, AppState};

const LIST_LIMIT: i64 = 500;
/// Case numbers: letters and digits that cannot be mistaken for each other.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
/// The largest compensation a case records: ¥1,000,000.
const MAX_FEN: i64 = 100_000_000;

/// What a consumer asks for when a report should become a case.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// The producer, or a retailer that recorded intake of this certificate.
    pub respondent_id: String,
    /// What the consumer asks for (refund, replacement, …).
    #[schema(value_type = crate::domain::request::Text500)]
    pub claim: String,
}

/// `POST /api/v1/cases/{id}/answer` and `/decision`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseAnswer {
    /// `compensated`, `replaced` or `refused`.
    #[schema(value_type = CaseOutcome)]
    pub outcome: String,
    /// For `compensated`: the amount paid, in fen (1 yuan = 100 fen).
    #[serde(
        default,
        deserialize_with = "crate::domain::request::optional_whole_number"
    )]
    #[schema(minimum = 1, maximum = 100000000)]
    pub amount_fen: Option<i64>,
    /// What was done, or why it was refused.
    #[schema(value_type = crate::domain::request::Text1000)]
    pub text: String,
}

/// How a case may end: only the first goes with an amount.
const OUTCOMES: [&str; 3] = ["compensated", "replaced", "refused"];

crate::domain::request::named_schema!(
    /// How a case ended.
    CaseOutcome = crate::domain::request::one_of(&OUTCOMES)
);

/// A case as its parties and its consumer see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: String,
    /// The consumer's number: only in the answer that opens the case, and on its own page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub certificate_id: String,
    pub respondent_id: String,
    pub respondent: String,
    pub claim: String,
    /// `reported`, `accepted`, `answered` or `closed`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_fen: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Answer due by (RFC 3339 UTC).
    pub deadline: String,
    /// Not answered and past its deadline.
    pub overdue: bool,
    /// A regulator decided the case.
    pub decided_by_regulator: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// What a party's list adds: the report itself.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyCaseView {
    #[serde(flatten)]
    pub case: CaseView,
    pub category: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// The stored form of a case number (its SHA-256, after normalizing case and spaces).
fn number_hash(number: &str) -> String {
    crate::domain::hash::sha256_hex(number.trim().to_ascii_uppercase().as_bytes())
}

fn new_number() -> String {
    let mut chars = String::from("PF-");
    let mut bytes = new_secret().into_iter().filter(|b| *b < 240);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            chars.push('-');
        }
        let b = bytes.next().unwrap_or(0);
        chars.push(ALPHABET[b as usize % ALPHABET.len()] as char);
    }
    chars
}

fn view(conn: &mut DbConn, c: Case, number: Option<String>) -> AppResult<CaseView> {
    let respondent = Organization::find(conn, &c.respondent_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(CaseView {
        overdue: is_overdue(&c),
        deadline: rfc3339_seconds(c.deadline_at.and_utc()),
        created_at: rfc3339_seconds(c.created_at.and_utc()),
        updated_at: rfc3339_seconds(c.updated_at.and_utc()),
        decided_by_regulator: c.decided_by.is_some(),
        id: c.id,
        number,
        certificate_id: c.certificate_id,
        respondent_id: c.respondent_id,
        respondent,
        claim: c.claim,
        state: c.state,
        outcome: c.outcome,
        amount_fen: c.amount_fen,
        answer: c.answer,
    })
}

fn is_overdue(c: &Case) -> bool {
    CaseState::from_stored(&c.state).awaits_answer() && now() > c.deadline_at
}

/// Records a step on the certificate's trail (acted by `actor`, or on the consumer's behalf
/// under the respondent's name) and tells the parties' webhooks.
fn announce(
    state: &AppState,
    conn: &mut DbConn,
    case: &Case,
    actor: &Organization,
    by: &str,
) -> AppResult<()> {
    let mut details = Map::new();
    details.insert("case_id".into(), Value::String(case.id.clone()));
    details.insert("state".into(), Value::String(case.state.clone()));
    details.insert("by".into(), Value::String(by.into()));
    if let Some(outcome) = &case.outcome {
        details.insert("outcome".into(), Value::String(outcome.clone()));
    }
    if let Some(amount) = case.amount_fen {
        details.insert("amount_fen".into(), amount.into());
    }
    trail::append(
        state,
        conn,
        &case.certificate_id,
        actor,
        EventType::CaseUpdated,
        None,
        details,
    )?;
    let producer = Certificate::find(conn, &case.certificate_id)?
        .map(|c| c.organization_id)
        .unwrap_or_default();
    webhooks::enqueue(
        conn,
        webhooks::CASE_UPDATED,
        &[case.respondent_id.clone(), producer],
        &case.id,
        json!({
            "case_id": case.id,
            "certificate_id": case.certificate_id,
            "respondent_id": case.respondent_id,
            "state": case.state,
            "outcome": case.outcome,
            "amount_fen": case.amount_fen,
        }),
    )
}

/// Opens a case from `complaint` (inside the report's transaction).
pub fn open(
    state: &AppState,
    conn: &mut DbConn,
    complaint: &Complaint,
    input: NewCase,
) -> AppResult<CaseView> {
    let claim = validate::text("claim", &input.claim, 500)?;
    let respondent_id = input.respondent_id.trim();
    let cert = Certificate::find(conn, &complaint.certificate_id)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    let named = respondent_id == cert.organization_id
        || EventRow::receivers(conn, std::slice::from_ref(&cert.id))?
            .iter()
            .any(|r| r == respondent_id);
    let respondent = match named {
        true => Organization::find(conn, respondent_id)?,
        false => None,
    }
    .ok_or_else(|| {
        AppError::invalid(
            "invalid_respondent",
            "respondent_id",
            "name the producer or a seller that took these goods in",
        )
    })?;
    let at = now();
    let number = new_number();
    let case = Case {
        id: new_id(),
        number_hash: number_hash(&number),
        complaint_id: complaint.id.clone(),
        certificate_id: cert.id.clone(),
        respondent_id: respondent.id.clone(),
        claim,
        state: CaseState::Reported.as_str().into(),
        outcome: None,
        amount_fen: None,
        answer: None,
        deadline_at: at + state.config.workflow.case_deadline,
        decided_by: None,
        created_at: at,
        updated_at: at,
    };
    case.insert(conn)?;
    announce(state, conn, &case, &respondent, "consumer")?;
    view(conn, case, Some(number))
}

/// The parties a consumer may name for certificate `id`: its producer, then the retailers
/// that took it in, as (id, name).
pub fn respondents(conn: &mut DbConn, cert: &Certificate) -> AppResult<Vec<(String, String)>> {
    let mut ids = vec![cert.organization_id.clone()];
    ids.extend(EventRow::receivers(conn, std::slice::from_ref(&cert.id))?);
    let mut out = Vec::new();
    for id in ids {
        if let Some(org) = Organization::find(conn, &id)? {
            out.push((org.id, org.name));
        }
    }
    Ok(out)
}

/// The case a consumer's number names.
fn by_number(conn: &mut DbConn, number: &str) -> AppResult<Case> {
    if number.trim().len() > 20 {
        return Err(AppError::not_found("case"));
    }
    Case::by_number_hash(conn, &number_hash(number))?.ok_or_else(|| AppError::not_found("case"))
}

/// The case with id `id` (the parties' handle).
fn by_id(conn: &mut DbConn, id: &str) -> AppResult<Case> {
    Case::find(conn, checked_id(id, "case")?)?.ok_or_else(|| AppError::not_found("case"))
}

/// Public: a case by its number.
pub fn get(state: &AppState, number: &str) -> AppResult<CaseView> {
    let mut conn = state.db.reader()?;
    let case = by_number(&mut conn, number)?;
    let shown = number.trim().to_ascii_uppercase();
    view(&mut conn, case, Some(shown))
}

fn checked_answer(input: &CaseAnswer) -> AppResult<Resolution> {
    let answer = validate::text("text", &input.text, 1000)?;
    let outcome = validate::one_of("outcome", "invalid_outcome", &input.outcome, &OUTCOMES)?;
    let amount_fen = match (outcome == OUTCOMES[0], input.amount_fen) {
        (true, Some(fen)) => Some(validate::count("amount_fen", fen, 1, MAX_FEN)?),
        (true, None) => {
            return Err(AppError::invalid(
                "required",
                "amount_fen",
                "say how much was paid, in fen",
            ))
        }
        (false, None) => None,
        (false, Some(_)) => {
            return Err(AppError::invalid(
                "amount_not_allowed",
                "amount_fen",
                "an amount goes only with the outcome compensated",
            ))
        }
    };
    Ok(Resolution {
        outcome: outcome.to_string(),
        amount_fen,
        answer,
        decided_by: None,
    })
}

/// Takes `step` on `case` (by the transition table), acted by `org` as `by`; records it on the
/// trail and tells the parties. `invalid_transition` if the case's state does not allow it.
fn take_step(
    state: &AppState,
    conn: &mut DbConn,
    case: &Case,
    step: CaseStep,
    resolution: Option<&Resolution>,
    (org, by): (&Organization, &str),
) -> AppResult<Case> {
    if !Case::advance(conn, &case.id, step, resolution, now())? {
        return Err(AppError::Conflict {
            code: "invalid_transition",
            message: "the case is not in a state that allows this".into(),
        });
    }
    let case = by_id(conn, &case.id)?;
    announce(state, conn, &case, org, by)?;
    Ok(case)
}

fn require_respondent<'a>(actor: &'a Actor, case: &Case) -> AppResult<&'a Organization> {
    match actor {
        Actor::Org(org) if org.id == case.respondent_id => Ok(org),
        _ => Err(AppError::Forbidden(
            "only the party the case names may do this".into(),
        )),
    }
}

/// The named party takes the case up, or answers it (`answer`: compensated with the amount,
/// replaced, or refused). Who may act is checked before what was sent.
fn respond(
    state: &AppState,
    actor: &Actor,
    id: &str,
    step: CaseStep,
    answer: Option<&CaseAnswer>,
) -> AppResult<CaseView> {
    state.write(|conn| {
        let case = by_id(conn, id)?;
        let org = require_respondent(actor, &case)?;
        let resolution = answer.map(checked_answer).transpose()?;
        let case = take_step(
            state,
            conn,
            &case,
            step,
            resolution.as_ref(),
            (org, "respondent"),
        )?;
        view(conn, case, None)
    })
}

/// The named party takes the case up.
pub fn accept(state: &AppState, actor: &Actor, id: &str) -> AppResult<CaseView> {
    respond(state, actor, id, CaseStep::Accept, None)
}

/// The named party answers: compensated (with the amount), replaced, or refused.
pub fn answer(state: &AppState, actor: &Actor, id: &str, input: CaseAnswer) -> AppResult<CaseView> {
    respond(state, actor, id, CaseStep::Answer, Some(&input))
}

fn respondent_of(conn: &mut DbConn, case: &Case) -> AppResult<Organization> {
    Organization::find(conn, &case.respondent_id)?
        .ok_or_else(|| AppError::not_found("organization"))
}

/// The consumer (holding the number) confirms the answer: the case is closed.
pub fn confirm(state: &AppState, number: &str) -> AppResult<CaseView> {
    state.write(|conn| {
        let case = by_number(conn, number)?;
        let respondent = respondent_of(conn, &case)?;
        let case = take_step(
            state,
            conn,
            &case,
            CaseStep::Confirm,
            None,
            (&respondent, "consumer"),
        )?;
        view(conn, case, Some(number.trim().to_ascii_uppercase()))
    })
}

fn regulator_of<'a>(actor: &'a Actor, respondent: &Organization) -> AppResult<&'a Organization> {
    let org = actor.require_kind(&[OrgKind::Regulator])?;
    if within(&org.region_code, &respondent.region_code) {
        Ok(org)
    } else {
        Err(AppError::Forbidden(
            "the case's party is outside the regulator's region".into(),
        ))
    }
}

/// A regulator of the named party's region decides an overdue case, which closes it.
pub fn decide(state: &AppState, actor: &Actor, id: &str, input: CaseAnswer) -> AppResult<CaseView> {
    state.write(|conn| {
        let case = by_id(conn, id)?;
        let respondent = respondent_of(conn, &case)?;
        let regulator = regulator_of(actor, &respondent)?;
        let mut resolution = checked_answer(&input)?;
        if !is_overdue(&case) {
            return Err(AppError::Conflict {
                code: "not_overdue",
                message: "a regulator decides a case only once it is overdue".into(),
            });
        }
        resolution.decided_by = Some(regulator.id.clone());
        let case = take_step(
            state,
            conn,
            &case,
            CaseStep::Decide,
            Some(&resolution),
            (regulator, "regulator"),
        )?;
        audit::record(
            conn,
            actor,
            &respondent.region_code,
            "case.decide",
            &format!("case:{}", case.id),
            json!({"outcome": resolution.outcome, "amount_fen": resolution.amount_fen}),
        )?;
        view(conn, case, None)
    })
}

/// Cases the caller is party to (as the named party or the producer), or, for a regulator,
/// those naming parties in its region; newest first, with the reports.
pub fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<PartyCaseView>> {
    let mut conn = state.db.reader()?;
    let rows = match actor {
        Actor::Admin => Case::in_region(&mut conn, "", LIST_LIMIT)?,
        Actor::Org(org) => match org.kind() {
            OrgKind::Regulator => Case::in_region(&mut conn, prefix(&org.region_code), LIST_LIMIT)?,
            _ => Case::of_party(&mut conn, &org.id, LIST_LIMIT)?,
        },
    };
    let mut out = Vec::with_capacity(rows.len());
    for case in rows {
        let complaint = Complaint::find(&mut conn, &case.certificate_id, &case.complaint_id)?;
        let (category, message, contact) = complaint
            .map(|c| (c.category, c.message, c.contact))
            .unwrap_or_default();
        // The consumer's contact is for whoever must answer: the named party and regulators.
        let answers = match actor {
            Actor::Admin => true,
            Actor::Org(org) => org.kind() == OrgKind::Regulator || org.id == case.respondent_id,
        };
        out.push(PartyCaseView {
            case: view(&mut conn, case, None)?,
            category,
            message,
            contact: contact.filter(|_| answers),
        });
    }
    Ok(out)
}
