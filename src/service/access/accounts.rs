//! Sign-in for the pages: users created by the platform admin, argon2id password hashes, and
//! sessions whose cookie value is stored only as a hash, each with its own CSRF token.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::crypto::b64url;
use crate::crypto::random::{new_id, new_secret, token_hash};
use crate::db::models::{now, Organization, Session, User};
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::{checked_id, Actor, AppState};

/// Shortest and longest password a person may choose.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 12..=128;

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

/// `POST /api/v1/organizations/{id}/users`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3 to 64 characters: letters, digits, `.`, `_`, `-`.
    #[schema(pattern = "^[A-Za-z0-9._-]{3,64}$")]
    pub username: String,
    /// A platform admin user signs in to the admin console and acts as the platform admin.
    #[serde(default)]
    pub platform_admin: bool,
}

/// A new user with a generated password, shown once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    pub id: String,
    pub organization_id: String,
    pub username: String,
    pub password: String,
}

/// A signed-in session: the cookie value (shown once) and the form token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub csrf_token: String,
}

/// Who a live session belongs to.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user_id: String,
    pub actor: Actor,
    pub organization: Organization,
    pub username: String,
    pub csrf_token: String,
}

/// A generated password: 120 random bits, 20 characters.
fn generated_password() -> String {
    b64url(&new_secret()[..15])
}

/// Admin only: creates a user of `organization_id` with a generated password.
pub fn create_user(
    state: &AppState,
    actor: &Actor,
    organization_id: &str,
    new: NewUser,
) -> AppResult<CreatedUser> {
    actor.require_admin()?;
    let username = new.username.trim().to_string();
    let valid = (3..=64).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(AppError::invalid(
            "invalid_username",
            "username",
            "3 to 64 characters: letters, digits, '.', '_' or '-'",
        ));
    }
    let organization_id = checked_id(organization_id, "organization")?.to_string();
    let password = generated_password();
    let user = User {
        id: new_id(),
        organization_id: organization_id.clone(),
        username: username.clone(),
        password_hash: state.hashing.permit()?.hash(&password)?,
        created_at: now(),
        deactivated_at: None,
        platform_admin: new.platform_admin,
    };
    state.write(|conn| {
        Organization::find(conn, &organization_id)?
            .ok_or_else(|| AppError::not_found("organization"))?;
        if User::find_by_username(conn, &username)?.is_some() {
            return Err(AppError::Conflict {
                code: "username_taken",
                message: format!("the username {username} is taken"),
            });
        }
        user.insert(conn)?;
        // Who and for whom; never the password. No region: the admin's business alone.
        crate::service::audit::record(
            conn,
            actor,
            "",
            "user.create",
            &format!("user:{username}"),
            serde_json::json!({"organization_id": organization_id,
                "platform_admin": user.platform_admin}),
        )
    })?;
    Ok(CreatedUser {
        id: user.id,
        organization_id,
        username,
        password,
    })
}

/// Checks a username and password and opens a session. The answer never says which was wrong;
/// attempts are limited per client address, and failures per account and address
/// ([`crate::service::access::limits::SignInLimits`]); the hash is refused (503), not queued, while
/// the hashing budget is taken ([`crate::service::access::passwords`]).
pub fn sign_in(
    state: &AppState,
    client: &str,
    username: &str,
    password: &str,
) -> AppResult<SignedIn> {
    let username = validate::text("username", username, 64)?;
    let attempt = state.limits.sign_in.attempt(&username, client)?;
    let user = User::find_by_username(&mut *state.db.reader()?, &username)?;
    // Hash even for an unknown user, so timing does not tell which usernames exist.
    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    let matches = state.hashing.permit()?.matches(password, stored);
    let Some(user) = user.filter(|_| matches) else {
        attempt.failed();
        return Err(AppError::Unauthorized("wrong username or password".into()));
    };
    attempt.succeeded();
    let organization = Organization::find(&mut *state.db.reader()?, &user.organization_id)?;
    if user.deactivated_at.is_some() || organization.is_none_or(|o| o.deactivated_at.is_some()) {
        return Err(AppError::Denied {
            code: "account_deactivated",
            message: "this account is deactivated; ask the platform admin".into(),
        });
    }
    let token = b64url(&new_secret());
    let csrf_token = b64url(&new_secret());
    let at = now();
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: csrf_token.clone(),
        created_at: at,
        expires_at: at + Duration::hours(SESSION_HOURS),
    };
    state.write(|conn| session.insert(conn).map_err(AppError::from))?;
    Ok(SignedIn { token, csrf_token })
}

