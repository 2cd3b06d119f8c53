//! `ftrace_it --duration`: checked by vmrun before the guest boots, by
//! ftrace_it again when it runs; both with this function.

/// What [`parse_duration_ms`] accepts, for error messages.
pub const DURATION_RULE: &str = "seconds > 0 with up to 3 decimals";

/// Decimal seconds as milliseconds: digits, optionally `.` and one to three
/// more digits, greater than zero (`"1.5"` is 1500). No sign, exponent,
/// spaces or unit; the whole part has at most 19 digits and the result
/// fits a `u64`.
pub fn parse_duration_ms(s: &[u8]) -> Option<u64> {
    let mut parts = s.splitn(2, |&c| c == b'.');
    let whole = digits(parts.next()?)?;
    let mut ms = 0;
    if let Some(frac) = parts.next() {
        if frac.len() > 3 {
            return None;
        }
        ms = digits(frac)?;
        for _ in frac.len()..3 {
            ms *= 10;
        }
    }
    let total = whole.checked_mul(1000)?.checked_add(ms)?;
    (total > 0).then_some(total)
}

/// Whether a run's exit, as `guest_init` writes it to `ID.exit` (the
/// code, or `signal N`), says it ran until `--duration` was reached: a
/// traced run is ftrace_it's, which kills the program with SIGKILL and
/// exits 128 + 9; an untraced run (`--tracer none`) is the program's own,
/// killed by guest_init with SIGKILL, so `signal 9`.
pub fn reached_duration(exit: &str, traced: bool) -> bool {
    exit == if traced { "137" } else { "signal 9" }
}

/// 1 to 19 ASCII digits: always fits a `u64`.
fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |v, &c| {
        c.is_ascii_digit().then(|| v * 10 + u64::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_duration_ms, reached_duration};

    #[test]
    fn duration_reached_is_sigkill_by_ftrace_it_or_guest_init() {
        assert!(reached_duration("137", true));
        assert!(reached_duration("signal 9", false));
        for (exit, traced) in [
            ("0", true),
            ("signal 9", true),
            ("139", true),
            ("137", false),
            ("0", false),
            ("signal 15", false),
            (" 137", true),
        ] {
            assert!(!reached_duration(exit, traced), "{exit} {traced}");
        }
    }

    #[test]
    fn seconds_with_up_to_three_decimals() {
        for (text, ms) in [
            ("1", 1000),
            ("1.5", 1500),
            ("0.3", 300),
            ("0.001", 1),
            ("2.25", 2250),
            ("3600", 3_600_000),
            ("007.070", 7070),
            ("0000000000000000001", 1000),
            ("18446744073709551.615", u64::MAX),
        ] {
            assert_eq!(parse_duration_ms(text.as_bytes()), Some(ms), "{text}");
        }
    }

    #[test]
    fn refuses_what_ftrace_it_refuses() {
        for text in [
            "",
            "0",
            "0.000",
            "1.",
            ".5",
            "1.2345",
            "1.2.3",
            "-1",
            "+1",
            "1e3",
            " 1",
            "1 ",
            "1s",
            "inf",
            "1,5",
            "00000000000000000001",
            "18446744073709551.616",
            "18446744073709552",
        ] {
            assert_eq!(parse_duration_ms(text.as_bytes()), None, "{text:?}");
        }
    }
}
