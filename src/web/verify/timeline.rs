//! A certificate's trail as its public pages show it: when, what, who, and for the links of
//! custody where (the organization's address) and to whom a shipment went.

use crate::service::verify::record::TrailLine;

use crate::web::page::Lang;
use crate::web::words;

/// One line of the timeline.
#[derive(Debug, Clone)]
pub struct Step {
    /// RFC 3339, for `<time datetime>`.
    pub at: String,
    /// The time to show.
    pub when: String,
    pub what: &'static str,
    pub who: String,
    pub place: Option<String>,
    /// The consignee of a shipment.
    pub to: Option<String>,
}

/// The timeline of `lines`, oldest first.
pub fn steps(lang: Lang, lines: &[TrailLine]) -> Vec<Step> {
    lines
        .iter()
        .map(|e| Step {
            at: e.at.clone(),
            when: crate::domain::text::minute(&e.at),
            what: words::event(lang, e.kind),
            who: e.actor.clone(),
            place: e.place.clone(),
            to: e.to.clone(),
        })
        .collect()
}
