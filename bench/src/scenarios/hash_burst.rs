//! `hash-burst`: validations while other clients register and sign admins
//! in as fast as they can — each one an Argon2id hash on the server — to
//! show whether password hashing can starve everything else.

use std::time::Instant;

use super::{Ctx, Phase, drive, simple};

/// The validations and the burst, run side by side for the same time.
pub async fn run(ctx: &Ctx, clients: usize) -> (Phase, Phase) {
    let fixture = ctx.fixture.clone();
    // With the limits on, concurrent sign-ins of one account are refused
    // (429) rather than raced, so only one client signs the admin in.
    let one_admin_client = ctx.endpoint.forwarded;
    let burst = drive(
        &ctx.endpoint,
        ctx.burst,
        ctx.duration,
        move |i, mut client, deadline| {
            let fixture = fixture.clone();
            async move {
                let password = fixture.user_password();
                let mut n = i;
                while Instant::now() < deadline {
                    // Another person each time, as a burst of sign-ups and
                    // sign-ins is (with the limits on, rates are per address).
                    client.conn.new_address();
                    if n % 2 == 0 || (one_admin_client && i != 1) {
                        client.register(&fixture.fresh_username(), &password).await;
                    } else {
                        client
                            .admin_login(&fixture.admin_user, &fixture.admin_password)
                            .await;
                    }
                    n += 1;
                }
                client
            }
        },
    );
    tokio::join!(simple::validate(ctx, clients), burst)
}
