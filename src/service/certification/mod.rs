//! Certification marks (CCC and the like) and the labs accredited to test.

pub mod labs;
pub mod marks;
