//! Prometheus metrics served at `/metrics`: HTTP traffic by route pattern, certificates
//! issued, and verification verdicts.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::domain::verdict::Verdict;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    /// The matched route pattern (`/v/{id}`), never the raw path: bounded cardinality.
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

/// `route`, kept once for the life of the process: route patterns are a bounded set (the
/// routes, and `unmatched`), so a request's labels need no allocation of their own.
fn interned(route: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{OnceLock, RwLock};
    static ROUTES: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(Default::default);
    if let Some(kept) = routes.read().unwrap_or_else(|e| e.into_inner()).get(route) {
        return kept;
    }
    let mut routes = routes.write().unwrap_or_else(|e| e.into_inner());
    match routes.get(route) {
        Some(kept) => kept,
        None => {
            let kept: &'static str = Box::leak(route.to_string().into_boxed_str());
            routes.insert(kept);
            kept
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: String,
}

/// The service's metrics registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    issued: Counter,
    /// One counter per verdict, resolved once (no allocation per verification).
    by_verdict: Vec<Counter>,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("certrail");
        let requests = Family::<HttpLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let issued = Counter::default();
        let verifications = Family::<VerdictLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route pattern and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register("certificates_issued", "Certificates issued", issued.clone());
        registry.register(
            "verifications",
            "Label verifications by verdict",
            verifications.clone(),
        );
        let by_verdict = Verdict::ALL
            .iter()
            .map(|v| {
                verifications
                    .get_or_create(&VerdictLabels {
                        verdict: v.as_str().to_string(),
                    })
                    .clone()
            })
            .collect();
        Self {
            registry,
            requests,
            latency,
            issued,
            by_verdict,
        }
    }
}

impl Metrics {
    /// Records one HTTP request. Labels stay a bounded set whatever clients send: methods
    /// outside the standard ones count as `OTHER`, routes are patterns (or `unmatched`).
    pub fn observe_http(
        &self,
        method: &actix_web::http::Method,
        route: &str,
        status: u16,
        seconds: f64,
    ) {
        const METHODS: [&str; 9] = [
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
        ];
        let method = METHODS
            .iter()
            .find(|m| **m == method.as_str())
            .copied()
            .unwrap_or("OTHER");
        let route = interned(route);
        self.requests
            .get_or_create(&HttpLabels {
                method,
                route,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(seconds);
    }

    pub fn certificate_issued(&self) {
        self.issued.inc();
    }

    pub fn verified(&self, verdict: Verdict) {
        if let Some(counter) = self.by_verdict.get(verdict as usize) {
            counter.inc();
        }
    }

    /// Adds a metric owned elsewhere (connection pools, the scan writer).
    pub fn register(
        &mut self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) {
        self.registry.register(name, help, metric);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = Metrics::default();
        m.observe_http(&actix_web::http::Method::GET, "/v/{id}", 200, 0.001);
        m.certificate_issued();
        m.verified(Verdict::Genuine);
        let text = m.render();
        assert!(
            text.contains(
                r#"certrail_http_requests_total{method="GET",route="/v/{id}",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains("certrail_certificates_issued_total 1"));
        assert!(text.contains(r#"certrail_verifications_total{verdict="genuine"} 1"#));
    }
}
