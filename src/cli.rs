//! The administrative subcommands: `init-db`, `create-admin`,
//! `seed-services`, `rotate-signing-key` and the interactive `setup`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context;

use crate::clock::SystemClock;
use crate::config::{Cli, CreateAdminArgs};
use crate::domain::Core;
use crate::domain::password_rules::{NewPassword, Owner};
use crate::domain::service_registry::ServiceRegistration;
use crate::domain::signing::JwsAlgorithm;
use crate::domain::types::{Description, ServiceName, ServiceUrl, Username};
use crate::startup;

async fn open_core(cli: &Cli) -> anyhow::Result<Core> {
    let clock = Arc::new(SystemClock);
    let db = startup::open_database(&cli.database, clock.clone()).await?;
    let public_url = cli.serve.public_url_for(cli.serve.bind);
    let core = startup::core(db, clock, &cli.serve, public_url).await?;
    Ok(core)
}

pub async fn init_db(cli: &Cli) -> anyhow::Result<()> {
    let core = open_core(cli).await?;
    startup::prepare(&core, &cli.serve, &cli.database).await?;
    println!(
        "Database ready at {}",
        redact_url(&cli.database.database_url)
    );
    Ok(())
}

pub async fn create_admin(cli: &Cli, args: &CreateAdminArgs) -> anyhow::Result<()> {
    let username =
        Username::parse(&args.username).map_err(|e| anyhow::anyhow!("username {}", e.message))?;
    let owner = Owner {
        username: Some(username.as_str()),
        email: args.email.as_deref(),
    };
    let password = match &args.password {
        Some(p) => NewPassword::parse("password", p.clone(), owner),
        None => read_new_password(
            &format!("Password for admin '{}'", username.as_str()),
            owner,
        )?,
    }
    .map_err(|e| anyhow::anyhow!("password {}", e.message))?;
    let core = open_core(cli).await?;
    let created = core
        .create_or_reset_admin(&username, args.email.as_deref(), &password)
        .await?;
    if created {
        println!("Created admin '{}'.", username.as_str());
    } else {
        println!("Admin '{}' existed: password changed.", username.as_str());
    }
    Ok(())
}

pub async fn rotate_signing_key(cli: &Cli) -> anyhow::Result<()> {
    let core = open_core(cli).await?;
    let rotation = core.rotate_signing_key().await?;
    for key in &rotation.keys {
        let what = match key.algorithm {
            JwsAlgorithm::EdDSA => "session tokens (EdDSA)",
            JwsAlgorithm::RS256 => "ID tokens (RS256)",
        };
        println!("New signing key {} signs {what} from now on.", key.new_kid);
        if let Some(old) = &key.retired_kid {
            println!(
                "The old key {old} no longer signs; tokens it signed still validate, and it stays \
                 in /.well-known/jwks.json until {} (the longest a session lives).",
                rotation.published_until
            );
        }
    }
    if !rotation
        .keys
        .iter()
        .any(|k| k.algorithm == JwsAlgorithm::RS256)
    {
        println!(
            "There is no RSA key yet: it is made the first time an ID token or the JWKS needs one."
        );
    }
    println!(
        "Running servers sign with the new keys within {} seconds (SIGNING_KEY_RELOAD_SECS).",
        cli.serve.keys.signing_key_reload_secs.max(1)
    );
    Ok(())
}

/// ServiceB and AppC, the seed guide's example services.
const EXAMPLES: [(&str, &str, &str); 2] = [
    ("ServiceB", "Example service B", "http://localhost:8001"),
    ("AppC", "Example application C", "http://localhost:8002"),
];

pub async fn seed_services(cli: &Cli) -> anyhow::Result<()> {
    let core = open_core(cli).await?;
    seed_with(&core).await
}

async fn seed_with(core: &Core) -> anyhow::Result<()> {
    for (name, description, url) in EXAMPLES {
        let name = ServiceName::parse(name).map_err(|e| anyhow::anyhow!(e.message))?;
        if let Some(existing) = core.find_service_by_name(&name).await? {
            println!(
                "{}: already registered (service_id {}); its key was shown when it was created. \
                 Issue a new one with POST /api/services/{}/rotate-key.",
                existing.name, existing.service_id, existing.service_id
            );
            continue;
        }
        let registration = ServiceRegistration {
            name,
            description: Description::parse_optional(Some(description))
                .map_err(|e| anyhow::anyhow!(e.message))?,
            url: ServiceUrl::parse_optional(Some(url)).map_err(|e| anyhow::anyhow!(e.message))?,
            require_credentials: None,
        };
        let (service, api_key) = core.register_service(registration, None).await?;
        println!("{}:", service.name);
        println!("  service_id: {}", service.service_id);
        println!(
            "  api_key:    {}   (shown only now: store it in the service's settings)",
            api_key.expose()
        );
    }
    Ok(())
}

pub async fn setup(cli: &Cli) -> anyhow::Result<()> {
    println!("Central Auth setup");
    println!("1/3 Database: {}", redact_url(&cli.database.database_url));
    let core = open_core(cli).await?;
    startup::prepare(&core, &cli.serve, &cli.database).await?;
    println!("    ready.");
    println!("2/3 Admin account");
    let name = prompt("    Admin username [admin]: ")?;
    let name = if name.trim().is_empty() {
        "admin".to_owned()
    } else {
        name
    };
    let username = Username::parse(&name).map_err(|e| anyhow::anyhow!("username {}", e.message))?;
    let email = prompt("    Admin email (for registration notices, optional): ")?;
    let email = Some(email.trim().to_owned()).filter(|e| !e.is_empty());
    let owner = Owner {
        username: Some(username.as_str()),
        email: email.as_deref(),
    };
    let password = read_new_password("    Admin password", owner)?
        .map_err(|e| anyhow::anyhow!("password {}", e.message))?;
    let created = core
        .create_or_reset_admin(&username, email.as_deref(), &password)
        .await?;
    println!(
        "    {} admin '{}'.",
        if created { "Created" } else { "Updated" },
        username.as_str()
    );
    println!("3/3 Example services");
    seed_with(&core).await?;
    println!("Done. Start the server with `cargo run` (or `central-auth serve`) and open /docs.");
    Ok(())
}

fn prompt(label: &str) -> anyhow::Result<String> {
    print!("{label}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// On a terminal: asks twice without echo. Otherwise: one line from stdin,
/// so scripts can pipe a password in without it showing in `ps`.
fn read_new_password(
    label: &str,
    owner: Owner<'_>,
) -> anyhow::Result<Result<NewPassword, crate::domain::FieldError>> {
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(NewPassword::parse(
            "password",
            line.trim_end_matches(['\r', '\n']).to_owned(),
            owner,
        ));
    }
    loop {
        let first = rpassword::prompt_password(format!("{label} (10+ characters): "))
            .context("reading the password")?;
        let parsed = NewPassword::parse("password", first.clone(), owner);
        if let Err(e) = &parsed {
            println!("    The password {}; try again.", e.message);
            continue;
        }
        let again = rpassword::prompt_password(format!("{label} again: "))
            .context("reading the password")?;
        if again == first {
            return Ok(parsed);
        }
        println!("    The passwords differ; try again.");
    }
}

/// The URL without a password, for printing.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!(
                "{}{}:[redacted]{}",
                &url[..scheme_end + 3],
                user,
                &url[at..]
            )
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(
            redact_url("postgres://auth:s3cret@db:5432/auth"),
            "postgres://auth:[redacted]@db:5432/auth"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
