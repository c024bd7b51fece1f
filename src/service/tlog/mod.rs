//! The transparency log (contract §9): every certificate and every trail event is appended to
//! one append-only Merkle tree (RFC 6962 hashing), so nobody, the platform's operator included,
//! can back-date, rewrite or delete either without it showing.
//!
//! - [`entry`]: the entry bytes of a certificate or event, queued (as a reference to its row)
//!   in the write's transaction and rebuilt from that row;
//! - [`sequencer`]: one sequencer at a time ([`lock`]) appends queued entries and signs a
//!   checkpoint;
//! - [`tree`]: stored hashes, tiles (C2SP tlog-tiles), inclusion and consistency proofs;
//! - [`note`]: the log key, checkpoints as C2SP signed notes, witness cosignatures.
//!
//! The Merkle arithmetic is `tlog_tiles` (a port of Go's `sumdb/tlog`), the note format
//! `signed_note`; this module only stores and serves what they compute.

pub mod entry;
pub mod inclusion;
pub mod lock;
pub mod note;
pub mod sequencer;
pub mod tree;
pub mod witness;
pub mod witnesses;

pub use note::LogKey;

/// Tiles are 2^8 = 256 hashes wide (C2SP tlog-tiles).
pub const TILE_HEIGHT: u8 = 8;
