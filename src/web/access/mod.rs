//! Signing in and the organization's own settings: sign-in, password change, keys, tokens and
//! webhooks, and the platform admin's console.

pub mod admin;
pub mod password;
pub mod settings;
pub mod signin;
