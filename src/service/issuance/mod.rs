//! Putting certificates into the world: products and their GTINs, conformity certificates
//! (one, bulk, from a file), 承诺达标合格证 lots, drafts, certificate lists and label exports.

pub mod certificates;
pub mod drafts;
pub mod gtins;
pub mod issue;
pub mod label_images;
pub mod labels;
pub mod products;
pub mod promise;
