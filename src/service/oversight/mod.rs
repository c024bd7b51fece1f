//! A regulator's authority: the dashboard, status changes, sanctions and reinstatements,
//! recalls and the region's statistics.

pub mod dashboard;
pub mod holds;
pub mod recalls;
pub mod reinstatements;
pub mod sanctions;
pub mod statistics;
pub mod status;
pub mod warnings;
