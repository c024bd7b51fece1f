//! Receivers' pages: goods intake, legs of custody (ship on, refuse) and claims of custody.

pub mod claims;
pub mod legs;
pub mod retailer;
