//! Consumers' recourse: problem reports on a label and 先行赔付 compensation cases.

pub mod cases;
pub mod complaints;
