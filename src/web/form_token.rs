//! CSRF tokens of the forms anyone may send before signing in (sign-in, problem reports,
//! 先行赔付 claims and a case's answer): signed double-submit. The form's field holds a random
//! nonce; the cookie set with the page holds `nonce.mac`, the MAC an HMAC-SHA256 under a key
//! derived from the master key, over the cookie's name and the nonce. A cookie an attacker
//! plants (from a sibling subdomain, say) carries no valid MAC and is refused, so choosing
//! the cookie no longer lets them choose the field. Signed-in forms use the session's token.

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

fn mac(state: &AppState, name: &str, nonce: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(state.keys.master().form_key())
        .expect("HMAC takes keys of any length");
    mac.update(name.as_bytes());
    mac.update(b"\n");
    mac.update(nonce.as_bytes());
    mac
}

/// A new nonce for the form named by its cookie `name`, and the signed cookie.
pub fn issue(state: &AppState, name: &'static str) -> FormToken {
    let nonce = b64url(&new_secret());
    let tag = b64url(&mac(state, name, &nonce).finalize().into_bytes());
    FormToken {
        cookie: super::page::cookie(state, name, format!("{nonce}.{tag}")),
        field: nonce,
    }
}

/// Accepts a form whose `sent` field is the nonce of a cookie `name` this platform signed.
pub fn check(state: &AppState, req: &HttpRequest, name: &'static str, sent: &str) -> AppResult<()> {
    let cookie = req.cookie(name).map(|c| c.value().to_string());
    if cookie
        .as_deref()
        .is_some_and(|c| valid(state, name, c, sent))
    {
        Ok(())
    } else {
        Err(super::page::form_expired())
    }
}

fn valid(state: &AppState, name: &str, cookie: &str, sent: &str) -> bool {
    let Some((nonce, tag)) = cookie.split_once('.') else {
        return false;
    };
    let Some(tag) = b64url_decode(tag) else {
        return false;
    };
    let signed = mac(state, name, nonce).verify_slice(&tag).is_ok();
    let same: bool = nonce.as_bytes().ct_eq(sent.as_bytes()).into();
    signed && same && !nonce.is_empty()
}
