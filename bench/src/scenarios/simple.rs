//! The one-request scenarios: `healthz` (the ceiling) and `validate`.

use std::time::{Duration, Instant};

use super::{Ctx, Phase, drive};

pub async fn healthz(ctx: &Ctx, clients: usize) -> Phase {
    drive(
        &ctx.endpoint,
        clients,
        ctx.duration,
        |_, mut client, deadline| async move {
            while Instant::now() < deadline {
                client.healthz().await;
            }
            client
        },
    )
    .await
}

/// Each client walks the pool with a stride of `clients`, so the clients
/// together validate every session in turn.
pub async fn validate(ctx: &Ctx, clients: usize) -> Phase {
    validate_for(ctx, clients, ctx.duration).await
}

/// `validate` for another time than the scenario's (beside `guessing`).
pub async fn validate_for(ctx: &Ctx, clients: usize, duration: Duration) -> Phase {
    let pool = ctx.pool.clone();
    let fixture = ctx.fixture.clone();
    drive(
        &ctx.endpoint,
        clients,
        duration,
        move |i, mut client, deadline| {
            let (pool, fixture) = (pool.clone(), fixture.clone());
            async move {
                let mut next = i;
                while Instant::now() < deadline {
                    let Some(token) = pool.get(next % pool.len().max(1)) else {
                        break;
                    };
                    client.validate(token, &fixture.service).await;
                    next += clients;
                }
                client
            }
        },
    )
    .await
}
