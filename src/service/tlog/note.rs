//! Signed notes (C2SP signed-note): the log's checkpoints (C2SP tlog-checkpoint) and witness
//! cosignatures (C2SP tlog-cosignature, Ed25519 type), with the `signed_note` and `tlog_tiles`
//! crates doing the formats.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use signed_note::{Note, Signature, Signer, StandardSigner, StandardVerifier, Verifier};
use tlog_tiles::{Checkpoint, Hash};

/// Signature type byte of an Ed25519 note signature (the log's key).
const ALG_ED25519: u8 = 0x01;
/// Signature type byte of an Ed25519 cosignature (`cosignature/v1`).
const ALG_COSIGNATURE: u8 = 0x04;

/// The log's identity: its origin line and its Ed25519 key.
pub struct LogKey {
    origin: String,
    signer: StandardSigner,
    key: SigningKey,
    verifier_key: String,
}

impl LogKey {
    /// The log of the platform at `public_url`, signing with the key from `seed`. The origin is
    /// `{host[:port] of public_url}/log` (contract §9).
    pub fn new(public_url: &str, seed: &[u8; 32]) -> Result<Self, String> {
        Self::with_origin(origin_of(public_url)?, seed)
    }

    /// The log named `origin` (kept from its first checkpoint: a log's identity does not
    /// change with the platform's address).
    pub fn with_origin(origin: String, seed: &[u8; 32]) -> Result<Self, String> {
        let key = SigningKey::from_bytes(seed);
        let public = [&[ALG_ED25519], key.verifying_key().as_bytes().as_slice()].concat();
        let private = zeroize::Zeroizing::new([&[ALG_ED25519], seed.as_slice()].concat());
        let skey = zeroize::Zeroizing::new(format!(
            "PRIVATE+KEY+{origin}+{:08x}+{}",
            signed_note::key_id(&origin, &public),
            STANDARD.encode(private.as_slice())
        ));
        let signer = StandardSigner::new(&skey).map_err(|e| format!("log key: {e}"))?;
        let verifier_key = signed_note::new_ed25519_verifier_key(&origin, &key.verifying_key());
        Ok(Self {
            origin,
            signer,
            key,
            verifier_key,
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The note verifier key: `origin+hex4+base64(0x01 ‖ key)`.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The signed checkpoint of a tree of `size` with root `root`.
    #[expect(
        clippy::expect_used,
        reason = "the inputs are the log's own (its origin, a hash, its key): a checkpoint and its note are always valid and Ed25519 signing does not fail"
    )]
    pub fn sign_checkpoint(&self, size: u64, root: Hash) -> String {
        let body = Checkpoint::new(&self.origin, size, root, "")
            .expect("a non-empty origin and no extension make a valid checkpoint")
            .to_bytes();
        let mut note = Note::new(&body, &[]).expect("a checkpoint body is a valid note text");
        note.add_sigs(&[&self.signer])
            .expect("the origin is a valid key name");
        String::from_utf8(note.to_bytes()).expect("notes are UTF-8")
    }

    /// A detached Ed25519 signature by the log key (the trust bundle's).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// `{host[:port] of public_url}/log`.
pub fn origin_of(public_url: &str) -> Result<String, String> {
    let url = url::Url::parse(public_url).map_err(|e| format!("public URL: {e}"))?;
    let host = url.host_str().ok_or("public URL has no host")?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}/log"),
        None => format!("{host}/log"),
    })
}

/// A checkpoint whose log signature verified.
#[derive(Debug)]
pub struct VerifiedCheckpoint {
    pub checkpoint: Checkpoint,
    /// The note text the signatures cover (the checkpoint body).
    pub text: Vec<u8>,
    /// Signature lines other than the log's (cosignatures), as parsed.
    pub others: Vec<Signature>,
}

