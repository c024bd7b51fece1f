//! Ed25519 signatures over certificates and unit labels (contract §2).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Domain-separation prefix of certificate signatures.
pub const CERT_CONTEXT: &str = "CERTRAIL-CERT-V1\n";
/// Domain-separation prefix of 承诺达标合格证 signatures (payloads with `"type": "promise"`).
pub const PROMISE_CONTEXT: &str = "CERTRAIL-PROMISE-V1\n";
/// The prefix of a payload claiming a type this platform does not know: nothing it signs
/// verifies as any certificate.
const UNKNOWN_TYPE_CONTEXT: &str = "CERTRAIL-UNKNOWN-TYPE\n";
/// Domain-separation prefix of unit label signatures.
pub const UNIT_CONTEXT: &str = "CERTRAIL-UNIT-V1\n";

/// base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` on any other alphabet or padding.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

use crate::domain::hash::sha256_hex;

/// Key id: base64url of the first 8 bytes of SHA-256(raw public key), 11 characters.
pub fn kid_of(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    b64url(&digest[..8])
}

/// The bytes a certificate signature covers: the context of the payload's own type (the
/// conformity certificate's unless it says `"type": "promise"`) and the canonical payload.
/// The context is read from the signed payload, so the type is bound to the signature.
pub fn certificate_message(canonical_payload: &str) -> Vec<u8> {
    let context = match crate::domain::promise::declared_type(canonical_payload).as_deref() {
        None => CERT_CONTEXT,
        Some(crate::domain::promise::PROMISE_TYPE) => PROMISE_CONTEXT,
        Some(_) => UNKNOWN_TYPE_CONTEXT,
    };
    [context.as_bytes(), canonical_payload.as_bytes()].concat()
}

/// The bytes a unit label signature covers:
/// context ‖ id ‖ "\n" ‖ serial ‖ "\n" ‖ hex SHA-256(canonical payload).
pub fn unit_message(id: &str, serial: i64, canonical_payload: &str) -> Vec<u8> {
    unit_message_for_digest(id, serial, &sha256_hex(canonical_payload.as_bytes()))
}

/// [`unit_message`] given the lowercase hex SHA-256 of the canonical payload.
pub fn unit_message_for_digest(id: &str, serial: i64, payload_sha256_hex: &str) -> Vec<u8> {
    format!("{UNIT_CONTEXT}{id}\n{serial}\n{payload_sha256_hex}").into_bytes()
}

/// Signs `message`; returns the 64-byte signature.
pub fn sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    key.sign(message).to_bytes()
}

/// Strict Ed25519 verification (rejects non-canonical and small-order encodings).
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&bytes))
        .is_ok()
}

/// Verification results remembered by [`verify_cached`].
const VERIFIED_CAPACITY: usize = 200_000;

/// [`verify`], remembered: the same key, message and signature always give the same answer,
/// so an answer is kept under the SHA-256 of all three (hashing costs a tenth of verifying).
/// A changed payload or signature is a different entry, so tampering is still caught.
pub fn verify_cached(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    use std::sync::OnceLock;
    static VERIFIED: OnceLock<quick_cache::sync::Cache<[u8; 32], bool>> = OnceLock::new();
    let cache = VERIFIED.get_or_init(|| quick_cache::sync::Cache::new(VERIFIED_CAPACITY));
    let mut hasher = Sha256::new();
    hasher.update(key.as_bytes());
    hasher.update(signature);
    hasher.update(message);
    let digest: [u8; 32] = hasher.finalize().into();
    if let Some(answer) = cache.get(&digest) {
        return answer;
    }
    let answer = verify(key, message, signature);
    cache.insert(digest, answer);
    answer
}

/// Parses a raw 32-byte public key.
pub fn verifying_key(raw: &[u8]) -> Option<VerifyingKey> {
    let bytes = <[u8; 32]>::try_from(raw).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn each_payload_type_signs_under_its_own_context() {
        let conformity = r#"{"id":"a","v":1}"#;
        let promise = r#"{"id":"a","type":"promise","v":1}"#;
        let other = r#"{"id":"a","type":"coupon","v":1}"#;
        assert_eq!(
            certificate_message(conformity),
            format!("{CERT_CONTEXT}{conformity}").into_bytes()
        );
        assert_eq!(
            certificate_message(promise),
            format!("{PROMISE_CONTEXT}{promise}").into_bytes()
        );
        assert!(certificate_message(other).starts_with(UNKNOWN_TYPE_CONTEXT.as_bytes()));
    }

    /// RFC 8032 §7.1, TEST 1, 2 and 3.
    #[test]
    fn rfc8032_vectors() {
        let vectors = [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            ),
            (
                "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
                "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            ),
            (
                "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
                "af82",
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
            ),
        ];
        for (sk, pk, msg, sig) in vectors {
            let key = SigningKey::from_bytes(&hex(sk).try_into().unwrap());
            assert_eq!(key.verifying_key().as_bytes().to_vec(), hex(pk));
            let produced = sign(&key, &hex(msg));
            assert_eq!(produced.to_vec(), hex(sig));
            assert!(verify(&key.verifying_key(), &hex(msg), &produced));
            let mut bad = produced;
            bad[0] ^= 1;
            assert!(!verify(&key.verifying_key(), &hex(msg), &bad));
        }
    }

    #[test]
    fn kid_and_encodings_have_contract_lengths() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let kid = kid_of(&key.verifying_key());
        assert_eq!(kid.len(), 11);
        assert_eq!(b64url(key.verifying_key().as_bytes()).len(), 43);
        assert_eq!(b64url(&sign(&key, b"x")).len(), 86);
        assert!(b64url_decode("a+b/").is_none());
        assert!(b64url_decode("YQ==").is_none());
    }

    #[test]
    fn unit_message_layout() {
        let msg = unit_message("abc", 7, "{}");
        let expected = format!(
            "CERTRAIL-UNIT-V1\nabc\n7\n{}",
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(String::from_utf8(msg).unwrap(), expected);
    }
}
