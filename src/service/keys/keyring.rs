//! Signing keys in memory: each organization's private key is decrypted once and cached, and
//! public keys are cached by key id, so issuing and verifying do no key decryption per request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::crypto::random::new_secret;
use crate::crypto::seal::MasterKey;
use crate::crypto::signing::{self, kid_of};
use crate::db::models::{now, SigningKeyRow};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};

/// An organization's active private key with its key id.
pub struct Signer {
    pub kid: String,
    key: SigningKey,
}

impl Signer {
    /// Signs `message`; returns the 64-byte signature.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        signing::sign(&self.key, message)
    }
}

/// Cache of decrypted signing keys and public keys, both by kid.
pub struct KeyRing {
    master: MasterKey,
    signers: RwLock<HashMap<String, Arc<Signer>>>,
    verifiers: RwLock<HashMap<String, VerifyingKey>>,
}

impl KeyRing {
    pub fn new(master: MasterKey) -> Self {
        Self {
            master,
            signers: RwLock::default(),
            verifiers: RwLock::default(),
        }
    }

    /// A fresh key pair for `organization_id`, sealed and ready to insert.
    /// The master key (sealing other secrets, e.g. webhook secrets).
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    pub fn generate(&self, organization_id: &str) -> SigningKeyRow {
        let seed = Zeroizing::new(new_secret());
        let key = SigningKey::from_bytes(&seed);
        let public = key.verifying_key();
        let kid = kid_of(&public);
        SigningKeyRow {
            sealed_private_key: self.master.seal(seed.as_ref(), kid.as_bytes()),
            kid,
            organization_id: organization_id.to_string(),
            public_key: public.as_bytes().to_vec(),
            status: "active".into(),
            valid_from: now(),
            valid_until: None,
            compromised_since: None,
        }
    }

    /// The key the platform signs `organization_id`'s trail events with: its newest
    /// platform-held key that is not compromised (its active key, unless the organization
    /// holds its own certificate key). Read on every call (one indexed query), so a rotation
    /// on any instance takes effect at once; the unsealed key is cached by kid.
    pub fn signer(&self, conn: &mut DbConn, organization_id: &str) -> AppResult<Arc<Signer>> {
        let row = SigningKeyRow::platform_key_for(conn, organization_id)?.ok_or_else(|| {
            AppError::internal(format!(
                "organization {organization_id} has no platform-held key"
            ))
        })?;
        self.unsealed(&row)
    }

    /// The platform-held key `row`, unsealing it on first use.
    pub fn unsealed(&self, row: &SigningKeyRow) -> AppResult<Arc<Signer>> {
        if let Some(found) = self
            .signers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&row.kid)
        {
            return Ok(found.clone());
        }
        let seed = self
            .master
            .open(&row.sealed_private_key, row.kid.as_bytes())
            .ok_or_else(|| {
                AppError::internal(format!(
                    "key {} cannot be unsealed with this master key",
                    row.kid
                ))
            })?;
        let seed: [u8; 32] = seed
            .as_slice()
            .try_into()
            .map_err(|_| AppError::internal(format!("key {} has a malformed seed", row.kid)))?;
        let signer = Arc::new(Signer {
            kid: row.kid.clone(),
            key: SigningKey::from_bytes(&seed),
        });
        self.signers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(row.kid.clone(), signer.clone());
        Ok(signer)
    }

    /// The public key with id `kid`, if it exists.
    pub fn verifying_key(&self, conn: &mut DbConn, kid: &str) -> AppResult<Option<VerifyingKey>> {
        if let Some(found) = self
            .verifiers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(kid)
        {
            return Ok(Some(*found));
        }
        let Some(row) = SigningKeyRow::find(conn, kid)? else {
            return Ok(None);
        };
        // A stored key whose bytes no longer match its kid is treated as absent.
        let key = signing::verifying_key(&row.public_key).filter(|k| kid_of(k) == kid);
        if let Some(key) = key {
            self.verifiers
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(kid.to_string(), key);
        }
        Ok(key)
    }
}
