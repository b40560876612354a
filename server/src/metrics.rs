//! Counters and a latency histogram for `/metrics`, in Prometheus's text format. Kept by
//! hand rather than through a metrics crate: a dozen series, all owned here, and rendering
//! them is a page of code. Gauges that live in the database (the outbox backlog, the pool)
//! are read when scraped, so they are never stale.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the request latency buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// At most this many (operation, code) series; operation names come from clients, so past
/// this they are counted as `(other)` rather than growing without end.
const MAX_OPERATION_SERIES: usize = 500;

/// What this process has counted since it started.
#[derive(Default)]
pub struct Metrics {
    responses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    operations: Mutex<BTreeMap<(String, String), u64>>,
    latency: Histogram,
    sweeps: AtomicU64,
    fast_validations: AtomicU64,
    sweep_notices: AtomicU64,
    sweep_emails: AtomicU64,
    last_sweep_micros: AtomicU64,
    /// Unix seconds of the last scheduler tick; 0 before the first.
    scheduler_last_tick: AtomicI64,
}

#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// A value read at scrape time, rendered beside the counters.
pub struct Gauge {
    pub name: &'static str,
    pub help: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Metrics {
    /// One HTTP response: its endpoint (`graphql`, `healthz`, …), status and time taken.
    pub fn record_response(&self, endpoint: &'static str, status: u16, took: Duration) {
        if let Ok(mut responses) = self.responses.lock() {
            *responses.entry((endpoint, status)).or_default() += 1;
        }
        let seconds = took.as_secs_f64();
        for (bound, count) in LATENCY_BUCKETS.iter().zip(&self.latency.counts) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency.count.fetch_add(1, Ordering::Relaxed);
        self.latency.sum_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// One GraphQL operation by its name (or `anonymous`) and outcome (`OK` or the first
    /// error's code).
    pub fn record_operation(&self, operation: Option<&str>, code: &str) {
        let operation = match operation {
            Some(name) if is_plain_name(name) => name,
            Some(_) => "(other)",
            None => "anonymous",
        };
        let Ok(mut operations) = self.operations.lock() else {
            return;
        };
        let key = (operation.to_string(), code.to_string());
        if !operations.contains_key(&key) && operations.len() >= MAX_OPERATION_SERIES {
            *operations
                .entry(("(other)".to_string(), code.to_string()))
                .or_default() += 1;
            return;
        }
        *operations.entry(key).or_default() += 1;
    }

    /// One reminder sweep that ran (on a schedule or by `runSweep`).
    pub fn record_sweep(&self, took: Duration, notices: usize, emails: usize) {
        self.sweeps.fetch_add(1, Ordering::Relaxed);
        self.sweep_notices
            .fetch_add(notices as u64, Ordering::Relaxed);
        self.sweep_emails
            .fetch_add(emails as u64, Ordering::Relaxed);
        self.last_sweep_micros.store(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// A GraphQL request validated fast: its text had passed strict validation before
    /// (`graphql::guard::remember_validated`).
    pub fn record_fast_validation(&self) {
        self.fast_validations.fetch_add(1, Ordering::Relaxed);
    }

    /// The scheduler ticked at `unix_seconds`.
    pub fn record_scheduler_tick(&self, unix_seconds: i64) {
        self.scheduler_last_tick
            .store(unix_seconds, Ordering::Relaxed);
    }

    /// Everything, with `gauges` read by the caller, in Prometheus's text format (0.0.4).
    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "ducha_http_responses_total",
            "counter",
            "HTTP responses by endpoint and status.",
        );
        if let Ok(responses) = self.responses.lock() {
            for ((endpoint, status), n) in responses.iter() {
                let _ = writeln!(
                    out,
                    "ducha_http_responses_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
                );
            }
        }
        header(
            &mut out,
            "ducha_graphql_operations_total",
            "counter",
            "GraphQL operations by name and outcome (OK or the first error's code).",
        );
        if let Ok(operations) = self.operations.lock() {
            for ((operation, code), n) in operations.iter() {
                let _ = writeln!(
                    out,
                    "ducha_graphql_operations_total{{operation=\"{}\",code=\"{}\"}} {n}",
                    escape(operation),
                    escape(code)
                );
            }
        }
        header(
            &mut out,
            "ducha_http_request_duration_seconds",
            "histogram",
            "Time from request to response head.",
        );
        for (bound, count) in LATENCY_BUCKETS.iter().zip(&self.latency.counts) {
            let _ = writeln!(
                out,
                "ducha_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let count = self.latency.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "ducha_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "ducha_http_request_duration_seconds_sum {}",
            self.latency.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "ducha_http_request_duration_seconds_count {count}");
        let counters = [
            (
                "ducha_graphql_fast_validations_total",
                "GraphQL requests whose text had passed strict validation before, validated fast.",
                &self.fast_validations,
            ),
            (
                "ducha_sweeps_total",
                "Reminder sweeps run by this process.",
                &self.sweeps,
            ),
            (
                "ducha_sweep_notices_total",
                "Notices written by this process's sweeps.",
                &self.sweep_notices,
            ),
            (
                "ducha_sweep_emails_total",
                "Digest mails written by this process's sweeps.",
                &self.sweep_emails,
            ),
        ];
        for (name, help, value) in counters {
            header(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        header(
            &mut out,
            "ducha_sweep_last_duration_seconds",
            "gauge",
            "How long this process's last sweep took.",
        );
        let _ = writeln!(
            out,
            "ducha_sweep_last_duration_seconds {}",
            self.last_sweep_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        header(
            &mut out,
            "ducha_scheduler_last_tick_timestamp_seconds",
            "gauge",
            "Unix time of the scheduler's last tick in this process (0: none yet).",
        );
        let _ = writeln!(
            out,
            "ducha_scheduler_last_tick_timestamp_seconds {}",
            self.scheduler_last_tick.load(Ordering::Relaxed)
        );
        let mut named = None;
        for gauge in gauges {
            if named != Some(gauge.name) {
                header(&mut out, gauge.name, "gauge", gauge.help);
                named = Some(gauge.name);
            }
            let labels = gauge
                .labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect::<Vec<_>>()
                .join(",");
            let _ = if labels.is_empty() {
                writeln!(out, "{} {}", gauge.name, gauge.value)
            } else {
                writeln!(out, "{}{{{labels}}} {}", gauge.name, gauge.value)
            };
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`) of sane length.
fn is_plain_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_names_from_clients_are_bounded() {
        let metrics = Metrics::default();
        metrics.record_response("graphql", 200, Duration::from_millis(3));
        metrics.record_response("graphql", 400, Duration::from_millis(300));
        metrics.record_operation(Some("ItemPage"), "OK");
        metrics.record_operation(Some("bad\"name"), "OK");
        metrics.record_operation(None, "BAD_USER_INPUT");
        let text = metrics.render(&[]);
        assert!(
            text.contains("ducha_http_request_duration_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("ducha_http_request_duration_seconds_bucket{le=\"0.5\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("ducha_http_request_duration_seconds_count 2\n"),
            "{text}"
        );
        assert!(
            text.contains("operation=\"ItemPage\",code=\"OK\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("operation=\"(other)\",code=\"OK\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("operation=\"anonymous\",code=\"BAD_USER_INPUT\"} 1"),
            "{text}"
        );
        assert!(!text.contains("bad\\\"name"), "{text}");
        for n in 0..MAX_OPERATION_SERIES + 10 {
            metrics.record_operation(Some(&format!("Op{n}")), "OK");
        }
        let series = metrics
            .render(&[])
            .matches("ducha_graphql_operations_total{")
            .count();
        assert!(series <= MAX_OPERATION_SERIES + 1, "{series} series");
    }
}
