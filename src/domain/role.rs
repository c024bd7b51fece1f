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

/// What a token may do for its organization. `admin` may do everything the organization's
/// role allows (tokens and keys included); `issue` and `trail` may read and do that; `read`
/// only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Issue,
    Trail,
    Admin,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "read" => Scope::Read,
            "issue" => Scope::Issue,
            "trail" => Scope::Trail,
            "admin" => Scope::Admin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Issue => "issue",
            Scope::Trail => "trail",
            Scope::Admin => "admin",
        }
    }

    /// Whether a token of this scope may do what `needed` names.
    pub fn allows(self, needed: Scope) -> bool {
        self == Scope::Admin || needed == Scope::Read || self == needed
    }
}

#[cfg(test)]
mod scope_tests {
    use super::Scope::{self, *};

    #[test]
    fn scopes_allow_reading_and_their_own_kind_of_write() {
        let table = [
            (Read, [true, false, false, false]),
            (Issue, [true, true, false, false]),
            (Trail, [true, false, true, false]),
            (Admin, [true, true, true, true]),
        ];
        for (scope, allowed) in table {
            for (needed, want) in [Read, Issue, Trail, Admin].into_iter().zip(allowed) {
                assert_eq!(scope.allows(needed), want, "{scope:?} for {needed:?}");
            }
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("write"), None);
    }
}
