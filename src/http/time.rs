//! Timestamps on the wire: RFC 3339 in UTC, whole seconds, ending in `Z`.

use jiff::Timestamp;

pub fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn rfc3339_opt(t: Option<Timestamp>) -> Option<String> {
    t.map(rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_whole_seconds_in_utc() {
        let t: Timestamp = "2026-11-25T14:00:00.789+01:00".parse().unwrap();
        assert_eq!(rfc3339(t), "2026-11-25T13:00:00Z");
    }
}
