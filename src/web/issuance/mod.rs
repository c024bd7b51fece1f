//! The producer's pages: its console, products, the issue form, 承诺达标合格证 lots and a
//! certificate's own page.

pub mod certificate;
pub mod issue_form;
pub mod producer;
pub mod products;
pub mod promise;
