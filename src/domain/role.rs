//! Who may act: the platform admin and the seven kinds of organization.

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// An organization's kind (contract §6); it fixes the role of its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Producer,
    Retailer,
    Regulator,
    CertificationBody,
    Lab,
    /// A distributor or wholesaler (经销商、批发商): takes goods in and ships them on.
    Wholesaler,
    /// A wholesale or farmers' market's operator (市场开办者): checks goods entering the
    /// market; its stallholders are retailers under it.
    MarketOperator,
}

crate::domain::request::named_schema!(
    /// An organization's kind.
    OrgKindName = crate::domain::request::one_of(&OrgKind::ALL.map(OrgKind::as_str))
);

impl OrgKind {
    pub const ALL: [OrgKind; 7] = [
        OrgKind::Producer,
        OrgKind::Retailer,
        OrgKind::Regulator,
        OrgKind::CertificationBody,
        OrgKind::Lab,
        OrgKind::Wholesaler,
        OrgKind::MarketOperator,
    ];

    /// Kinds that take goods in (进货查验): every link of the chain after the producer.
    pub const RECEIVERS: [OrgKind; 3] = [
        OrgKind::Wholesaler,
        OrgKind::MarketOperator,
        OrgKind::Retailer,
    ];

    /// Kinds that hold goods and may ship them on: the producer and every receiver.
    pub const HOLDERS: [OrgKind; 4] = [
        OrgKind::Producer,
        OrgKind::Wholesaler,
        OrgKind::MarketOperator,
        OrgKind::Retailer,
    ];

    /// The snake_case name stored in the database and used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Producer => "producer",
            OrgKind::Retailer => "retailer",
            OrgKind::Regulator => "regulator",
            OrgKind::CertificationBody => "certification_body",
            OrgKind::Lab => "lab",
            OrgKind::Wholesaler => "wholesaler",
            OrgKind::MarketOperator => "market_operator",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Parses a submitted kind, or says which kinds there are.
    pub fn parse_field(field: &'static str, s: &str) -> Result<OrgKind, ValidationError> {
        super::validate::pick(field, "invalid_kind", s, &Self::ALL, Self::as_str)
    }

    /// The tier of the supply chain a receiver stands in, for reports: `wholesale`, `market`
    /// or `retail` (stallholders are retail).
    pub fn tier(self) -> Option<&'static str> {
        match self {
            OrgKind::Wholesaler => Some("wholesale"),
            OrgKind::MarketOperator => Some("market"),
            OrgKind::Retailer => Some("retail"),
            _ => None,
        }
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
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Issue, Scope::Trail, Scope::Admin];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
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
mod kind_tests {
    use super::OrgKind::{self, *};

    #[test]
    fn kinds_round_trip_their_wire_names() {
        let names: Vec<&str> = OrgKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "producer",
                "retailer",
                "regulator",
                "certification_body",
                "lab",
                "wholesaler",
                "market_operator"
            ]
        );
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                OrgKind::parse_field("kind", &format!(" {} ", kind.as_str())),
                Ok(kind)
            );
        }
        assert_eq!(OrgKind::parse("Producer"), None);
        let err = OrgKind::parse_field("organizations.3.kind", "farm").unwrap_err();
        assert_eq!(
            (err.code, err.field.as_str()),
            ("invalid_kind", "organizations.3.kind")
        );
    }

    #[test]
    fn only_receivers_stand_in_a_tier() {
        let tiers: Vec<_> = OrgKind::ALL.iter().map(|k| (*k, k.tier())).collect();
        assert_eq!(
            tiers,
            [
                (Producer, None),
                (Retailer, Some("retail")),
                (Regulator, None),
                (CertificationBody, None),
                (Lab, None),
                (Wholesaler, Some("wholesale")),
                (MarketOperator, Some("market")),
            ]
        );
        assert!(OrgKind::RECEIVERS.iter().all(|k| k.tier().is_some()));
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