/// The live session a cookie value names, if any.
pub fn session(state: &AppState, token: &str) -> AppResult<Option<SessionUser>> {
    let mut conn = state.db.reader()?;
    let Some(session) = Session::find_live(&mut conn, &token_hash(token), now())? else {
        return Ok(None);
    };
    let Some(user) = User::find(&mut conn, &session.user_id)? else {
        return Ok(None);
    };
    let Some(organization) = Organization::find(&mut conn, &user.organization_id)? else {
        return Ok(None);
    };
    // Checked on every request: deactivation ends the session at once.
    if user.deactivated_at.is_some() || organization.deactivated_at.is_some() {
        return Ok(None);
    }
    Ok(Some(SessionUser {
        user_id: user.id,
        actor: match user.platform_admin {
            true => Actor::Admin,
            false => Actor::Org(organization.clone()),
        },
        organization,
        username: user.username,
        csrf_token: session.csrf_token,
    }))
}

/// A signed-in person replaces their password: the current one must be right, the new one
/// 12 to 128 characters and different. Every other session of theirs ends; this one stays.
/// Tries of the current password count as sign-in attempts from `client` (so a session left
/// open is no way round the sign-in limits).
pub fn change_password(
    state: &AppState,
    user: &SessionUser,
    session_token: &str,
    client: &str,
    current: &str,
    new: &str,
) -> AppResult<()> {
    let attempt = state.limits.sign_in.attempt(&user.username, client)?;
    let stored = User::find(&mut *state.db.reader()?, &user.user_id)?
        .ok_or_else(|| AppError::not_found("user"))?;
    let hashing = state.hashing.permit()?;
    if !hashing.matches(current, Some(&stored.password_hash)) {
        attempt.failed();
        return Err(AppError::invalid(
            "wrong_password",
            "current_password",
            "the current password is not right",
        ));
    }
    attempt.succeeded();
    if !PASSWORD_CHARS.contains(&new.chars().count()) || new == current {
        return Err(AppError::invalid(
            "weak_password",
            "new_password",
            "choose a new password of 12 to 128 characters, different from the current one",
        ));
    }
    let hash = hashing.hash(new)?;
    drop(hashing);
    let keep = token_hash(session_token);
    state.write(|conn| {
        User::set_password_hash(conn, &stored.id, &hash)?;
        Session::delete_others(conn, &stored.id, Some(&keep))?;
        Ok(())
    })
}

/// Admin only: gives `username` a new generated password (shown once) and ends all their
/// sessions, for someone who forgot theirs or left.
pub fn reset_password(state: &AppState, actor: &Actor, username: &str) -> AppResult<String> {
    actor.require_admin()?;
    let user = User::find_by_username(&mut *state.db.reader()?, username.trim())?
        .ok_or_else(|| AppError::not_found("user"))?;
    let password = generated_password();
    let hash = state.hashing.permit()?.hash(&password)?;
    state.write(|conn| {
        User::set_password_hash(conn, &user.id, &hash)?;
        Session::delete_others(conn, &user.id, None)?;
        // That it happened; never the password. No region: the admin's business alone.
        crate::service::audit::record(
            conn,
            actor,
            "",
            "user.password_reset",
            &format!("user:{}", user.username),
            serde_json::json!({}),
        )
    })?;
    Ok(password)
}

/// Ends the session a cookie value names.
pub fn sign_out(state: &AppState, token: &str) -> AppResult<()> {
    state.write(|conn| Session::delete(conn, &token_hash(token)).map_err(AppError::from))
}
