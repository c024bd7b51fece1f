//! Who may act: the platform admin and the five kinds of organization.

use serde::{Deserialize, Serialize};

/// An organization's kind (contract §6); it fixes the role of its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Producer,
    Retailer,
    Regulator,
    CertificationBody,
    Lab,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        OrgKind::Producer,
        OrgKind::Retailer,
        OrgKind::Regulator,
        OrgKind::CertificationBody,
        OrgKind::Lab,
    ];

    /// The snake_case name stored in the database and used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Producer => "producer",
            OrgKind::Retailer => "retailer",
            OrgKind::Regulator => "regulator",
            OrgKind::CertificationBody => "certification_body",
            OrgKind::Lab => "lab",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}
