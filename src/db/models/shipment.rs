//! `shipments`: legs of custody. A party ships goods to a named consignee; the leg stays open
//! until the consignee takes the goods in (`received`) or refuses them (`rejected`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{certificates, organizations, shipments};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = shipments)]
pub struct Shipment {
    pub id: String,
    pub certificate_id: String,
    /// The unit shipped, for a unit-level leg.
    pub serial: Option<i64>,
    pub shipper_id: String,
    pub consignee_id: String,
    pub quantity: Option<i64>,
    /// The `shipped` event's place in the trail.
    pub shipped_seq: i64,
    pub shipped_at: NaiveDateTime,
    /// `open`, `received` or `rejected`.
    pub status: String,
    /// The intake or refusal event's place in the trail.
    pub closed_seq: Option<i64>,
    pub closed_at: Option<NaiveDateTime>,
    /// Why the consignee refused the goods.
    pub reason: Option<String>,
}

/// A leg as a console lists it: the leg, its certificate's batch, and the other party's name.
#[derive(Debug, Clone, Queryable)]
pub struct LegRow {
    pub shipment: Shipment,
    pub batch_no: String,
    pub party: String,
}

impl Shipment {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(shipments::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// Every leg of a certificate, in the order they were shipped.
    pub fn for_certificate(conn: &mut DbConn, certificate_id: &str) -> QueryResult<Vec<Self>> {
        shipments::table
            .filter(shipments::certificate_id.eq(certificate_id))
            .order(shipments::shipped_seq.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Marks a leg received or rejected by the trail event at `seq`.
    pub fn close(
        conn: &mut DbConn,
        id: &str,
        status: &str,
        seq: i64,
        at: NaiveDateTime,
        reason: Option<&str>,
    ) -> QueryResult<()> {
        diesel::update(shipments::table.find(id))
            .set((
                shipments::status.eq(status),
                shipments::closed_seq.eq(Some(seq)),
                shipments::closed_at.eq(Some(at)),
                shipments::reason.eq(reason),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Goods on their way to `consignee` (open legs), oldest first, with the shipper's name.
    pub fn incoming(conn: &mut DbConn, consignee: &str, limit: i64) -> QueryResult<Vec<LegRow>> {
        shipments::table
            .inner_join(certificates::table.on(certificates::id.eq(shipments::certificate_id)))
            .inner_join(organizations::table.on(organizations::id.eq(shipments::shipper_id)))
            .filter(shipments::consignee_id.eq(consignee))
            .filter(shipments::status.eq("open"))
            .order(shipments::shipped_at.asc())
            .limit(limit)
            .select((
                Self::as_select(),
                certificates::batch_no,
                organizations::name,
            ))
            .load(conn)
    }

    /// Legs `shipper` sent that were refused, newest first, with the consignee's name.
    pub fn rejected_from(conn: &mut DbConn, shipper: &str, limit: i64) -> QueryResult<Vec<LegRow>> {
        shipments::table
            .inner_join(certificates::table.on(certificates::id.eq(shipments::certificate_id)))
            .inner_join(organizations::table.on(organizations::id.eq(shipments::consignee_id)))
            .filter(shipments::shipper_id.eq(shipper))
            .filter(shipments::status.eq("rejected"))
            .order(shipments::closed_at.desc())
            .limit(limit)
            .select((
                Self::as_select(),
                certificates::batch_no,
                organizations::name,
            ))
            .load(conn)
    }
}
