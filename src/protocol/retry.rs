//! Retry policy, sans-IO: which failures may be retried, how long to wait (full-jitter
//! exponential backoff, `Retry-After` honoured), and a per-client retry budget so a
//! failing site is not hammered. Only idempotent requests are ever retried: the engine
//! never asks this module about a write that may have reached the server.

use super::error::{Error, ErrorKind};
use super::http::HttpResponse;

/// Retry settings (per client, overridable per call).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Most attempts of one request, first included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff base after network errors and 5xx, in ms.
    pub base_ms: f64,
    /// Backoff base after 429 and 503, in ms.
    pub slow_down_base_ms: f64,
    /// Longest backoff, in ms.
    pub cap_ms: f64,
    /// Longest `Retry-After` we wait for; beyond it the call fails with `rate_limited`.
    pub max_retry_after_ms: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_ms: 100.0,
            slow_down_base_ms: 500.0,
            cap_ms: 20_000.0,
            max_retry_after_ms: 60_000.0,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Wait this many ms, then try again.
    RetryAfter(f64),
    /// Give up with this error.
    Fail(Error),
}

/// The outcome of one attempt, as the policy sees it.
pub enum Attempt<'a> {
    /// An HTTP answer (any status).
    Response(&'a HttpResponse),
    /// No answer: network error, attempt timeout.
    NoResponse(&'a Error),
}

/// Whether a status means "try again later".
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Decides about a failed attempt of an idempotent request. `attempt` is 1-based (the
/// attempt that just failed); `random` is uniform in [0, 1); `now_ms` is the clock (for
/// HTTP-date `Retry-After`). `budget` is consulted only when a retry would happen.
pub fn decide(
    policy: &RetryPolicy,
    outcome: Attempt<'_>,
    attempt: u32,
    random: f64,
    now_ms: f64,
    budget: &mut RetryBudget,
) -> Decision {
    let (error, retry_after, slow_down) = match outcome {
        Attempt::Response(resp) => {
            let e = Error::from_response(resp);
            if !retryable_status(resp.status) {
                return Decision::Fail(e);
            }
            let ra = resp
                .header("retry-after")
                .and_then(|v| parse_retry_after(v, now_ms));
            (e, ra, matches!(resp.status, 429 | 503))
        }
        Attempt::NoResponse(e) => {
            // Aborts, a passed deadline (a timeout marked not retryable) and input
            // errors end the call.
            if !matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout) || !e.retryable {
                return Decision::Fail(e.clone());
            }
            (e.clone(), None, false)
        }
    };
    if let Some(ms) = retry_after {
        if ms > policy.max_retry_after_ms {
            let mut e = error;
            e.kind = ErrorKind::RateLimited;
            e.retry_after_ms = Some(ms);
            e.retryable = true;
            return Decision::Fail(e);
        }
    }
    if attempt >= policy.max_attempts || !budget.try_spend() {
        let mut e = error;
        if let Some(ms) = retry_after {
            e.retry_after_ms = Some(ms);
        }
        return Decision::Fail(e);
    }
    let base = if slow_down {
        policy.slow_down_base_ms
    } else {
        policy.base_ms
    };
    let exp = base
        * 2f64.powi(
            i32::try_from(attempt.saturating_sub(1))
                .unwrap_or(30)
                .min(30),
        );
    let jittered = random.clamp(0.0, 1.0) * exp.min(policy.cap_ms);
    // The server's own delay wins over our backoff.
    Decision::RetryAfter(retry_after.unwrap_or(jittered))
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (IMF-fixdate). Returns ms from
/// `now_ms` (0 for dates in the past), or `None` when unparseable.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<f64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs as f64 * 1000.0);
    }
    parse_http_date(v).map(|t| (t - now_ms).max(0.0))
}

/// Parses `Sun, 06 Nov 1994 08:49:37 GMT` into ms since the epoch.
fn parse_http_date(s: &str) -> Option<f64> {
    let rest = s.split_once(',')?.1.strip_prefix(' ')?;
    let mut parts = rest.split(' ');
    // Every number is read as a u64 (one integer parser in the .wasm); the ranges
    // below reject what does not fit.
    let day = parts.next()?.parse::<u64>().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year = parts.next()?.parse::<u64>().ok()?;
    let mut hms = parts.next()?.split(':');
    // Unsigned parses refuse a minus sign; the ranges keep the arithmetic below from
    // overflowing whatever a server sends (an IMF-fixdate has a four-digit year).
    let (h, m, sec): (u64, u64, u64) = (
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
    );
    if parts.next()? != "GMT"
        || !(1..=31).contains(&day)
        || !(1..=9999).contains(&year)
        || h > 23
        || m > 59
        || sec > 60
    {
        return None;
    }
    // In range, so lossless.
    let (day, year, h, m, sec) = (day as i64, year as i64, h as i64, m as i64, sec as i64);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + m * 60 + sec) * 1000) as f64)
}

/// A token bucket limiting retries per client: each retry spends one token, each
/// success earns back a fraction, so a site that keeps failing sees few retries.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryBudget {
    tokens: f64,
    max: f64,
    earn: f64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget::new(20.0, 0.2)
    }
}

