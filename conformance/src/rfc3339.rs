//! A strict RFC 3339 date-time check, as accepted by Go's `time.Parse(time.RFC3339, ...)`
//! (which is how containerd and go-runc decode `time`/`created`).

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with valid calendar ranges.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(min), Some(sec)) =
        (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16), num(17..19))
    else {
        return false;
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return false;
    }
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days_in_month || hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+') | Some(b'-') => {
            let (Some(zh), Some(zm)) = (num(i + 1..i + 3), num(i + 4..i + 6)) else {
                return false;
            };
            b.get(i + 3) == Some(&b':') && i + 6 == b.len() && zh <= 23 && zm <= 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_rfc3339;

    #[test]
    fn accepts_and_rejects() {
        for ok in [
            "2026-08-22T17:21:51Z",
            "2026-08-22T17:21:51.123456789Z",
            "2024-02-29T00:00:00+05:30",
            "1999-12-31T23:59:59-00:00",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "2026-08-22 17:21:51Z",
            "2026-08-22T17:21:51",
            "2026-08-22T17:21:51.Z",
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-08-22T24:00:00Z",
            "2026-08-22T17:21:51+0530",
            "2026-08-22T17:21:51Zjunk",
            "1755883311",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
