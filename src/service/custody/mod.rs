//! Who holds the goods: custody events on the trail, legs of custody between parties and
//! claims of custody that nobody shipped.

pub mod claims;
pub mod events;
pub mod legs;
