//! Private signing keys at rest: XChaCha20-Poly1305 under the master key, bound to the key id.

use std::fs;
use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::random::new_secret;
use super::signing::{b64url, b64url_decode};

const NONCE_LEN: usize = 24;

/// Writes `contents` to a new file at `path` that only its owner can read (mode 0600), and
/// syncs it; fails if the file exists.
pub fn create_secret_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(contents)
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads a secret file (a key) as text, refusing one that others than its owner may read or
/// write (as ssh does): a key copied with the wrong mode is not used until it is `chmod 600`.
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    // The mode is read from the open file itself, not the path (which could change between).
    let mut file = fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is open to other users (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            ));
        }
    }
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text).map_err(cannot)?;
    Ok(text)
}

/// The key that encrypts every organization's private signing key, and from which the
/// platform's own keys (the transparency log's) are derived, so every instance sharing the
/// master key signs as the same log.
#[derive(Clone)]
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
    /// SHA-256 of the key with a label: the seed of the log key.
    log_seed: Zeroizing<[u8; 32]>,
    /// SHA-256 of the key with another label: the HMAC key of anonymous forms' CSRF cookies.
    form_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// From 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        use sha2::{Digest, Sha256};
        let derive = |label: &[u8]| -> Zeroizing<[u8; 32]> {
            Zeroizing::new(
                Sha256::new()
                    .chain_update(label)
                    .chain_update(bytes)
                    .finalize()
                    .into(),
            )
        };
        Self {
            cipher: XChaCha20Poly1305::new(bytes.into()),
            log_seed: derive(b"CERTRAIL-LOG-KEY-V1\n"),
            form_key: derive(b"CERTRAIL-FORM-CSRF-V1\n"),
        }
    }

    /// The HMAC key of anonymous forms' CSRF cookies (the same on every instance).
    pub fn form_key(&self) -> &[u8; 32] {
        &self.form_key
    }

    /// The Ed25519 seed of the transparency log's signing key.
    pub fn log_seed(&self) -> &[u8; 32] {
        &self.log_seed
    }

    /// Parses the `CERTRAIL_MASTER_KEY` form: 32 bytes as base64url (43 chars) or hex (64 chars).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let raw = if text.len() == 64 {
            (0..64)
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()
        } else {
            b64url_decode(text)
        };
        let raw = Zeroizing::new(raw.ok_or("master key is neither hex nor base64url")?);
        let bytes: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| "master key must be exactly 32 bytes".to_string())?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Reads the key file, or creates it (mode 0600) with a fresh random key.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        if path.exists() {
            let text = read_secret_file(path)?;
            return Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()));
        }
        let secret = Zeroizing::new(new_secret());
        let encoded = Zeroizing::new(b64url(secret.as_ref()));
        create_secret_file(path, encoded.as_bytes())?;
        Ok(Self::from_bytes(&secret))
    }

    /// Encrypts `plaintext`; `aad` (the key id) is authenticated, so a sealed key cannot be
    /// moved to another row. Output: nonce (24 bytes) ‖ ciphertext ‖ tag.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = {
            let mut n = [0u8; NONCE_LEN];
            n.copy_from_slice(&new_secret()[..NONCE_LEN]);
            n
        };
        let nonce = XNonce::from(nonce_bytes);
        // Encryption with a valid key and in-memory buffers has no failure mode.
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        [nonce_bytes.as_slice(), &ciphertext].concat()
    }

    /// Decrypts what [`seal`](Self::seal) produced; `None` if the key, data or aad differ.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::from_slice(nonce);
        self.cipher
            .decrypt(
                nonce,
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_binding() {
        let key = MasterKey::from_bytes(&[1u8; 32]);
        let sealed = key.seal(b"secret", b"kid-1");
        assert_eq!(key.open(&sealed, b"kid-1").unwrap().as_slice(), b"secret");
        assert!(key.open(&sealed, b"kid-2").is_none());
        assert!(MasterKey::from_bytes(&[2u8; 32])
            .open(&sealed, b"kid-1")
            .is_none());
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(key.open(&flipped, b"kid-1").is_none());
    }

    #[test]
    fn parse_forms() {
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::parse(&b64url(&[9u8; 32])).is_ok());
        assert!(MasterKey::parse("short").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        let sealed = a.seal(b"x", b"k");
        assert!(b.open(&sealed, b"k").is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
