//! The date of a release that is not tagged yet: today, in UTC — or the day of
//! `SOURCE_DATE_EPOCH` when set (the reproducible-builds convention), so a re-run on
//! another day, or a test, can pin it.

use std::time::{SystemTime, UNIX_EPOCH};

use hub_kit::Env;

/// Seconds since the Unix epoch that stand in for "now" (reproducible-builds.org).
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// Today as `YYYY-MM-DD` (UTC). A `SOURCE_DATE_EPOCH` that is not a number is an error
/// naming the variable.
pub fn today(env: &Env) -> Result<String, String> {
    let secs = match env.get_non_empty(SOURCE_DATE_EPOCH) {
        Some(v) => v.trim().parse::<i64>().map_err(|_| {
            format!("`{SOURCE_DATE_EPOCH}` must be a number of seconds since 1970, got `{v}`")
        })?,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
    };
    Ok(civil_date(secs))
}

/// `YYYY-MM-DD` (UTC) of a Unix time, by the days-to-civil algorithm of the proleptic
/// Gregorian calendar (eras of 400 years, years starting in March).
pub fn civil_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // year of era
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
    let mp = (5 * doy + 2) / 153; // month, March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        for (secs, date) in [
            (0, "1970-01-01"),
            (-1, "1969-12-31"),
            (951_782_400, "2000-02-29"),
            (951_868_799, "2000-02-29"),
            (951_868_800, "2000-03-01"),
            (1_704_067_200, "2024-01-01"),
            (1_709_164_800, "2024-02-29"),
            (1_735_689_599, "2024-12-31"),
            (4_102_444_800, "2100-01-01"),
            (4_107_542_400, "2100-03-01"),
        ] {
            assert_eq!(civil_date(secs), date, "{secs}");
        }
    }

    #[test]
    fn source_date_epoch_pins_today() {
        let env = Env::from_pairs([(SOURCE_DATE_EPOCH, "1709164800")]);
        assert_eq!(today(&env).as_deref(), Ok("2024-02-29"));
        let bad = Env::from_pairs([(SOURCE_DATE_EPOCH, "yesterday")]);
        assert!(today(&bad).unwrap_err().contains("`SOURCE_DATE_EPOCH`"));
        assert_eq!(today(&Env::default()).map(|d| d.len()), Ok(10));
    }
}
