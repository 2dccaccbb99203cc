//! Closed-loop load: a fixed number of connections, each sending its next request as soon as
//! the previous one is answered; latencies of every request are kept.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt;

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Requests answered successfully.
    pub completed: usize,
    /// Requests that failed (transport error or an unexpected status).
    pub failed: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Latency of each successful request, sorted.
    pub latencies: Vec<Duration>,
}

impl LoadReport {
    /// Successful requests per second.
    pub fn per_second(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The `p`-th quantile (0.0–1.0) of latency.
    pub fn quantile(&self, p: f64) -> Duration {
        quantile(&self.latencies, p)
    }
}

/// The `p`-th quantile of sorted durations (zero when empty).
pub fn quantile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// Sends `total` requests, `connections` at a time; `request(i)` performs request `i` and
/// says whether it succeeded.
pub async fn closed_loop<F, Fut>(connections: usize, total: usize, request: F) -> LoadReport
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    let outcomes: Vec<(bool, Duration)> = futures::stream::iter(0..total)
        .map(|i| {
            let sent = Instant::now();
            let attempt = request(i);
            async move {
                let ok = attempt.await;
                (ok, sent.elapsed())
            }
        })
        .buffer_unordered(connections)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = outcomes
        .iter()
        .filter(|(ok, _)| *ok)
        .map(|(_, latency)| *latency)
        .collect();
    latencies.sort();
    LoadReport {
        completed: latencies.len(),
        failed: outcomes.len() - latencies.len(),
        elapsed,
        latencies,
    }
}

/// Open-loop load: request `i` starts at `i / rate` seconds whatever happened to the earlier
/// ones, so a slow answer does not slow the arrivals (as real webhooks and logins arrive).
pub async fn open_loop<F, Fut>(rate_per_second: f64, total: usize, request: F) -> LoadReport
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let started = Instant::now();
    let mut handles = Vec::with_capacity(total);
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate_per_second);
        tokio::time::sleep_until(due.into()).await;
        let attempt = request(i);
        handles.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = attempt.await;
            (ok, sent.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut failed = 0;
    for handle in handles {
        match handle.await {
            Ok((true, latency)) => latencies.push(latency),
            _ => failed += 1,
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    LoadReport {
        completed: latencies.len(),
        failed,
        elapsed,
        latencies,
    }
}

/// An HTTP client sized for `connections` concurrent requests to one host.
pub fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a client with default TLS-free settings builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&sorted, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&sorted, 1.0), Duration::from_millis(100));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}
