//! A certificate's status and the one table of its transitions. Storage keeps the status as
//! text (`active`, `suspended`, `revoked`, `recalled`); everything that decides on it goes
//! through [`CertStatus`].

use serde::{Deserialize, Serialize};

use super::trail::EventType;

/// Where a certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    /// Issued and in force.
    Active,
    /// Held by its producer or a regulator; may be reinstated.
    Suspended,
    /// Withdrawn for good.
    Revoked,
    /// Its goods are recalled; it can still be revoked.
    Recalled,
}

impl CertStatus {
    pub const ALL: [CertStatus; 4] = [
        CertStatus::Active,
        CertStatus::Suspended,
        CertStatus::Revoked,
        CertStatus::Recalled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CertStatus::Active => "active",
            CertStatus::Suspended => "suspended",
            CertStatus::Revoked => "revoked",
            CertStatus::Recalled => "recalled",
        }
    }

    /// The status named `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// The status of a stored certificate. A value outside the four (a damaged row) is read
    /// as `Suspended`: such a certificate is never shown as in force.
    pub fn from_stored(s: &str) -> Self {
        Self::parse(s).unwrap_or(CertStatus::Suspended)
    }

    /// The transition table: the status `event` moves a certificate in this status to, or
    /// `None` when this status does not allow it. Other events leave the status alone.
    pub fn after(self, event: EventType) -> Option<CertStatus> {
        use CertStatus::*;
        match (self, event) {
            (Active, EventType::Suspended) => Some(Suspended),
            (Suspended, EventType::Reinstated) => Some(Active),
            (Active | Suspended | Recalled, EventType::Revoked) => Some(Revoked),
            (Active | Suspended, EventType::Recalled) => Some(Recalled),
            _ => None,
        }
    }

    /// Chinese and English words for pages.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            CertStatus::Active => ("有效", "Active"),
            CertStatus::Suspended => ("已暂停", "Suspended"),
            CertStatus::Revoked => ("已撤销", "Revoked"),
            CertStatus::Recalled => ("已召回", "Recalled"),
        }
    }
}

impl std::fmt::Display for CertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::CertStatus::*;
    use super::*;

    #[test]
    fn the_transition_table() {
        // Every (status, event) pair, so a changed rule shows here.
        let expected = |from: CertStatus, event: EventType| match (from, event) {
            (Active, EventType::Suspended) => Some(Suspended),
            (Suspended, EventType::Reinstated) => Some(Active),
            (Active, EventType::Revoked)
            | (Suspended, EventType::Revoked)
            | (Recalled, EventType::Revoked) => Some(Revoked),
            (Active, EventType::Recalled) | (Suspended, EventType::Recalled) => Some(Recalled),
            _ => None,
        };
        for from in CertStatus::ALL {
            for event in EventType::ALL {
                assert_eq!(
                    from.after(event),
                    expected(from, event),
                    "{from} + {event:?}"
                );
            }
        }
        assert_eq!(Revoked.after(EventType::Reinstated), None);
        assert_eq!(Recalled.after(EventType::Suspended), None);
        assert_eq!(Active.after(EventType::Reinstated), None);
    }

    #[test]
    fn names_round_trip_and_damage_fails_closed() {
        for status in CertStatus::ALL {
            assert_eq!(CertStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert_eq!(CertStatus::parse("Active"), None);
        assert_eq!(CertStatus::from_stored("valid"), Suspended);
        assert_eq!(CertStatus::from_stored("revoked"), Revoked);
    }

    #[test]
    fn statuses_in_words_and_on_the_wire() {
        let shown: Vec<_> = CertStatus::ALL
            .iter()
            .map(|s| (s.to_string(), s.words()))
            .collect();
        assert_eq!(
            shown,
            [
                ("active".to_string(), ("有效", "Active")),
                ("suspended".to_string(), ("已暂停", "Suspended")),
                ("revoked".to_string(), ("已撤销", "Revoked")),
                ("recalled".to_string(), ("已召回", "Recalled")),
            ]
        );
    }
}
