//! Verification verdicts (contract §4) and their precedence.

use serde::Serialize;

/// What a verifier concludes about a label. Declared from strongest to weakest: when several
/// findings apply, the first in this order wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Unknown,
    Forged,
    Tampered,
    Revoked,
    Recalled,
    Suspended,
    Expired,
    Genuine,
}

impl Verdict {
    /// Every verdict, in declaration order (`Verdict::X as usize` indexes it).
    pub const ALL: [Verdict; 8] = [
        Verdict::Unknown,
        Verdict::Forged,
        Verdict::Tampered,
        Verdict::Revoked,
        Verdict::Recalled,
        Verdict::Suspended,
        Verdict::Expired,
        Verdict::Genuine,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Unknown => "unknown",
            Verdict::Forged => "forged",
            Verdict::Tampered => "tampered",
            Verdict::Revoked => "revoked",
            Verdict::Recalled => "recalled",
            Verdict::Suspended => "suspended",
            Verdict::Expired => "expired",
            Verdict::Genuine => "genuine",
        }
    }
}

/// Collects findings; the verdict is the strongest one, the reasons are all of them.
#[derive(Debug, Default, Clone)]
pub struct Findings {
    found: Vec<(Verdict, String)>,
}

impl Findings {
    /// Records that `verdict` applies, because of `reason` (a snake_case code).
    pub fn add(&mut self, verdict: Verdict, reason: impl Into<String>) {
        self.found.push((verdict, reason.into()));
    }

    /// Adds every finding of `other`.
    pub fn extend(&mut self, other: Findings) {
        self.found.extend(other.found);
    }

    /// The strongest verdict, `genuine` when nothing was found.
    pub fn verdict(&self) -> Verdict {
        self.found
            .iter()
            .map(|(v, _)| *v)
            .min()
            .unwrap_or(Verdict::Genuine)
    }

    /// Reasons ordered by the precedence of their verdict.
    pub fn reasons(&self) -> Vec<String> {
        let mut found = self.found.clone();
        found.sort_by_key(|(v, _)| *v);
        found.into_iter().map(|(_, r)| r).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_follows_the_contract() {
        let order =
            "unknown > forged > tampered > revoked > recalled > suspended > expired > genuine";
        let mut all = [
            Verdict::Genuine,
            Verdict::Expired,
            Verdict::Suspended,
            Verdict::Recalled,
            Verdict::Revoked,
            Verdict::Tampered,
            Verdict::Forged,
            Verdict::Unknown,
        ];
        all.sort();
        let rendered: Vec<_> = all.iter().map(|v| v.as_str()).collect();
        assert_eq!(rendered.join(" > "), order);
    }

    #[test]
    fn strongest_finding_wins() {
        let mut f = Findings::default();
        assert_eq!(f.verdict(), Verdict::Genuine);
        f.add(Verdict::Expired, "expired");
        f.add(Verdict::Tampered, "payload_signature_invalid");
        assert_eq!(f.verdict(), Verdict::Tampered);
        assert_eq!(f.reasons(), vec!["payload_signature_invalid", "expired"]);
    }

    #[test]
    fn verdict_names_and_merged_findings() {
        let names: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(
            names.join(" > "),
            "unknown > forged > tampered > revoked > recalled > suspended > expired > genuine"
        );
        let mut f = Findings::default();
        f.add(Verdict::Expired, "expired");
        let mut other = Findings::default();
        other.add(Verdict::Revoked, "revoked");
        f.extend(other);
        assert_eq!(f.verdict(), Verdict::Revoked);
        assert_eq!(f.reasons(), vec!["revoked", "expired"]);
    }
}
