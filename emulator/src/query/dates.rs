//! Date and date-time helpers for filters and groupings.
//!
//! Records store `date` fields as `YYYY-MM-DD` and `date_time` fields as
//! `YYYY-MM-DDThh:mm:ssZ` (UTC, one-second precision); both forms sort correctly as
//! strings, so filters normalise their operands to the same form once and compare
//! strings. Calendar computations are in UTC; weeks start on Monday.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// The canonical `date_time` format.
pub const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
/// The canonical `date` format.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Parses a date-time as clients send it: RFC 3339 (any offset), `YYYY-MM-DD hh:mm:ss`
/// (UTC, optionally followed by ` UTC`), or a bare date (midnight UTC).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    let bare = s.strip_suffix(" UTC").unwrap_or(s);
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(bare, fmt) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    NaiveDate::parse_from_str(s, DATE_FORMAT)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n)))
}

/// Parses `YYYY-MM-DD` (or the date part of a date-time).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, DATE_FORMAT) {
        return Some(d);
    }
    if s.len() > 10 {
        if let Some(dt) = parse_datetime(s) {
            return Some(dt.date_naive());
        }
    }
    None
}

/// Formats a date-time canonically.
pub fn fmt_datetime(dt: DateTime<Utc>) -> String {
    dt.format(DATETIME_FORMAT).to_string()
}

/// Formats a date canonically.
pub fn fmt_date(d: NaiveDate) -> String {
    d.format(DATE_FORMAT).to_string()
}

/// Whether `s` is already a canonical date-time string.
pub fn is_canonical_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z'
}

/// A record's date-time value as a canonical string (borrowed when it already is one).
pub fn datetime_key(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if is_canonical_datetime(s) {
        Some(std::borrow::Cow::Borrowed(s))
    } else {
        parse_datetime(s).map(|d| std::borrow::Cow::Owned(fmt_datetime(d)))
    }
}

/// A record's date value as a canonical string.
pub fn date_key(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        Some(std::borrow::Cow::Borrowed(s))
    } else {
        parse_date(s).map(|d| std::borrow::Cow::Owned(fmt_date(d)))
    }
}

/// A unit of `in_last` / `in_next`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `HOUR`.
    Hour,
    /// `DAY`.
    Day,
    /// `WEEK`.
    Week,
    /// `MONTH`.
    Month,
    /// `YEAR`.
    Year,
}

impl Unit {
    /// Parses `HOUR|DAY|WEEK|MONTH|YEAR` (any case, singular or plural).
    pub fn parse(s: &str) -> Option<Unit> {
        let u = s.trim().to_ascii_uppercase();
        let u = u.strip_suffix('S').unwrap_or(&u).to_string();
        match u.as_str() {
            "HOUR" => Some(Unit::Hour),
            "DAY" => Some(Unit::Day),
            "WEEK" => Some(Unit::Week),
            "MONTH" => Some(Unit::Month),
            "YEAR" => Some(Unit::Year),
            _ => None,
        }
    }
}

/// `t` moved by `n` units (negative moves back); `None` on overflow.
pub fn shift(t: DateTime<Utc>, n: i64, unit: Unit) -> Option<DateTime<Utc>> {
    let months = |m: i64| -> Option<DateTime<Utc>> {
        let abs = u32::try_from(m.unsigned_abs()).ok()?;
        if m >= 0 {
            t.checked_add_months(Months::new(abs))
        } else {
            t.checked_sub_months(Months::new(abs))
        }
    };
    match unit {
        Unit::Hour => t.checked_add_signed(Duration::try_hours(n)?),
        Unit::Day => t.checked_add_signed(Duration::try_days(n)?),
        Unit::Week => t.checked_add_signed(Duration::try_weeks(n)?),
        Unit::Month => months(n),
        Unit::Year => months(n.checked_mul(12)?),
    }
}

/// A calendar period for `in_calendar_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A day.
    Day,
    /// A Monday-based week.
    Week,
    /// A month.
    Month,
    /// A year.
    Year,
}

/// The first day of the period containing `d`.
pub fn period_start(d: NaiveDate, p: Period) -> NaiveDate {
    match p {
        Period::Day => d,
        Period::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        Period::Month => d.with_day(1).unwrap_or(d),
        Period::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d),
    }
}

/// `[start, end)` of the period `offset` periods away from the one containing `today`.
pub fn calendar_range(today: NaiveDate, p: Period, offset: i64) -> Option<(NaiveDate, NaiveDate)> {
    let start = period_start(today, p);
    let step = |d: NaiveDate, n: i64| -> Option<NaiveDate> {
        match p {
            Period::Day => d.checked_add_signed(Duration::try_days(n)?),
            Period::Week => d.checked_add_signed(Duration::try_weeks(n)?),
            Period::Month | Period::Year => {
                let m = if p == Period::Year {
                    n.checked_mul(12)?
                } else {
                    n
                };
                let abs = u32::try_from(m.unsigned_abs()).ok()?;
                if m >= 0 {
                    d.checked_add_months(Months::new(abs))
                } else {
                    d.checked_sub_months(Months::new(abs))
                }
            }
        }
    };
    let s = step(start, offset)?;
    let e = step(s, 1)?;
    Some((s, e))
}

/// Midnight UTC at the start of `d`.
pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_forms() {
        let want = "2024-01-15T09:30:00Z";
        for s in [
            "2024-01-15T09:30:00Z",
            "2024-01-15T10:30:00+01:00",
            "2024-01-15 09:30:00",
            "2024-01-15 09:30:00 UTC",
        ] {
            assert_eq!(
                parse_datetime(s).map(fmt_datetime).as_deref(),
                Some(want),
                "{s}"
            );
        }
        assert_eq!(
            parse_datetime("2024-01-15").map(fmt_datetime).as_deref(),
            Some("2024-01-15T00:00:00Z")
        );
        assert!(parse_datetime("yesterday").is_none());
        assert!(parse_date("last tuesday at noon").is_none());
        assert_eq!(
            parse_date("2024-01-15T23:00:00Z").map(fmt_date).as_deref(),
            Some("2024-01-15")
        );
    }

    #[test]
    fn calendar_ranges() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 17).unwrap(); // a Wednesday
        let r = |p, o| calendar_range(d, p, o).map(|(a, b)| (fmt_date(a), fmt_date(b)));
        assert_eq!(
            r(Period::Day, -1),
            Some(("2024-01-16".into(), "2024-01-17".into()))
        );
        assert_eq!(
            r(Period::Week, 0),
            Some(("2024-01-15".into(), "2024-01-22".into()))
        );
        assert_eq!(
            r(Period::Month, 1),
            Some(("2024-02-01".into(), "2024-03-01".into()))
        );
        assert_eq!(
            r(Period::Year, -1),
            Some(("2023-01-01".into(), "2024-01-01".into()))
        );
        assert_eq!(Unit::parse("days"), Some(Unit::Day));
        assert_eq!(Unit::parse("fortnight"), None);
    }
}
