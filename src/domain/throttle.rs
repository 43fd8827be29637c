//! Password guessing: every password sign-in (phone, admin API, console)
//! first reserves its attempt against the account's failure count, kept in
//! the database so that all instances of a cluster share it. The first few
//! failures are free; after them each attempt waits a growing delay (1 s,
//! 2 s, 4 s … capped), refused meanwhile as 429 before any hashing. There is
//! no lockout: once the delay has passed, the right password works, so an
//! attacker can slow an admin down but not lock them out. The account is
//! named by what was typed, whether or not it exists, so an unknown name is
//! refused exactly like a known one.
//!
//! Failures are also counted per client address, in memory (per instance),
//! so that one address spraying guesses over many accounts is slowed too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

use crate::domain::model::ClientInfo;
use crate::domain::rates::{Rate, address_key};
use crate::domain::types::Username;
use crate::domain::{Core, DomainError};

/// Which password sign-in: people on their phone, or admins (the API and
/// the console share one count per admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    Mobile,
    Admin,
}

impl SignIn {
    /// As written to the audit trail (`sign_in`).
    pub fn as_str(self) -> &'static str {
        match self {
            SignIn::Mobile => "mobile",
            SignIn::Admin => "admin",
        }
    }
}

/// Names typed longer than this are counted by their first this many
/// characters: no account name is that long, and a key stays small.
const KEY_CHARS: usize = 128;

/// The key an account's failures are counted under: the kind and the name
/// as typed, folded as accounts are looked up (trimmed, NFKC, lower-cased:
/// `Username::fold`), so other spellings of one name share its count.
pub fn account_key(kind: SignIn, typed: &str) -> String {
    // Cut before folding, so a huge name costs nothing to normalise.
    let head: String = typed.trim().chars().take(KEY_CHARS).collect();
    let name: String = Username::fold(&head).chars().take(KEY_CHARS).collect();
    format!("{}:{name}", kind.as_str())
}

/// The password-guessing settings (`SIGNIN_*`); `None` when `RATE_LIMITS=off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessingPolicy {
    /// Failures before the first delay.
    pub free_failures: u32,
    /// The longest delay between two attempts on one account.
    pub max_delay: SignedDuration,
    /// An account's count starts again after this long without an attempt.
    pub forget_after: SignedDuration,
    /// Failed sign-ins one address may make (any accounts); `None`: no limit.
    pub per_address: Option<Rate>,
}

impl Default for GuessingPolicy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            max_delay: SignedDuration::from_mins(15),
            forget_after: SignedDuration::from_hours(12),
            per_address: Some(Rate {
                per_minute: 10,
                burst: 20,
            }),
        }
    }
}

impl GuessingPolicy {
    /// How long an account waits after `failures` failed attempts: nothing
    /// for the free ones, then 1 s doubling with each failure up to the cap.
    pub fn delay_after(&self, failures: u32) -> SignedDuration {
        let Some(over) = failures.checked_sub(self.free_failures) else {
            return SignedDuration::ZERO;
        };
        // 2^30 s is far past any sensible cap; the shift cannot overflow.
        let secs = 1i64 << over.min(30);
        SignedDuration::from_secs(secs).min(self.max_delay)
    }
}

/// An account's failures as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub failures: u32,
    /// No attempt is checked before this moment.
    pub next_attempt_at: Timestamp,
    pub last_attempt_at: Timestamp,
}

/// What the policy says about an attempt on an account in state `current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go on; `next` is the state to store (the attempt counted as a
    /// failure up front, so parallel attempts cannot all slip through).
    Check { next: FailureCount },
    /// Refused; the wait until the next attempt may be checked.
    Wait(SignedDuration),
}

impl GuessingPolicy {
    pub fn decide(&self, current: Option<&FailureCount>, now: Timestamp) -> Decision {
        let failures = match current {
            Some(c) if now < c.next_attempt_at => {
                return Decision::Wait(c.next_attempt_at.duration_since(now));
            }
            Some(c) if now.duration_since(c.last_attempt_at) < self.forget_after => c.failures,
            _ => 0,
        };
        let failures = failures.saturating_add(1);
        let next_attempt_at = now
            .checked_add(self.delay_after(failures))
            .unwrap_or(Timestamp::MAX);
        Decision::Check {
            next: FailureCount {
                failures,
                next_attempt_at,
                last_attempt_at: now,
            },
        }
    }
}

/// Whole seconds for `Retry-After`, rounded up (a client that waits that
/// long is let in), at least 1.
fn whole_secs(wait: SignedDuration) -> u64 {
    let secs = wait.as_secs() + i64::from(wait.subsec_nanos() > 0);
    u64::try_from(secs.max(1)).unwrap_or(1)
}

