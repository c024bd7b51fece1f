//! A 先行赔付 case's states and the one table of its steps. Storage keeps the state as text
//! (`reported`, `accepted`, `answered`, `closed`); everything that decides on it goes through
//! [`CaseState`].

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseState {
    /// A consumer opened it from a report.
    Reported,
    /// The named party took it up.
    Accepted,
    /// The named party answered: compensated, replaced or refused.
    Answered,
    /// The consumer confirmed the answer, or a regulator decided the overdue case.
    Closed,
}

/// What moves a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStep {
    /// The named party takes the case up.
    Accept,
    /// The named party answers.
    Answer,
    /// The consumer confirms the answer.
    Confirm,
    /// A regulator decides an overdue case.
    Decide,
}

impl CaseState {
    pub const ALL: [CaseState; 4] = [
        CaseState::Reported,
        CaseState::Accepted,
        CaseState::Answered,
        CaseState::Closed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CaseState::Reported => "reported",
            CaseState::Accepted => "accepted",
            CaseState::Answered => "answered",
            CaseState::Closed => "closed",
        }
    }

    /// The state named `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// The state of a stored case. A value outside the four (a damaged row) is read as
    /// `Reported`: such a case still waits for its party and shows as overdue in time.
    pub fn from_stored(s: &str) -> Self {
        Self::parse(s).unwrap_or(CaseState::Reported)
    }

    /// The transition table: the state `step` moves a case in this state to, or `None` when
    /// this state does not allow it.
    pub fn after(self, step: CaseStep) -> Option<CaseState> {
        use CaseState::*;
        match (self, step) {
            (Reported, CaseStep::Accept) => Some(Accepted),
            (Reported | Accepted, CaseStep::Answer) => Some(Answered),
            (Answered, CaseStep::Confirm) => Some(Closed),
            (Reported | Accepted, CaseStep::Decide) => Some(Closed),
            _ => None,
        }
    }

    /// Waiting for the named party's answer (so it can become overdue).
    pub fn awaits_answer(self) -> bool {
        self.after(CaseStep::Answer).is_some()
    }
}

impl std::fmt::Display for CaseState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::CaseState::*;
    use super::*;

    #[test]
    fn the_table_moves_a_case_forward_only() {
        let table = [
            (Reported, CaseStep::Accept, Some(Accepted)),
            (Accepted, CaseStep::Accept, None),
            (Answered, CaseStep::Accept, None),
            (Closed, CaseStep::Accept, None),
            (Reported, CaseStep::Answer, Some(Answered)),
            (Accepted, CaseStep::Answer, Some(Answered)),
            (Answered, CaseStep::Answer, None),
            (Closed, CaseStep::Answer, None),
            (Reported, CaseStep::Confirm, None),
            (Accepted, CaseStep::Confirm, None),
            (Answered, CaseStep::Confirm, Some(Closed)),
            (Closed, CaseStep::Confirm, None),
            (Reported, CaseStep::Decide, Some(Closed)),
            (Accepted, CaseStep::Decide, Some(Closed)),
            (Answered, CaseStep::Decide, None),
            (Closed, CaseStep::Decide, None),
        ];
        for (from, step, to) in table {
            assert_eq!(from.after(step), to, "{from} {step:?}");
        }
    }

    #[test]
    fn states_read_back_from_storage() {
        for state in CaseState::ALL {
            assert_eq!(CaseState::parse(state.as_str()), Some(state));
        }
        assert_eq!(CaseState::parse("open"), None);
        assert_eq!(CaseState::from_stored("garbled"), Reported);
        assert_eq!(CaseState::from_stored("closed"), Closed);
        let shown: Vec<String> = CaseState::ALL.iter().map(|s| s.to_string()).collect();
        assert_eq!(shown, ["reported", "accepted", "answered", "closed"]);
        assert!(Reported.awaits_answer() && Accepted.awaits_answer());
        assert!(!Answered.awaits_answer() && !Closed.awaits_answer());
    }
}
