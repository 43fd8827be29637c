//! `mixed`: a day of real traffic — 90 % validations, 9 % full logins,
//! 1 % logouts — over a shared pool that logins refill and logouts drain,
//! so almost every validation is of a live session.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::{Ctx, Phase, drive};

enum Op {
    Validate(String),
    Logout(String),
    Login,
}

/// Returns the phase and the pool's live sessions afterwards.
pub async fn run(ctx: &Ctx, clients: usize) -> (Phase, Vec<String>) {
    let pool = Arc::new(Mutex::new(ctx.pool.as_ref().clone()));
    let fixture = ctx.fixture.clone();
    let shared = pool.clone();
    let phase = drive(
        &ctx.endpoint,
        clients,
        ctx.duration,
        move |i, mut client, deadline| {
            let (pool, fixture) = (shared.clone(), fixture.clone());
            async move {
                let mut rng = Rng::new(i);
                while Instant::now() < deadline {
                    let roll = rng.below(100);
                    let op = {
                        let mut tokens = pool.lock().unwrap_or_else(PoisonError::into_inner);
                        let at = rng.below(tokens.len());
                        match roll {
                            0..90 => tokens.get(at).cloned().map_or(Op::Login, Op::Validate),
                            // Out of the pool before the logout, so no client
                            // picks it from now on; the last session stays.
                            99 if tokens.len() > 1 => Op::Logout(tokens.swap_remove(at)),
                            _ => Op::Login,
                        }
                    };
                    match op {
                        Op::Validate(token) => {
                            client.validate(&token, &fixture.service).await;
                        }
                        Op::Logout(token) => {
                            client.logout(&token).await;
                        }
                        Op::Login => {
                            let Some(user) = fixture.next_user() else {
                                break;
                            };
                            if let Some(token) = client.login(&fixture.service, user).await {
                                pool.lock()
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .push(token);
                            }
                        }
                    }
                }
                client
            }
        },
    )
    .await;
    let mut survivors = std::mem::take(&mut *pool.lock().unwrap_or_else(PoisonError::into_inner));
    survivors.truncate(ctx.pool.len());
    (phase, survivors)
}

/// xorshift64*: plenty for picking operations, and no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: usize) -> Self {
        Self((seed as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 32) as usize) % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_mix_is_roughly_90_9_1() {
        let mut rng = Rng::new(3);
        let mut counts = [0u32; 3];
        for _ in 0..100_000 {
            match rng.below(100) {
                0..90 => counts[0] += 1,
                90..99 => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        assert!((89_000..91_000).contains(&counts[0]), "{counts:?}");
        assert!((8_500..9_500).contains(&counts[1]), "{counts:?}");
        assert!((800..1_200).contains(&counts[2]), "{counts:?}");
    }
}
