//! CSRF tokens of the forms anyone may send before signing in (sign-in, problem reports,
//! 先行赔付 claims and a case's answer): signed double-submit. The form's field holds a random
//! nonce; the cookie set with the page holds `nonce.mac`, the MAC an HMAC-SHA256 under a key
//! derived from the master key, over the cookie's name, the issue time and the nonce
//! (`nonce.time.mac`). A cookie an attacker makes up carries no valid MAC; one they obtained
//! from the site for themselves and planted (from a sibling subdomain) is still of no use from
//! another site: a POST the browser marks cross-site (`Sec-Fetch-Site`) or whose `Origin` is
//! not the platform's is refused first. Tokens last 12 hours. Signed-in forms use the
//! session's token.

use actix_web::cookie::Cookie;
use actix_web::HttpRequest;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::crypto::random::new_secret;
use crate::crypto::signing::{b64url, b64url_decode};
use crate::error::AppResult;
use crate::service::AppState;

/// A fresh token: the value for the form's `csrf_token` field and the cookie to set with it.
pub struct FormToken {
    pub field: String,
    pub cookie: Cookie<'static>,
}

/// How long a form token is accepted, in seconds.
const MAX_AGE_SECS: i64 = 12 * 3600;

#[expect(clippy::expect_used, reason = "HMAC-SHA256 takes keys of any length")]
fn mac(state: &AppState, name: &str, nonce: &str, issued: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(state.keys.master().form_key())
        .expect("HMAC takes keys of any length");
    mac.update(format!("{name}\n{issued}\n{nonce}").as_bytes());
    mac
}

/// A new nonce for the form named by its cookie `name`, and the signed cookie.
pub fn issue(state: &AppState, name: &'static str) -> FormToken {
    let nonce = b64url(&new_secret());
    let issued = chrono::Utc::now().timestamp();
    let tag = b64url(&mac(state, name, &nonce, issued).finalize().into_bytes());
    FormToken {
        cookie: crate::web::page::cookie(state, name, format!("{nonce}.{issued}.{tag}")),
        field: nonce,
    }
}

/// Accepts a same-site form whose `sent` field is the nonce of a cookie `name` this platform
/// signed less than 12 hours ago.
pub fn check(state: &AppState, req: &HttpRequest, name: &'static str, sent: &str) -> AppResult<()> {
    let cookie = req.cookie(name).map(|c| c.value().to_string());
    let now = chrono::Utc::now().timestamp();
    if same_site(state, req)
        && cookie
            .as_deref()
            .is_some_and(|c| valid(state, name, c, sent, now))
    {
        Ok(())
    } else {
        Err(crate::web::page::form_expired())
    }
}

/// Whether the browser says the POST comes from the platform's own pages: `Sec-Fetch-Site`
/// `same-origin` (or `none`, typed by the user), else an `Origin` equal to the public URL's.
/// A client that sends neither (an old browser, a script) is judged by the token alone.
fn same_site(state: &AppState, req: &HttpRequest) -> bool {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match header("origin") {
        Some(origin) => {
            state.config.public_url.starts_with(origin)
                && state.config.public_url[origin.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == '/')
        }
        None => true,
    }
}

fn valid(state: &AppState, name: &str, cookie: &str, sent: &str, now: i64) -> bool {
    let mut parts = cookie.splitn(3, '.');
    let (Some(nonce), Some(issued), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(issued), Some(tag)) = (issued.parse::<i64>(), b64url_decode(tag)) else {
        return false;
    };
    let fresh = (0..MAX_AGE_SECS).contains(&(now - issued));
    let signed = mac(state, name, nonce, issued).verify_slice(&tag).is_ok();
    let same: bool = nonce.as_bytes().ct_eq(sent.as_bytes()).into();
    signed && same && fresh && !nonce.is_empty()
}
