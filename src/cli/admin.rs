//! `certrail admin …`: the platform admin's commands on the server's own database: its token,
//! people, onboarding organizations from a CSV file, deactivation, password resets and a
//! compromised key.

use crate::config::Config;
use crate::service::{access::auth, AppState};

/// `certrail admin token`: prints a new platform admin token.
pub fn token(config: Config) -> Result<(), String> {
    let state = AppState::open(config)?;
    let token = auth::create_admin_token(&state).map_err(|e| e.to_string())?;
    println!("{token}");
    Ok(())
}

/// `certrail admin compromise-key`: as `POST /api/v1/keys/{kid}/compromise` by the admin.
pub fn compromise_key(config: Config, kid: &str, since: &str) -> Result<(), String> {
    use crate::service::keys::lifecycle::{compromise, Compromise};
    let state = AppState::open(config)?;
    let key = compromise(
        &state,
        &crate::service::Actor::Admin,
        kid,
        Compromise {
            since: since.to_string(),
        },
    )
    .map_err(|e| e.to_string())?;
    println!(
        "key {} is compromised since {}",
        key.kid,
        key.compromised_since.unwrap_or_default()
    );
    Ok(())
}

/// `certrail admin user`: creates a page user and prints its generated password.
pub fn user(
    config: Config,
    organization: &str,
    username: &str,
    platform_admin: bool,
) -> Result<(), String> {
    use crate::service::access::accounts::{create_user, NewUser};
    let state = AppState::open(config)?;
    let new = NewUser {
        username: username.to_string(),
        platform_admin,
    };
    let user = create_user(&state, &crate::service::Actor::Admin, organization, new)
        .map_err(|e| e.to_string())?;
    println!("{}", user.password);
    Ok(())
}

/// `certrail admin onboard`: registers every organization of a CSV file, or none.
pub fn onboard(config: Config, csv: &std::path::Path) -> Result<(), String> {
    let bytes = std::fs::read(csv).map_err(|e| format!("{}: {e}", csv.display()))?;
    let state = AppState::open(config)?;
    match crate::service::access::admin::onboard(&state, &crate::service::Actor::Admin, &bytes) {
        Ok(created) => {
            let mut out = crate::print::csv_out::Writer::from_writer(std::io::stdout().lock());
            let write_err = |e: csv::Error| format!("cannot write the result: {e}");
            out.write_record(["id", "kind", "credit_code", "name"])
                .map_err(write_err)?;
            for org in created {
                out.write_record([&org.id, &org.kind, &org.credit_code, &org.name])
                    .map_err(write_err)?;
            }
            out.flush().map_err(|e| e.to_string())
        }
        Err(crate::service::access::admin::OnboardError::Rows(rows)) => {
            for row in &rows {
                eprintln!("line {}: {}: {}", row.line, row.field, row.message);
            }
            Err(format!("nothing was registered: {} problem(s)", rows.len()))
        }
        Err(crate::service::access::admin::OnboardError::Request(e)) => Err(e.to_string()),
    }
}

/// `certrail admin deactivate`.
pub fn deactivate(config: Config, organization: &str, reason: &str) -> Result<(), String> {
    let state = AppState::open(config)?;
    crate::service::access::admin::set_active(
        &state,
        &crate::service::Actor::Admin,
        organization,
        false,
        reason,
    )
    .map_err(|e| e.to_string())?;
    println!("deactivated {organization}");
    Ok(())
}

/// `certrail admin reset-password`: prints the user's new generated password.
pub fn reset_password(config: Config, username: &str) -> Result<(), String> {
    let state = AppState::open(config)?;
    let password = crate::service::access::accounts::reset_password(
        &state,
        &crate::service::Actor::Admin,
        username,
    )
    .map_err(|e| e.to_string())?;
    println!("{password}");
    Ok(())
}
