//! `format` checks that answer as ajv-formats (2.1, the version SchemaStore tests with) does where
//! it differs from RFC 3339, which the `jsonschema` crate follows.
//!
//! ajv-formats' `date-time` and `time` take the offset as optional (`2018-12-14T10:00:00`; its
//! `time` asks for a zone but tests for `""` where the regular expression yields `undefined`),
//! and separate date and time by `T`, `t` or any whitespace. Everything else is as RFC 3339:
//! the days of each month with leap years, hours to 23, minutes to 59, seconds to 59 or a leap
//! second `23:59:60`. Schema authors write (and test) timestamps to that reading; with
//! `spec_strict` the crate's RFC 3339 checks apply instead.

/// ajv-formats' `date`: `YYYY-MM-DD` with a day that exists.
fn date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) =
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The number an all-ASCII-digit slice spells.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// ajv-formats' `time`: `HH:MM:SS`, an optional fraction, an optional `Z` or `±HH[[:]MM]`.
pub(crate) fn time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) =
        (digits(&b[0..2]), digits(&b[3..5]), digits(&b[6..8]))
    else {
        return false;
    };
    let mut rest = &b[8..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    let zone_ok = match rest {
        [] | [b'z' | b'Z'] => true,
        [b'+' | b'-', zone @ ..] => match zone {
            [h1, h2] => h1.is_ascii_digit() && h2.is_ascii_digit(),
            [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => {
                [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
            }
            _ => false,
        },
        _ => false,
    };
    zone_ok
        && ((hour <= 23 && minute <= 59 && second <= 59)
            || (hour == 23 && minute == 59 && second == 60))
}

/// ajv-formats' `date-time`: a date and a time separated by one `T`, `t` or whitespace
/// character (JavaScript's `\s`), the offset optional.
pub(crate) fn date_time(text: &str) -> bool {
    // JavaScript's `\s` is Unicode's white space without U+0085, plus U+FEFF.
    let separator =
        |c: char| matches!(c, 't' | 'T' | '\u{feff}') || (c.is_whitespace() && c != '\u{85}');
    let mut parts = text.split(separator);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(d), Some(t), None) => date(d) && time(t),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_takes_the_offset_as_optional_like_ajv_formats() {
        for valid in [
            "2018-12-14T10:00:00",
            "2018-12-14T10:00:00Z",
            "2018-12-14t10:00:00.123+01:00",
            "2018-12-14 10:00:00-0130",
            "2016-12-31T23:59:60Z",
            "2024-02-29T00:00:00+05",
        ] {
            assert!(date_time(valid), "{valid} should be valid");
        }
        for invalid in [
            "2018-12-14",
            "2018-12-14T10:00",
            "2023-02-29T00:00:00",
            "2018-13-01T00:00:00",
            "2018-12-14T24:00:00",
            "2018-12-14T10:60:00",
            "2018-12-14T10:00:00.",
            "2018-12-14T10:00:00+1",
            "2018-12-14TT10:00:00",
            "2018-12-14T10:00:00 Z",
            "yesterday",
            "２０１８-12-14T10:00:00",
        ] {
            assert!(!date_time(invalid), "{invalid} should be invalid");
        }
    }

    #[test]
    fn time_is_the_same_reading() {
        assert!(time("10:00:00"));
        assert!(time("23:59:60z"));
        assert!(!time("23:58:60"));
        assert!(!time("1:00:00"));
    }
}
