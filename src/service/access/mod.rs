//! Who may do what: sign-in and API tokens, people and organizations, the platform
//! admin, password hashing and the per-client limits on the public doors.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod limits;
pub mod organizations;
pub mod passwords;
pub mod tokens;
