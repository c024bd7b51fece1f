//! `signing_keys`: each organization's Ed25519 keys; the private half sealed under the master key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{organizations, signing_keys};
use crate::db::DbConn;

use super::Organization;

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    /// base64url of the first 8 bytes of SHA-256(public key).
    pub kid: String,
    pub organization_id: String,
    /// Raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// nonce ‖ XChaCha20-Poly1305 ciphertext of the 32-byte seed, aad = kid.
    pub sealed_private_key: Vec<u8>,
    /// `active`, `retired` or `compromised`.
    pub status: String,
    pub valid_from: NaiveDateTime,
    pub valid_until: Option<NaiveDateTime>,
    /// For a `compromised` key: from when its signatures are not trusted (contract §11).
    pub compromised_since: Option<NaiveDateTime>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("organization_id", &self.organization_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl SigningKeyRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(signing_keys::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, kid: &str) -> QueryResult<Option<Self>> {
        signing_keys::table
            .find(kid)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The organization's current signing key.
    pub fn active_for(conn: &mut DbConn, organization_id: &str) -> QueryResult<Option<Self>> {
        signing_keys::table
            .filter(signing_keys::organization_id.eq(organization_id))
            .filter(signing_keys::status.eq("active"))
            .order((signing_keys::valid_from.desc(), signing_keys::kid.desc()))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The newest key the platform holds for the organization that is not compromised.
    pub fn platform_key_for(conn: &mut DbConn, organization_id: &str) -> QueryResult<Option<Self>> {
        signing_keys::table
            .filter(signing_keys::organization_id.eq(organization_id))
            .filter(signing_keys::status.ne("compromised"))
            .filter(signing_keys::sealed_private_key.ne(Vec::<u8>::new()))
            // The active key first: a rotation within the second keeps the same valid_from.
            .order((
                signing_keys::status.eq("active").desc(),
                signing_keys::valid_from.desc(),
                signing_keys::kid.desc(),
            ))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Ends `kid`'s use: `retired` from `at`, or `compromised` since `since`.
    pub fn set_status(
        conn: &mut DbConn,
        kid: &str,
        status: &str,
        valid_until: Option<NaiveDateTime>,
        compromised_since: Option<NaiveDateTime>,
    ) -> QueryResult<()> {
        diesel::update(signing_keys::table.find(kid))
            .set((
                signing_keys::status.eq(status),
                signing_keys::valid_until.eq(valid_until),
                signing_keys::compromised_since.eq(compromised_since),
            ))
            .execute(conn)
            .map(drop)
    }

    /// The organization's keys, newest first.
    pub fn of_organization(conn: &mut DbConn, organization_id: &str) -> QueryResult<Vec<Self>> {
        signing_keys::table
            .filter(signing_keys::organization_id.eq(organization_id))
            .order((
                signing_keys::status.eq("active").desc(),
                signing_keys::valid_from.desc(),
                signing_keys::kid.desc(),
            ))
            .select(Self::as_select())
            .load(conn)
    }

    /// Whether the platform holds this key's private half (a producer may hold its own).
    pub fn held_by_platform(&self) -> bool {
        !self.sealed_private_key.is_empty()
    }

    /// Every key with its organization, oldest first: the public trust list.
    pub fn all_with_organizations(conn: &mut DbConn) -> QueryResult<Vec<(Self, Organization)>> {
        signing_keys::table
            .inner_join(organizations::table)
            .order((signing_keys::valid_from.asc(), signing_keys::kid.asc()))
            .select((Self::as_select(), Organization::as_select()))
            .load(conn)
    }
}
