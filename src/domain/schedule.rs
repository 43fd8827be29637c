//! Operating hours: the admin's rule for when logins are allowed, its
//! validation, and the answer to "open at this instant, and until when?".

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};

use crate::domain::FieldError;

/// Position is `Weekday::to_monday_zero_offset`, which is also the bit in the day mask.
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Windows opening from yesterday on: one lasts at most 24 hours, so earlier
/// ones cannot reach today. The longest closed stretch is a week, and a run of
/// touching windows still unbroken after more than a week repeats forever.
const HORIZON_DAYS: usize = 10;

const TIME_RULE: &str = "must be a 24-hour time HH:MM between 00:00 and 23:59";
const ZONE_RULE: &str = "must be an IANA time zone such as Europe/Berlin, or UTC";

/// Input as it arrives from JSON / config (unvalidated).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScheduleInput {
    pub enabled: bool,
    pub timezone: String,
    pub opening_time: String,
    pub closing_time: String,
    pub days: Vec<String>,
}

/// A valid schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    enabled: bool,
    tz_name: String,
    tz: TimeZone,
    opening: Time,
    closing: Time,
    /// Bit `n` set means a window opens on `DAY_NAMES[n]`.
    days: u8,
}

/// Whether logins are allowed, and the next instant that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleState {
    pub open: bool,
    pub next_change: Option<Timestamp>,
}

impl Schedule {
    pub fn parse(input: &ScheduleInput) -> Result<Self, Vec<FieldError>> {
        let tz = parse_time_zone(&input.timezone);
        let opening = parse_time("opening_time", &input.opening_time);
        let closing = parse_time("closing_time", &input.closing_time);
        let days = parse_days(&input.days);
        match (tz, opening, closing, days) {
            (Ok((tz_name, tz)), Ok(opening), Ok(closing), Ok(days)) => Ok(Self {
                enabled: input.enabled,
                tz_name,
                tz,
                opening,
                closing,
                days,
            }),
            (tz, opening, closing, days) => {
                let mut errors = Vec::new();
                errors.extend(tz.err());
                errors.extend(opening.err());
                errors.extend(closing.err());
                errors.extend(days.err().into_iter().flatten());
                Err(errors)
            }
        }
    }

