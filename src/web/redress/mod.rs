//! Consumers' recourse on pages: a problem report from a label, and 先行赔付 cases.

pub mod cases;
pub mod complaint;
