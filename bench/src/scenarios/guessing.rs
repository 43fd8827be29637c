//! `guessing`: a guessing script against one account — `guessers` clients,
//! each from an address of its own (a botnet, so that per-address limits do
//! not do the work), sending wrong passwords for one user as fast as the
//! server answers. Beside it, the usual validate clients and one client
//! signing other people in with their right passwords. Reported: how many
//! guesses the server checked (the per-account delay in the database should
//! hold them to a handful a minute), validations/s against undisturbed, and
//! whether the other sign-ins went through.
//!
//! Needs a server with the limits on (`--limits on`): with them off every
//! guess is checked.

use std::time::Instant;

use super::{Ctx, Phase, drive, simple};
use crate::api::VClient;
use crate::prepare::Fixture;
use crate::record::Recorder;

/// The validations, the guesses and the other sign-ins, side by side for
/// `guess_duration`.
pub async fn run(ctx: &Ctx, clients: usize) -> (Phase, Phase, Phase) {
    let (victim, bystanders) = match accounts(ctx).await {
        Ok(accounts) => accounts,
        Err(rec) => {
            let failed = |rec| Phase {
                rec,
                elapsed: std::time::Duration::ZERO,
            };
            return (
                failed(rec),
                failed(Recorder::default()),
                failed(Recorder::default()),
            );
        }
    };
    let guesses = drive(
        &ctx.endpoint,
        ctx.guessers,
        ctx.guess_duration,
        move |i, mut client, deadline| {
            let victim = victim.clone();
            async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    client.guess(&victim, &format!("guess {i} {n}")).await;
                    n += 1;
                }
                client
            }
        },
    );
    let fixture = ctx.fixture.clone();
    let others = drive(
        &ctx.endpoint,
        1,
        ctx.guess_duration,
        move |_, mut client, deadline| {
            let (fixture, bystanders) = (fixture.clone(), bystanders.clone());
            async move {
                let password = fixture.user_password();
                let mut n = 0usize;
                while Instant::now() < deadline {
                    // Each sign-in is another person on a device of their own.
                    client.conn.new_address();
                    let who = &bystanders[n % bystanders.len()];
                    client.mobile_login(who, &password).await;
                    n += 1;
                }
                client
            }
        },
    );
    tokio::join!(
        simple::validate_for(ctx, clients, ctx.guess_duration),
        guesses,
        others
    )
}

/// People the scenario may sign in and out as it likes: the one under
/// attack and the others, registered and approved for it (a sign-in gives
/// them a new `auth_key`, so the fixture's enrolled users are left alone).
async fn accounts(ctx: &Ctx) -> Result<(String, Vec<String>), Recorder> {
    let fixture: &Fixture = &ctx.fixture;
    let mut client = VClient::new(ctx.endpoint.clone());
    let Some(admin_token) = client
        .admin_login(&fixture.admin_user, &fixture.admin_password)
        .await
    else {
        return Err(client.rec);
    };
    let password = fixture.user_password();
    let mut names = Vec::new();
    for _ in 0..4 {
        let username = fixture.fresh_username();
        client.conn.new_address();
        let Some(user_id) = client.register(&username, &password).await else {
            return Err(client.rec);
        };
        if client.approve(&admin_token, &user_id).await.is_none() {
            return Err(client.rec);
        }
        names.push(username);
    }
    let victim = names.remove(0);
    Ok((victim, names))
}