impl RetryBudget {
    /// A full budget of `max` retries, earning `earn` per success.
    pub fn new(max: f64, earn: f64) -> Self {
        RetryBudget {
            tokens: max,
            max,
            earn,
        }
    }
    /// Spends one retry if there is one.
    pub fn try_spend(&mut self) -> bool {
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
    /// Records a success.
    pub fn earn(&mut self) {
        self.tokens = (self.tokens + self.earn).min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, retry_after: Option<&str>) -> HttpResponse {
        HttpResponse {
            status,
            headers: retry_after
                .map(|v| vec![("Retry-After".to_owned(), v.to_owned())])
                .unwrap_or_default(),
            body: vec![],
        }
    }

    #[test]
    fn parses_retry_after_both_forms() {
        assert_eq!(parse_retry_after("7", 0.0), Some(7000.0));
        // 1994-11-06T08:49:37Z is 784111777 s after the epoch.
        let t = 784_111_777_000.0;
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 2000.0),
            Some(2000.0)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 5000.0),
            Some(0.0)
        );
        for bad in [
            "",
            "soon",
            "-1",
            "1.5",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, 0.0), None, "{bad}");
        }
        // Absurd years and hours from a hostile server: no overflow, no panic (found by
        // the decode_response fuzz target's seed `retry_after_huge_year`).
        for odd in [
            "Sun, 06 Nov 9000000000000000000 08:49:37 GMT",
            "Sun, 06 Nov -9000000000000000000 08:49:37 GMT",
            "Sun, 06 Nov 1994 -9000000000000000000:49:37 GMT",
            "Sun, 06 Nov 1994 08:-9000000000000000000:37 GMT",
            "Sun, 06 Nov 1994 08:49:-9000000000000000000 GMT",
        ] {
            let _ = parse_retry_after(odd, 0.0);
        }
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 -8:49:37 GMT", 0.0),
            None,
            "a negative hour"
        );
        assert_eq!(
            parse_retry_after("18446744073709551615", 0.0),
            Some(18_446_744_073_709_551_615.0 * 1000.0)
        );
    }

    #[test]
    fn full_jitter_backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            ..RetryPolicy::default()
        };
        let mut b = RetryBudget::default();
        let wait = |attempt, random, status, b: &mut RetryBudget| match decide(
            &p,
            Attempt::Response(&resp(status, None)),
            attempt,
            random,
            0.0,
            b,
        ) {
            Decision::RetryAfter(ms) => ms,
            Decision::Fail(e) => panic!("{e}"),
        };
        assert_eq!(wait(1, 0.999_999, 500, &mut b).round(), 100.0);
        assert_eq!(wait(2, 0.999_999, 502, &mut b).round(), 200.0);
        assert_eq!(wait(3, 0.5, 504, &mut b), 200.0);
        assert_eq!(
            wait(1, 0.999_999, 503, &mut b).round(),
            500.0,
            "slow-down base after 503"
        );
        assert_eq!(
            wait(2, 0.999_999, 429, &mut b).round(),
            1000.0,
            "slow-down base after 429"
        );
        assert!(wait(9, 0.999_999, 500, &mut b) <= 20_000.0, "capped");
        assert_eq!(wait(1, 0.0, 500, &mut b), 0.0, "full jitter reaches zero");
    }

    #[test]
    fn honours_retry_after_and_refuses_long_ones() {
        let p = RetryPolicy::default();
        let mut b = RetryBudget::default();
        match decide(
            &p,
            Attempt::Response(&resp(429, Some("2"))),
            1,
            0.1,
            0.0,
            &mut b,
        ) {
            Decision::RetryAfter(ms) => assert_eq!(ms, 2000.0),
            d => panic!("{d:?}"),
        }
        match decide(
            &p,
            Attempt::Response(&resp(503, Some("120"))),
            1,
            0.1,
            0.0,
            &mut b,
        ) {
            Decision::Fail(e) => {
                assert_eq!(e.kind, ErrorKind::RateLimited);
                assert_eq!(e.retry_after_ms, Some(120_000.0));
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn gives_up_after_max_attempts_and_on_non_retryable_answers() {
        let p = RetryPolicy::default();
        let mut b = RetryBudget::default();
        assert!(matches!(
            decide(&p, Attempt::Response(&resp(500, None)), 3, 0.5, 0.0, &mut b),
            Decision::Fail(_)
        ));
        for status in [400, 401, 403, 404, 409, 413, 415, 422] {
            match decide(
                &p,
                Attempt::Response(&resp(status, None)),
                1,
                0.5,
                0.0,
                &mut b,
            ) {
                Decision::Fail(e) => assert_eq!(e.status, Some(status)),
                d => panic!("{status}: {d:?}"),
            }
        }
        let mut net = Error::new(ErrorKind::Network, "reset");
        net.retryable = true;
        assert!(matches!(
            decide(&p, Attempt::NoResponse(&net), 1, 0.5, 0.0, &mut b),
            Decision::RetryAfter(_)
        ));
        let aborted = Error::new(ErrorKind::Aborted, "aborted");
        assert!(matches!(
            decide(&p, Attempt::NoResponse(&aborted), 1, 0.5, 0.0, &mut b),
            Decision::Fail(_)
        ));
    }

    #[test]
    fn the_budget_stops_retries_against_a_failing_site() {
        let p = RetryPolicy::default();
        let mut b = RetryBudget::new(3.0, 0.5);
        let mut retries = 0;
        for _ in 0..10 {
            if matches!(
                decide(&p, Attempt::Response(&resp(503, None)), 1, 0.5, 0.0, &mut b),
                Decision::RetryAfter(_)
            ) {
                retries += 1;
            }
        }
        assert_eq!(retries, 3);
        b.earn();
        b.earn();
        assert!(b.try_spend(), "successes earn retries back");
        assert!(!b.try_spend());
    }
}
