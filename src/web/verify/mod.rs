//! What a scanned label opens: the verification page, a certificate's public record, its
//! trail as pages show it, and the public log in words.

pub mod label;
pub mod record;
pub mod timeline;
pub mod transparency;
