//! Numbers as the log, the report and the summary show them: shared by the run
//! (`progressive`) and the output stage (`report`).

/// Formats a number for the table: 4 significant digits, no exponent for usual sizes.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(num(0.0023456), "0.002346");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(1234.6), "1235");
        assert_eq!(num(f64::NAN), "–");
    }
}