/// Parses a signed checkpoint and checks the log's signature with `log_vkey`.
pub fn verify_checkpoint(note_text: &str, log_vkey: &str) -> Result<VerifiedCheckpoint, String> {
    let verifier = StandardVerifier::new(log_vkey).map_err(|e| format!("log key: {e}"))?;
    let note = Note::from_bytes(note_text.as_bytes()).map_err(|e| format!("checkpoint: {e}"))?;
    let list = signed_note::VerifierList::new(vec![Box::new(verifier.clone())]);
    let (_, others) = note
        .verify(&list)
        .map_err(|e| format!("checkpoint signature: {e}"))?;
    let checkpoint = Checkpoint::from_bytes(note.text()).map_err(|e| format!("checkpoint: {e}"))?;
    if checkpoint.origin() != verifier.name() {
        return Err(format!(
            "checkpoint origin {} is not the log's ({})",
            checkpoint.origin(),
            verifier.name()
        ));
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        text: note.text().to_vec(),
        others,
    })
}

/// The body (text before the signatures) of a signed note.
pub fn note_text(note: &str) -> Option<&str> {
    note.find("\n\n").map(|at| &note[..=at])
}

/// A witness's cosigning key (C2SP tlog-cosignature, Ed25519).
pub struct Cosigner {
    name: String,
    key: SigningKey,
    timestamp: u64,
}

impl Cosigner {
    /// Cosigns as `name`, stating `timestamp` (POSIX seconds).
    pub fn new(name: &str, key: SigningKey, timestamp: u64) -> Self {
        Self {
            name: name.into(),
            key,
            timestamp,
        }
    }

    /// The cosignature line (`— name base64(keyid ‖ timestamp ‖ signature)`) on `note_text`.
    #[expect(
        clippy::expect_used,
        reason = "the inputs are the log's own (its origin, a hash, its key): a checkpoint and its note are always valid and Ed25519 signing does not fail"
    )]
    pub fn cosign(&self, note_text: &[u8]) -> String {
        let sig = Signer::sign(self, note_text).expect("Ed25519 signing does not fail");
        let line = Signature::new(self.name.clone(), self.key_id(), sig)
            .expect("the witness name was checked when the key was made");
        String::from_utf8(line.to_bytes()).expect("UTF-8")
    }
}

impl Signer for Cosigner {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        cosigner_key_id(&self.name, &self.key.verifying_key())
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        let signed = cosigned_message(self.timestamp, msg);
        let sig = self.key.sign(&signed).to_bytes();
        Ok([self.timestamp.to_be_bytes().as_slice(), &sig].concat())
    }
}

/// Checks cosignatures of one witness.
pub struct CosignatureVerifier {
    name: String,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    pub fn new(name: &str, key: VerifyingKey) -> Self {
        Self {
            name: name.into(),
            key,
        }
    }

    /// The timestamp `line` states, if it is this witness's valid cosignature on `note_text`.
    pub fn check(&self, note_text: &[u8], line: &str) -> Option<u64> {
        let sig = Signature::from_bytes(line.trim_end_matches('\n').as_bytes()).ok()?;
        if sig.name() != self.name || sig.id() != self.key_id() {
            return None;
        }
        self.verify(note_text, sig.signature())
            .then(|| timestamp_of(sig.signature()))
            .flatten()
    }
}

impl Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        cosigner_key_id(&self.name, &self.key)
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let (Some(timestamp), Ok(sig)) = (
            timestamp_of(sig),
            ed25519_dalek::Signature::from_slice(sig.get(8..).unwrap_or_default()),
        ) else {
            return false;
        };
        self.key
            .verify_strict(&cosigned_message(timestamp, msg), &sig)
            .is_ok()
    }
}

fn timestamp_of(sig: &[u8]) -> Option<u64> {
    let t = u64::from_be_bytes(sig.get(..8)?.try_into().ok()?);
    (sig.len() == 72 && t < 1 << 63).then_some(t)
}

/// `cosignature/v1\ntime T\n` ‖ the checkpoint body.
fn cosigned_message(timestamp: u64, note_text: &[u8]) -> Vec<u8> {
    [
        format!("cosignature/v1\ntime {timestamp}\n").as_bytes(),
        note_text,
    ]
    .concat()
}

/// SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4], the key id of Ed25519 cosignatures.
pub fn cosigner_key_id(name: &str, key: &VerifyingKey) -> u32 {
    signed_note::key_id(
        name,
        &[&[ALG_COSIGNATURE], key.as_bytes().as_slice()].concat(),
    )
}

/// A witness key in the note verifier-key form the contract lists (`name+hex4+base64(0x01 ‖
/// key)`).
pub fn witness_verifier_key(name: &str, key: &VerifyingKey) -> String {
    signed_note::new_ed25519_verifier_key(name, key)
}

/// Parses a verifier key (`name+hex4+base64(0x01 ‖ key)`): the name and the raw key.
pub fn parse_verifier_key(vkey: &str) -> Result<(String, VerifyingKey), String> {
    let verifier = StandardVerifier::new(vkey.trim()).map_err(|e| format!("{e}"))?;
    // name+id+key: the name has no `+`, base64 may.
    let key64 = vkey.trim().splitn(3, '+').nth(2).unwrap_or_default();
    let raw = STANDARD.decode(key64).map_err(|e| e.to_string())?;
    let key: [u8; 32] = raw
        .get(1..)
        .and_then(|k| k.try_into().ok())
        .ok_or("not an Ed25519 key")?;
    let key = VerifyingKey::from_bytes(&key).map_err(|e| e.to_string())?;
    Ok((verifier.name().to_string(), key))
}

/// Whether `name` can name a note key (non-empty, no spaces or `+`).
pub fn is_key_name(name: &str) -> bool {
    signed_note::is_key_name_valid(name) && name.len() <= 200
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_verify_with_the_published_key_and_not_another() {
        let log = LogKey::new("https://cert.example.cn", &[3u8; 32]).unwrap();
        assert_eq!(log.origin(), "cert.example.cn/log");
        let signed = log.sign_checkpoint(5, Hash([9u8; 32]));
        assert!(signed.starts_with("cert.example.cn/log\n5\n"));
        let ok = verify_checkpoint(&signed, log.verifier_key()).unwrap();
        assert_eq!(ok.checkpoint.size(), 5);
        let other = LogKey::new("https://cert.example.cn", &[4u8; 32]).unwrap();
        assert!(verify_checkpoint(&signed, other.verifier_key()).is_err());
        let forged = signed.replacen("\n5\n", "\n6\n", 1);
        assert!(verify_checkpoint(&forged, log.verifier_key()).is_err());
    }

    #[test]
    fn cosignatures_bind_name_time_and_checkpoint() {
        let log = LogKey::new("http://127.0.0.1:8080", &[3u8; 32]).unwrap();
        assert_eq!(log.origin(), "127.0.0.1:8080/log");
        let signed = log.sign_checkpoint(7, Hash([1u8; 32]));
        let text = note_text(&signed).unwrap();
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let line = Cosigner::new("w.example", key.clone(), 1_700_000_000).cosign(text.as_bytes());
        let verifier = CosignatureVerifier::new("w.example", key.verifying_key());
        assert_eq!(verifier.check(text.as_bytes(), &line), Some(1_700_000_000));
        let other_text = note_text(&log.sign_checkpoint(8, Hash([1u8; 32])))
            .unwrap()
            .to_string();
        assert_eq!(verifier.check(other_text.as_bytes(), &line), None);
        let impostor = CosignatureVerifier::new("w2.example", key.verifying_key());
        assert_eq!(impostor.check(text.as_bytes(), &line), None);
        // The served form: the log's signature, then the cosignature, is still a valid note.
        let served = format!("{signed}{line}");
        let parsed = verify_checkpoint(&served, log.verifier_key()).unwrap();
        assert_eq!(parsed.others.len(), 1);
    }

    #[test]
    fn verifier_keys_round_trip() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let vkey = witness_verifier_key("w.example", &key.verifying_key());
        let (name, parsed) = parse_verifier_key(&vkey).unwrap();
        assert_eq!(name, "w.example");
        assert_eq!(parsed, key.verifying_key());
        assert!(parse_verifier_key("w.example+00000000+AA==").is_err());
    }
}
