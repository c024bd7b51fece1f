//! A regulator's pages: the region's console and dashboard, sanctions, recalls and statistics.

pub mod recalls;
pub mod regulator;
pub mod sanctions;
pub mod statistics;