    pub fn always_open_utc() -> Self {
        Self {
            enabled: false,
            tz_name: "UTC".to_owned(),
            tz: TimeZone::UTC,
            opening: Time::constant(8, 0, 0, 0),
            closing: Time::constant(18, 0, 0, 0),
            days: 0b001_1111,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn timezone_name(&self) -> &str {
        &self.tz_name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    pub fn opening_time(&self) -> String {
        format_time(self.opening)
    }

    pub fn closing_time(&self) -> String {
        format_time(self.closing)
    }

    pub fn days(&self) -> Vec<&'static str> {
        DAY_NAMES
            .iter()
            .enumerate()
            .filter(|(bit, _)| self.days & (1 << bit) != 0)
            .map(|(_, name)| *name)
            .collect()
    }

    pub fn to_input(&self) -> ScheduleInput {
        ScheduleInput {
            enabled: self.enabled,
            timezone: self.tz_name.clone(),
            opening_time: self.opening_time(),
            closing_time: self.closing_time(),
            days: self.days().into_iter().map(str::to_owned).collect(),
        }
    }

    /// Whether logins are allowed at `now`, and the next instant this changes
    /// (None when it never changes: disabled, always closed, or every day 24h
    /// windows that chain forever).
    pub fn state_at(&self, now: Timestamp) -> ScheduleState {
        if !self.enabled || self.days == 0 {
            return state(!self.enabled, None);
        }
        let today = self.tz.to_datetime(now).date();
        let mut date = today.yesterday().unwrap_or(today);
        // Windows come in order of their start, so touching ones can be merged
        // on the fly without collecting them.
        let mut run: Option<(Timestamp, Timestamp)> = None;
        let mut last_day_in_run = false;
        for _ in 0..HORIZON_DAYS {
            last_day_in_run = false;
            if let Some((start, end)) = self.window(date) {
                last_day_in_run = true;
                run = match run {
                    Some((run_start, run_end)) if start <= run_end => {
                        Some((run_start, run_end.max(end)))
                    }
                    Some(finished) => match judge(finished, now) {
                        Some(decided) => return decided,
                        None => Some((start, end)),
                    },
                    None => Some((start, end)),
                };
            }
            date = match date.tomorrow() {
                Ok(next) => next,
                // Only at the end of jiff's calendar; judge what we have.
                Err(_) => break,
            };
        }
        match run.and_then(|pending| judge(pending, now)) {
            // A run still growing at the horizon, longer than a week, never ends.
            Some(decided) if decided.open && last_day_in_run => state(true, None),
            Some(decided) => decided,
            None => state(false, None),
        }
    }

    fn opens_on(&self, weekday: Weekday) -> bool {
        self.days & (1 << weekday.to_monday_zero_offset()) != 0
    }

    /// The window opening on `date`, if any, as absolute [start, end).
    fn window(&self, date: Date) -> Option<(Timestamp, Timestamp)> {
        if !self.opens_on(date.weekday()) {
            return None;
        }
        let start = self.first_instant(date.to_datetime(self.opening))?;
        // Equal times mean 24 hours, so they also close on the next day.
        let closing_date = if self.closing <= self.opening {
            date.tomorrow().ok()?
        } else {
            date
        };
        let end = self.first_instant(closing_date.to_datetime(self.closing))?;
        // A window lying wholly inside a spring-forward gap never opens.
        (start < end).then_some((start, end))
    }

    /// The first instant at which the local clock reads `dt` or later: the
    /// earlier one in a fold, the end of the jump in a gap.
    fn first_instant(&self, dt: DateTime) -> Option<Timestamp> {
        let ambiguous = self.tz.to_ambiguous_timestamp(dt);
        if let AmbiguousOffset::Gap { after, .. } = ambiguous.offset() {
            // Jiff's "compatible" would shift by the gap's length (02:30 →
            // 03:30); the contract wants the moment the clock skips past it.
            // Read with the new offset, `dt` lies just before that jump.
            let before_jump = after.to_timestamp(dt).ok()?;
            if let Some(jump) = self.tz.following(before_jump).next() {
                return Some(jump.timestamp());
            }
        }
        ambiguous.compatible().ok()
    }
}

fn state(open: bool, next_change: Option<Timestamp>) -> ScheduleState {
    ScheduleState { open, next_change }
}

/// The state at `now` if the run [start, end) decides it, i.e. `now` is not
/// past its end.
fn judge((start, end): (Timestamp, Timestamp), now: Timestamp) -> Option<ScheduleState> {
    if now < start {
        Some(state(false, Some(start)))
    } else {
        (now < end).then_some(state(true, Some(end)))
    }
}

fn parse_time_zone(raw: &str) -> Result<(String, TimeZone), FieldError> {
    let unknown = || FieldError::new("timezone", ZONE_RULE);
    let tz = TimeZone::get(raw).map_err(|_| unknown())?;
    // jiff hands out this placeholder for "Etc/Unknown"; it has no rules.
    if tz.is_unknown() {
        return Err(unknown());
    }
    // The lookup ignores case; keep the database's spelling so output is stable.
    let name = tz.iana_name().unwrap_or(raw).to_owned();
    Ok((name, tz))
}

fn parse_time(field: &str, raw: &str) -> Result<Time, FieldError> {
    let invalid = || FieldError::new(field, TIME_RULE);
    let [h1, h2, b':', m1, m2] = raw.as_bytes() else {
        return Err(invalid());
    };
    let (Some(hour), Some(minute)) = (two_digits(*h1, *h2), two_digits(*m1, *m2)) else {
        return Err(invalid());
    };
    Time::new(hour, minute, 0, 0).map_err(|_| invalid())
}

fn two_digits(tens: u8, ones: u8) -> Option<i8> {
    let digit = |c: u8| c.is_ascii_digit().then(|| c - b'0');
    i8::try_from(digit(tens)? * 10 + digit(ones)?).ok()
}

fn parse_days(raw: &[String]) -> Result<u8, Vec<FieldError>> {
    let mut mask = 0u8;
    let mut errors = Vec::new();
    for name in raw {
        match DAY_NAMES.iter().position(|d| d.eq_ignore_ascii_case(name)) {
            Some(bit) => mask |= 1 << bit,
            None => errors.push(FieldError::new(
                "days",
                format!("unknown day {name:?}; use mon, tue, wed, thu, fri, sat or sun"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(mask)
    } else {
        Err(errors)
    }
}

fn format_time(time: Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: bool = true;
    const CLOSED: bool = false;
    const WEEKDAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];
    const ALL_DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    fn input(tz: &str, opening: &str, closing: &str, days: &[&str]) -> ScheduleInput {
        ScheduleInput {
            enabled: true,
            timezone: tz.to_owned(),
            opening_time: opening.to_owned(),
            closing_time: closing.to_owned(),
            days: days.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    fn schedule(tz: &str, opening: &str, closing: &str, days: &[&str]) -> Schedule {
        Schedule::parse(&input(tz, opening, closing, days)).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn error_fields(input: &ScheduleInput) -> Vec<String> {
        let errors = Schedule::parse(input).unwrap_err();
        errors.into_iter().map(|e| e.field).collect()
    }

    impl Schedule {
        /// Each case: at `now`, open or closed, until `next` ("" for never).
        fn assert_states(&self, cases: &[(&str, bool, &str)]) {
            for &(now, open, next) in cases {
                let next_change = (!next.is_empty()).then(|| ts(next));
                let expected = ScheduleState { open, next_change };
                assert_eq!(self.state_at(ts(now)), expected, "at {now}");
            }
        }
    }

    fn real_hours(from: &str, to: &str) -> i64 {
        ts(to).duration_since(ts(from)).as_hours()
    }

    #[test]
    fn parse_accepts_the_contract_example() {
        let json = r#"{"enabled": true, "timezone": "Europe/Berlin", "opening_time": "08:00",
            "closing_time": "18:00", "days": ["mon","tue","wed","thu","fri"]}"#;
        let raw: ScheduleInput = serde_json::from_str(json).unwrap();
        let s = Schedule::parse(&raw).unwrap();
        assert!(s.enabled());
        assert_eq!(s.timezone_name(), "Europe/Berlin");
        assert_eq!(s.time_zone(), &TimeZone::get("Europe/Berlin").unwrap());
        assert_eq!([s.opening_time(), s.closing_time()], ["08:00", "18:00"]);
        assert_eq!(s.days(), WEEKDAYS);
        assert_eq!(s.to_input(), raw);
    }

    #[test]
    fn parse_normalises_day_case_order_duplicates_and_zone_spelling() {
        let s = schedule(
            "europe/berlin",
            "00:00",
            "23:59",
            &["SUN", "Fri", "mon", "MON"],
        );
        assert_eq!(s.days(), ["mon", "fri", "sun"]);
        assert_eq!(s.timezone_name(), "Europe/Berlin");
    }

    #[test]
    fn to_input_round_trips_through_parse() {
        let s = schedule("America/New_York", "22:30", "06:05", &["sat", "TUE", "tue"]);
        assert_eq!(Schedule::parse(&s.to_input()).unwrap(), s);
        let fallback = Schedule::always_open_utc();
        assert_eq!(Schedule::parse(&fallback.to_input()).unwrap(), fallback);
        let mut expected = input("UTC", "08:00", "18:00", &WEEKDAYS);
        expected.enabled = false;
        assert_eq!(fallback.to_input(), expected);
    }

    #[test]
    fn parse_rejects_unknown_time_zones() {
        for tz in ["Mars/Olympus", "", "Etc/Unknown", "+02:00"] {
            let fields = error_fields(&input(tz, "08:00", "18:00", &WEEKDAYS));
            assert_eq!(fields, ["timezone"], "{tz:?}");
        }
    }

    #[test]
    fn parse_rejects_malformed_times_naming_the_field() {
        for bad in [
            "25:00", "24:00", "8:00", "08:60", "0800", "08:00:00", " 08:00", "",
        ] {
            let fields = error_fields(&input("UTC", bad, "18:00", &WEEKDAYS));
            assert_eq!(fields, ["opening_time"], "{bad:?}");
            let fields = error_fields(&input("UTC", "08:00", bad, &WEEKDAYS));
            assert_eq!(fields, ["closing_time"], "{bad:?}");
        }
    }

    #[test]
    fn parse_rejects_unknown_day_names() {
        for bad in ["monday", "xyz", "", "mo"] {
            let fields = error_fields(&input("UTC", "08:00", "18:00", &["mon", bad]));
            assert_eq!(fields, ["days"], "{bad:?}");
        }
    }

    #[test]
    fn parse_reports_every_broken_field_at_once() {
        let fields = error_fields(&input("Nowhere/Land", "8", "18:61", &["monday", "fri"]));
        assert_eq!(fields, ["timezone", "opening_time", "closing_time", "days"]);
    }

    #[test]
    fn disabled_schedule_is_always_open_for_ever() {
        let mut disabled = input("UTC", "08:00", "09:00", &[]);
        disabled.enabled = false;
        let s = Schedule::parse(&disabled).unwrap();
        s.assert_states(&[("2026-06-13T03:00:00Z", OPEN, "")]);
    }

    #[test]
    fn empty_days_is_always_closed_for_ever() {
        let s = schedule("Europe/Berlin", "08:00", "18:00", &[]);
        s.assert_states(&[("2026-06-10T10:00:00Z", CLOSED, "")]);
    }

    // Berlin is on CEST (+02:00) in June 2026; 2026-06-10 is a Wednesday.
    #[test]
    fn weekday_window_is_open_from_opening_until_closing_time() {
        let s = schedule("Europe/Berlin", "08:00", "18:00", &WEEKDAYS);
        s.assert_states(&[
            ("2026-06-10T10:00:00Z", OPEN, "2026-06-10T16:00:00Z"), // Wed 12:00
            ("2026-06-10T06:00:00Z", OPEN, "2026-06-10T16:00:00Z"), // exactly 08:00
            ("2026-06-10T05:59:59Z", CLOSED, "2026-06-10T06:00:00Z"),
            ("2026-06-10T16:00:00Z", CLOSED, "2026-06-11T06:00:00Z"), // exactly 18:00
            ("2026-06-10T17:00:00Z", CLOSED, "2026-06-11T06:00:00Z"), // Wed 19:00 → Thu
            ("2026-06-12T17:00:00Z", CLOSED, "2026-06-15T06:00:00Z"), // Fri 19:00 → Mon
            ("2026-06-14T10:00:00Z", CLOSED, "2026-06-15T06:00:00Z"), // Sun 12:00 → Mon
            // Fri 19:00 CET → Mon 08:00 CEST, across the spring-forward weekend.
            ("2026-03-27T18:00:00Z", CLOSED, "2026-03-30T06:00:00Z"),
        ]);
    }

    #[test]
    fn overnight_window_belongs_to_the_day_it_opens() {
        let s = schedule("Europe/Berlin", "22:00", "06:00", &["fri"]);
        s.assert_states(&[
            ("2026-06-12T19:00:00Z", CLOSED, "2026-06-12T20:00:00Z"), // Fri 21:00
            ("2026-06-13T01:00:00Z", OPEN, "2026-06-13T04:00:00Z"),   // Sat 03:00
            ("2026-06-13T21:00:00Z", CLOSED, "2026-06-19T20:00:00Z"), // Sat 23:00
        ]);
    }

    #[test]
    fn equal_times_make_a_24_hour_window() {
        let s = schedule("UTC", "09:00", "09:00", &["wed"]);
        s.assert_states(&[
            ("2026-06-11T08:59:00Z", OPEN, "2026-06-11T09:00:00Z"),
            ("2026-06-11T09:00:00Z", CLOSED, "2026-06-17T09:00:00Z"),
        ]);
    }

    #[test]
    fn every_day_24_hours_is_open_for_ever() {
        for tz in ["UTC", "Europe/Berlin", "America/New_York"] {
            let s = schedule(tz, "02:30", "02:30", &ALL_DAYS);
            s.assert_states(&[
                ("2026-06-10T10:00:00Z", OPEN, ""),
                ("2026-03-29T01:30:00Z", OPEN, ""),
                ("2026-11-01T06:30:00Z", OPEN, ""),
            ]);
        }
    }

    #[test]
    fn adjacent_24_hour_windows_merge_until_the_first_missing_day() {
        let weekend = schedule("UTC", "00:00", "00:00", &["sat", "sun"]);
        weekend.assert_states(&[
            ("2026-06-13T12:00:00Z", OPEN, "2026-06-15T00:00:00Z"),
            ("2026-06-14T12:00:00Z", OPEN, "2026-06-15T00:00:00Z"),
        ]);
        let six_days = schedule("UTC", "00:00", "00:00", &ALL_DAYS[..6]);
        six_days.assert_states(&[
            ("2026-06-10T10:00:00Z", OPEN, "2026-06-14T00:00:00Z"),
            ("2026-06-14T10:00:00Z", CLOSED, "2026-06-15T00:00:00Z"),
        ]);
    }

    #[test]
    fn a_24_hour_window_merges_with_the_next_days_window() {
        // Monday's window touches Tuesday's, so the run lasts until Wed 08:00.
        let s = schedule("UTC", "08:00", "08:00", &["mon", "tue"]);
        s.assert_states(&[
            ("2026-06-15T07:00:00Z", CLOSED, "2026-06-15T08:00:00Z"),
            ("2026-06-15T10:00:00Z", OPEN, "2026-06-17T08:00:00Z"),
        ]);
    }

    // Spring forward: Berlin 2026-03-29 at 01:00Z (02:00 CET → 03:00 CEST),
    // New York 2026-03-08 at 07:00Z (02:00 EST → 03:00 EDT).
    #[test]
    fn window_opening_in_the_spring_gap_opens_when_the_gap_ends() {
        let berlin = schedule("Europe/Berlin", "02:30", "05:00", &["sun"]);
        berlin.assert_states(&[
            ("2026-03-29T00:30:00Z", CLOSED, "2026-03-29T01:00:00Z"),
            ("2026-03-29T01:00:00Z", OPEN, "2026-03-29T03:00:00Z"),
        ]);
        let new_york = schedule("America/New_York", "02:30", "04:00", &["sun"]);
        new_york.assert_states(&[
            ("2026-03-08T06:30:00Z", CLOSED, "2026-03-08T07:00:00Z"),
            ("2026-03-08T07:00:00Z", OPEN, "2026-03-08T08:00:00Z"),
        ]);
    }

    #[test]
    fn window_closing_in_the_spring_gap_closes_when_the_gap_ends() {
        let s = schedule("Europe/Berlin", "01:00", "02:30", &["sun"]);
        s.assert_states(&[("2026-03-29T00:30:00Z", OPEN, "2026-03-29T01:00:00Z")]);
    }

    #[test]
    fn window_wholly_inside_the_spring_gap_does_not_open_that_day() {
        let s = schedule("Europe/Berlin", "02:00", "02:30", &ALL_DAYS);
        // Sun 01:30 CET → Mon 02:00 CEST.
        s.assert_states(&[("2026-03-29T00:30:00Z", CLOSED, "2026-03-30T00:00:00Z")]);
    }

    #[test]
    fn overnight_window_over_spring_forward_lasts_7_real_hours() {
        let berlin = schedule("Europe/Berlin", "22:00", "06:00", &["sat"]);
        berlin.assert_states(&[
            ("2026-03-28T20:59:59Z", CLOSED, "2026-03-28T21:00:00Z"), // Sat 22:00 CET
            ("2026-03-28T21:00:00Z", OPEN, "2026-03-29T04:00:00Z"),   // Sun 06:00 CEST
        ]);
        let hours = real_hours("2026-03-28T21:00:00Z", "2026-03-29T04:00:00Z");
        assert_eq!(hours, 7);
        let new_york = schedule("America/New_York", "22:00", "06:00", &["sat"]);
        new_york.assert_states(&[
            ("2026-03-08T02:00:00Z", CLOSED, "2026-03-08T03:00:00Z"), // Sat 22:00 EST
            ("2026-03-08T06:00:00Z", OPEN, "2026-03-08T10:00:00Z"),   // Sun 06:00 EDT
        ]);
        let hours = real_hours("2026-03-08T03:00:00Z", "2026-03-08T10:00:00Z");
        assert_eq!(hours, 7);
    }

    // Fall back: Berlin 2026-10-25 at 01:00Z (03:00 CEST → 02:00 CET),
    // New York 2026-11-01 at 06:00Z (02:00 EDT → 01:00 EST).
    #[test]
    fn overnight_window_over_fall_back_lasts_9_real_hours() {
        let berlin = schedule("Europe/Berlin", "22:00", "06:00", &["sat"]);
        berlin.assert_states(&[
            ("2026-10-24T19:00:00Z", CLOSED, "2026-10-24T20:00:00Z"), // Sat 22:00 CEST
            ("2026-10-24T20:00:00Z", OPEN, "2026-10-25T05:00:00Z"),   // Sun 06:00 CET
        ]);
        let hours = real_hours("2026-10-24T20:00:00Z", "2026-10-25T05:00:00Z");
        assert_eq!(hours, 9);
        let new_york = schedule("America/New_York", "22:00", "06:00", &["sat"]);
        new_york.assert_states(&[
            ("2026-11-01T02:00:00Z", OPEN, "2026-11-01T11:00:00Z"), // Sat 22:00 EDT → Sun 06:00 EST
        ]);
        let hours = real_hours("2026-11-01T02:00:00Z", "2026-11-01T11:00:00Z");
        assert_eq!(hours, 9);
    }

    #[test]
    fn window_opening_in_the_fall_fold_uses_the_earlier_instant() {
        let berlin = schedule("Europe/Berlin", "02:30", "05:00", &["sun"]);
        berlin.assert_states(&[
            ("2026-10-25T00:00:00Z", CLOSED, "2026-10-25T00:30:00Z"), // first 02:30 is CEST
            ("2026-10-25T01:30:00Z", OPEN, "2026-10-25T04:00:00Z"),   // 05:00 CET
        ]);
        let new_york = schedule("America/New_York", "01:30", "04:00", &["sun"]);
        new_york.assert_states(&[
            ("2026-11-01T05:00:00Z", CLOSED, "2026-11-01T05:30:00Z"), // first 01:30 is EDT
            ("2026-11-01T06:45:00Z", OPEN, "2026-11-01T09:00:00Z"),   // 04:00 EST
        ]);
    }

    #[test]
    fn weekday_is_taken_from_the_local_date_not_utc() {
        // Mon 2026-06-15 00:30 in Tokyo is still Sunday in UTC.
        let s = schedule("Asia/Tokyo", "00:00", "01:00", &["mon"]);
        s.assert_states(&[("2026-06-14T15:30:00Z", OPEN, "2026-06-14T16:00:00Z")]);
    }
}
