//! What the visitor reads for each `status`, `code` and `reason` Central
//! Auth can answer: the `match`es a service copies when it switches on them.

use crate::central_auth::Problem;

/// The status line under the QR code.
pub struct StatusLine {
    pub text: &'static str,
    /// Nothing more will happen to this code: stop polling.
    pub ended: bool,
    /// Follow the text with a "get a new code" link.
    pub offer_new_code: bool,
}

pub fn qr_status(status: &str) -> StatusLine {
    let (text, ended, offer_new_code) = match status {
        "pending" => ("waiting for the scan", false, false),
        "scanned" => ("scanned — enter the PIN shown on your phone", false, false),
        "verified" => ("verified", true, false),
        "expired" => ("expired", true, true),
        "locked" => ("locked after too many wrong PINs", true, true),
        "denied" => ("denied", true, false),
        // A status newer than this example: say nothing wrong, keep waiting.
        _ => ("waiting", false, false),
    };
    StatusLine {
        text,
        ended,
        offer_new_code,
    }
}

/// No QR code on the server for this visitor (none asked for, or forgotten).
pub fn no_login() -> StatusLine {
    StatusLine {
        text: "no login in progress",
        ended: true,
        offer_new_code: true,
    }
}

/// Why `pin/verify` refused, for the re-shown login page.
pub struct Refusal {
    pub message: String,
    /// The QR code is still usable (a typo, not yet scanned, …): show it
    /// and the PIN form again. Otherwise offer a new code.
    pub code_still_usable: bool,
}

pub fn pin_refused(problem: &Problem) -> Refusal {
    let usable = |m: &str| Refusal {
        message: m.to_owned(),
        code_still_usable: true,
    };
    let ended = |m: &str| Refusal {
        message: m.to_owned(),
        code_still_usable: false,
    };
    match problem.code.as_str() {
        "invalid_pin" => match problem.attempts_remaining.unwrap_or(0) {
            n if n <= 0 => ended("Wrong PIN, and no attempts are left. Get a new code."),
            1 => usable("Wrong PIN — 1 attempt remaining."),
            n => Refusal {
                message: format!("Wrong PIN — {n} attempts remaining."),
                code_still_usable: true,
            },
        },
        "too_many_attempts" => ended("Too many wrong PINs: this code is locked. Get a new code."),
        "qr_not_scanned" => {
            usable("Scan the QR code with the Central Auth app first, then enter the PIN it shows.")
        }
        "validation_failed" => usable("The PIN is the 6 digits shown on your phone."),
        "rate_limited" => usable("Too many tries in a short time. Wait a moment and try again."),
        "pin_expired" => ended("The PIN has expired (it is valid for 5 minutes). Get a new code."),
        "qr_expired" => {
            ended("The QR code has expired (it is valid for 2 minutes). Get a new code.")
        }
        "qr_already_used" => ended("This code has already been used. Get a new code."),
        "qr_denied" => {
            ended("This login was denied on the phone. Get a new code if that was a mistake.")
        }
        "qr_not_found" => ended("Central Auth does not know this code. Get a new code."),
        "user_inactive" => ended("Your Central Auth account is deactivated. Ask an administrator."),
        "system_closed" => ended(&closed(problem)),
        // Our own credentials or registration: nothing the visitor can fix.
        "invalid_api_key" | "wrong_service" | "service_inactive" => ended(misconfigured()),
        other => Refusal {
            message: format!("Central Auth refused the login ({other}). Get a new code."),
            code_still_usable: false,
        },
    }
}

/// Why a session ended, from `validate-session`'s `reason`.
pub fn session_ended(reason: &str) -> &'static str {
    match reason {
        "expired" => "it expired after a while without activity",
        "logged_out" => "you logged out",
        "revoked" => "an administrator ended it",
        "user_inactive" => "your account was deactivated",
        "service_inactive" => "this service was switched off at Central Auth",
        "wrong_service" => "it belongs to another service",
        _ => "it is not valid",
    }
}

/// `system_closed`: logins happen only within operating hours.
pub fn closed(problem: &Problem) -> String {
    match &problem.opens_at {
        Some(at) => format!("Logins are closed outside operating hours. They open again at {at}."),
        None => "Logins are closed for now.".to_owned(),
    }
}

pub fn misconfigured() -> &'static str {
    "This site is not set up correctly with Central Auth, so it cannot log you in. \
     Please tell the site's operators."
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(code: &str, attempts: Option<i64>) -> Problem {
        Problem {
            status: 401,
            code: code.to_owned(),
            title: String::new(),
            attempts_remaining: attempts,
            opens_at: None,
            retry_after: None,
        }
    }

    #[test]
    fn a_wrong_pin_says_how_many_attempts_remain() {
        let r = pin_refused(&problem("invalid_pin", Some(3)));
        assert_eq!(r.message, "Wrong PIN — 3 attempts remaining.");
        assert!(r.code_still_usable);
        assert!(!pin_refused(&problem("invalid_pin", Some(0))).code_still_usable);
    }

    #[test]
    fn dead_codes_offer_a_new_one() {
        for code in [
            "too_many_attempts",
            "pin_expired",
            "qr_expired",
            "qr_denied",
            "surprise",
        ] {
            assert!(
                !pin_refused(&problem(code, None)).code_still_usable,
                "{code}"
            );
        }
    }

    #[test]
    fn the_status_line_reads_as_the_spec_says() {
        assert_eq!(
            qr_status("scanned").text,
            "scanned — enter the PIN shown on your phone"
        );
        assert!(qr_status("expired").ended);
        assert!(!qr_status("pending").ended);
    }
}
