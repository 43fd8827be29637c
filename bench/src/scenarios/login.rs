//! `login`: full logins back to back, each client taking the users in turn
//! (a QR code is single-use, so every login is a new generate → scan → verify).

use std::time::Instant;

use super::{Ctx, Phase, drive};

pub async fn run(ctx: &Ctx, clients: usize) -> Phase {
    let fixture = ctx.fixture.clone();
    drive(
        &ctx.endpoint,
        clients,
        ctx.duration,
        move |_, mut client, deadline| {
            let fixture = fixture.clone();
            async move {
                while Instant::now() < deadline {
                    let Some(user) = fixture.next_user() else {
                        break;
                    };
                    client.login(&fixture.service, user).await;
                }
                client
            }
        },
    )
    .await
}