/// Failed sign-ins per address: a GCRA over the domain clock, so it can be
/// looked at without counting (governor's limiter counts on every check,
/// and only failures should count here).
pub(crate) struct AddressFailures {
    rate: Option<Rate>,
    /// Per address, the theoretical time its budget is full again.
    full_at: Mutex<HashMap<IpAddr, Timestamp>>,
}

impl AddressFailures {
    pub(crate) fn new(rate: Option<Rate>) -> Self {
        Self {
            rate: rate.filter(|r| r.per_minute > 0),
            full_at: Mutex::new(HashMap::new()),
        }
    }

    fn interval(rate: Rate) -> SignedDuration {
        SignedDuration::from_secs(60) / i32::try_from(rate.per_minute).unwrap_or(i32::MAX)
    }

    fn burst(rate: Rate) -> i32 {
        i32::try_from(if rate.burst == 0 {
            rate.per_minute
        } else {
            rate.burst
        })
        .unwrap_or(i32::MAX)
    }

    /// Refused while the address has used its budget of failures.
    pub(crate) fn check(&self, ip: IpAddr, now: Timestamp) -> Result<(), SignedDuration> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let map = self.full_at.lock().unwrap_or_else(|p| p.into_inner());
        let Some(full_at) = map.get(&ip) else {
            return Ok(());
        };
        // Each failure moves `full_at` one interval on; the budget is spent
        // when it is a whole burst ahead of now.
        let allowed_until = Self::interval(rate) * Self::burst(rate);
        let ahead = full_at.duration_since(now);
        if ahead >= allowed_until {
            Err(ahead - allowed_until + Self::interval(rate))
        } else {
            Ok(())
        }
    }

    pub(crate) fn failed(&self, ip: IpAddr, now: Timestamp) {
        let Some(rate) = self.rate else {
            return;
        };
        let mut map = self.full_at.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(ip).or_insert(now);
        let from = (*entry).max(now);
        *entry = from.checked_add(Self::interval(rate)).unwrap_or(from);
    }

    /// Forgets addresses whose budget is full again (on a timer).
    pub(crate) fn upkeep(&self, now: Timestamp) {
        let mut map = self.full_at.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, full_at| *full_at > now);
        map.shrink_to_fit();
    }
}

/// A reserved attempt: settled by `Core::sign_in_settled` once the password
/// was checked.
#[derive(Debug)]
pub(crate) struct Reservation {
    kind: SignIn,
    key: String,
    typed: String,
    client: ClientInfo,
}

/// Attempts at reserving before giving up on a contended account.
const RESERVE_TRIES: usize = 5;

impl Core {
    /// Reserves a password check for the account named `typed`, or refuses
    /// it with 429 (written to the audit trail) while the account or the
    /// address must wait. No hashing happens before this.
    pub(crate) async fn reserve_sign_in(
        &self,
        kind: SignIn,
        typed: &str,
        client: &ClientInfo,
    ) -> Result<Reservation, DomainError> {
        let reservation = Reservation {
            kind,
            key: account_key(kind, typed),
            typed: typed.trim().chars().take(KEY_CHARS).collect(),
            client: client.clone(),
        };
        let Some(policy) = self.settings.guessing else {
            return Ok(reservation);
        };
        let now = self.now();
        let ip = address_key(client.ip.as_deref());
        let wait = match self.address_failures.check(ip, now) {
            Err(wait) => Some(wait),
            Ok(()) => self.reserve_in_db(&policy, &reservation.key, now).await?,
        };
        match wait {
            None => Ok(reservation),
            Some(wait) => {
                let refused = DomainError::RateLimited {
                    retry_after: whole_secs(wait),
                };
                self.record_sign_in(&reservation, None, refused.code())
                    .await;
                Err(refused)
            }
        }
    }

