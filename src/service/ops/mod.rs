//! Running the platform: what instances must agree on before they serve ([`identity`]), the
//! copy of the log's newest checkpoint that notices a restored database ([`log_head`]),
//! readiness for a load balancer and draining at shutdown ([`readiness`]), backups
//! ([`backup`]) and what each instance purges on a timer ([`housekeeping`]).

pub mod backup;
pub mod housekeeping;
pub mod identity;
pub mod log_head;
pub mod readiness;
