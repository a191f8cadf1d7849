//! RFC 3339 timestamps (GitHub's JSON uses `2026-01-02T03:04:05Z`), through chrono.

use chrono::{DateTime, SecondsFormat, Utc};

/// Seconds since the Unix epoch, now.
pub(crate) fn now_epoch() -> i64 {
    Utc::now().timestamp()
}

/// Formats epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(epoch: i64) -> String {
    DateTime::<Utc>::from_timestamp(epoch, 0)
        .unwrap_or(DateTime::UNIX_EPOCH)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into epoch seconds and the offset in
/// minutes east of UTC.
pub(crate) fn parse_rfc3339(text: &str) -> Option<(i64, i32)> {
    let parsed = DateTime::parse_from_rfc3339(text).ok()?;
    Some((parsed.timestamp(), parsed.offset().local_minus_utc() / 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_323_045), "2026-01-02T03:04:05Z");
        assert_eq!(
            parse_rfc3339("2026-01-02T03:04:05Z"),
            Some((1_767_323_045, 0))
        );
        assert_eq!(
            parse_rfc3339("2026-01-02T05:04:05.123+02:00"),
            Some((1_767_323_045, 120))
        );
        assert_eq!(parse_rfc3339("2026-13-02T03:04:05Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