    /// The compare-and-set loop: the stored count moves on only if no other
    /// attempt (on any instance) moved it since it was read.
    async fn reserve_in_db(
        &self,
        policy: &GuessingPolicy,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<SignedDuration>, DomainError> {
        for _ in 0..RESERVE_TRIES {
            let current = self.db.sign_in_failures(key).await?;
            match policy.decide(current.as_ref(), now) {
                Decision::Wait(wait) => return Ok(Some(wait)),
                Decision::Check { next } => {
                    if self
                        .db
                        .advance_sign_in_failures(key, current.as_ref(), &next)
                        .await?
                    {
                        return Ok(None);
                    }
                }
            }
        }
        // Contended by as many parallel attempts as tries: a flood on this
        // account; the next second is soon enough.
        Ok(Some(SignedDuration::from_secs(1)))
    }

    /// After the password check: a success clears the account's count, a
    /// failure stays counted (it was, up front) and is written to the audit
    /// trail, with the user it was for when the name is a person's.
    pub(crate) async fn sign_in_settled(
        &self,
        reservation: Reservation,
        user: Option<&crate::domain::types::UserId>,
        succeeded: bool,
    ) {
        if succeeded {
            if self.settings.guessing.is_some()
                && let Err(e) = self.db.clear_sign_in_failures(&reservation.key).await
            {
                tracing::warn!(error = %e, "could not clear a sign-in failure count");
            }
            return;
        }
        self.address_failures
            .failed(address_key(reservation.client.ip.as_deref()), self.now());
        self.record_sign_in(&reservation, user, DomainError::InvalidCredentials.code())
            .await;
    }

    async fn record_sign_in(
        &self,
        r: &Reservation,
        user: Option<&crate::domain::types::UserId>,
        outcome: &str,
    ) {
        let attempt = crate::domain::login::records::Attempt {
            user_id: user,
            service_id: None,
            qr_id: None,
            outcome,
            at: self.now(),
            ip: r.client.ip.as_deref(),
            user_agent: r.client.user_agent.as_deref(),
            sign_in: Some((r.kind.as_str(), r.typed.as_str())),
        };
        if let Err(e) = self.db.record_attempt(&attempt).await {
            tracing::error!(error = %e, outcome, "could not record a sign-in attempt");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    #[test]
    fn the_delay_is_free_then_doubles_up_to_the_cap() {
        let policy = GuessingPolicy::default();
        let delays: Vec<i64> = (0..=14).map(|n| policy.delay_after(n).as_secs()).collect();
        assert_eq!(
            delays,
            [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(policy.delay_after(u32::MAX).as_secs(), 900);
    }

    #[test]
    fn an_attempt_waits_out_the_delay_and_counts_up_front() {
        let policy = GuessingPolicy::default();
        let mut state: Option<FailureCount> = None;
        // Three free attempts at the same instant, each counted.
        for n in 1..=3 {
            match policy.decide(state.as_ref(), at(0)) {
                Decision::Check { next } => {
                    assert_eq!(next.failures, n);
                    state = Some(next);
                }
                other => panic!("attempt {n}: {other:?}"),
            }
        }
        assert_eq!(state.unwrap().next_attempt_at, at(1));
        assert_eq!(
            policy.decide(state.as_ref(), at(0)),
            Decision::Wait(SignedDuration::from_secs(1))
        );
        // After the wait, the fourth is checked and sets a 2 s wait.
        let Decision::Check { next } = policy.decide(state.as_ref(), at(1)) else {
            panic!("the fourth attempt after 1 s is checked");
        };
        assert_eq!((next.failures, next.next_attempt_at), (4, at(3)));
        // A long quiet forgets the count.
        let Decision::Check { next } = policy.decide(Some(&next), at(13 * 3600)) else {
            panic!("checked after the quiet");
        };
        assert_eq!(next.failures, 1);
    }

    #[test]
    fn an_address_is_refused_past_its_burst_of_failures_and_recovers() {
        let failures = AddressFailures::new(Some(Rate {
            per_minute: 10,
            burst: 3,
        }));
        let ip = IpAddr::from([192, 0, 2, 1]);
        for _ in 0..3 {
            assert!(failures.check(ip, at(0)).is_ok());
            failures.failed(ip, at(0));
        }
        let wait = failures.check(ip, at(0)).unwrap_err();
        assert_eq!(wait, SignedDuration::from_secs(6));
        assert!(failures.check(IpAddr::from([192, 0, 2, 2]), at(0)).is_ok());
        // One interval (6 s) gives one failure back.
        assert!(failures.check(ip, at(6)).is_ok());
        failures.upkeep(at(60));
        assert_eq!(failures.full_at.lock().unwrap().len(), 0);
    }

    #[test]
    fn keys_fold_case_and_separate_the_kinds() {
        assert_eq!(account_key(SignIn::Mobile, "  Alice "), "mobile:alice");
        assert_ne!(
            account_key(SignIn::Mobile, "alice"),
            account_key(SignIn::Admin, "alice")
        );
        assert_eq!(
            account_key(SignIn::Admin, &"x".repeat(10_000)).len(),
            6 + 128
        );
    }

    #[test]
    fn keys_fold_unicode_forms_as_names_are_looked_up() {
        // Fullwidth "Alice": a guesser cannot get a fresh count by
        // respelling the name.
        let fullwidth = "\u{ff21}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}";
        assert_eq!(account_key(SignIn::Mobile, fullwidth), "mobile:alice");
        let long = "\u{ff41}".repeat(10_000);
        assert_eq!(account_key(SignIn::Admin, &long).len(), 6 + 128);
    }
}
