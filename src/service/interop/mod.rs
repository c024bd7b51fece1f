//! Other systems' formats: W3C Verifiable Credentials, GS1 EPCIS 2.0 and GS1 Digital Link.

pub mod credentials;
pub mod digital_link;
pub mod epcis;
