//! Issue 13, "Unicode in names": full names and the other text admins or
//! the phone show refuse bidi controls and invisible characters; email
//! domains are checked under UTS 46 and refused when a label mixes scripts;
//! a valid Unicode domain is one address with its A-label and gets its mail.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Options, TestApp, assert_invalid_field, assert_problem, registration};
use crate::smtp::SmtpServer;

/// A server without request rates: these tests send more registrations
/// from one address than the per-address rate lets through.
async fn spawn() -> TestApp {
    TestApp::spawn_with(Options {
        args: vec!["--rate-limits".into(), "off".into()],
        ..Options::default()
    })
    .await
}

fn with(field: &str, value: &str, username: &str) -> Value {
    let mut body = registration(username);
    body[field] = json!(value);
    body
}

/// The message of the error at `field`.
fn message_at<'a>(problem: &'a Value, field: &str) -> &'a str {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["message"].as_str())
        .unwrap()
}

#[tokio::test]
async fn registration_with_a_bidi_override_in_full_name_is_422_at_full_name() {
    let app = spawn().await;
    // "John Smith" that shows as "John htimS" reversed by U+202E.
    let res = app
        .post(
            "/api/register",
            &with("full_name", "John \u{202E}htimS", "john"),
        )
        .await;
    let problem = assert_invalid_field(res, "full_name").await;
    let message = message_at(&problem, "full_name");
    assert!(
        message.contains("must not contain invisible or text-direction characters"),
        "{message}"
    );
    assert!(message.contains("U+202E"), "{message}");
}

#[tokio::test]
async fn registration_with_invisible_characters_in_full_name_is_422() {
    let app = spawn().await;
    for (i, name) in [
        "Jo\u{200B}hn Smith",      // zero width space
        "John\u{2060}Smith",       // word joiner
        "\u{3164}",                // Hangul filler alone: a blank name
        "John \u{E0041}\u{E0042}", // tag characters hide text
        "\u{0301}\u{0301}",        // nothing but combining marks
        "Jo\u{200D}hn",            // a joiner between Latin letters
        "John\u{E000}",            // private use
    ]
    .into_iter()
    .enumerate()
    {
        let res = app
            .post(
                "/api/register",
                &with("full_name", name, &format!("john{i}")),
            )
            .await;
        assert_invalid_field(res, "full_name").await;
    }
    assert_eq!(
        app.admin_json(&app.admin_token().await, "/api/admin/pending")
            .await["items"],
        json!([])
    );
}

#[tokio::test]
async fn names_that_need_joiners_or_emoji_are_accepted() {
    let app = spawn().await;
    let token = app.admin_token().await;
    // Persian writes ZWNJ inside names; Devanagari uses ZWJ after a virama.
    for (i, name) in [
        "زهرا نیک\u{200C}نام",
        "क्\u{200D}षमा",
        "Ana 👩\u{200D}💻",
        "Zoë Ñúñez",
    ]
    .into_iter()
    .enumerate()
    {
        let res = app
            .post(
                "/api/register",
                &with("full_name", name, &format!("ana{i}")),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{name:?}");
    }
    let pending = app.admin_json(&token, "/api/admin/pending").await;
    let names: Vec<&str> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["full_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"زهرا نیک\u{200C}نام"), "{names:?}");
}

#[tokio::test]
async fn registration_with_a_mixed_script_domain_is_422_at_email() {
    let app = spawn().await;
    // "pаypal.com" with U+0430 CYRILLIC SMALL LETTER A, typed and as its A-label.
    for (i, email) in ["john@p\u{0430}ypal.com", "john@xn--pypal-4ve.com"]
        .into_iter()
        .enumerate()
    {
        let res = app
            .post("/api/register", &with("email", email, &format!("john{i}")))
            .await;
        let problem = assert_invalid_field(res, "email").await;
        assert!(
            message_at(&problem, "email").contains("mix scripts"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn registration_with_a_domain_invalid_under_uts46_is_422_at_email() {
    let app = spawn().await;
    for (i, email) in [
        "john@exa_mple.com",
        "john@xn--a.com",
        "john@example.com.",
        "john@exam\u{200B}ple.com",
        "john@bad\u{202E}moc.example",
    ]
    .into_iter()
    .enumerate()
    {
        let res = app
            .post("/api/register", &with("email", email, &format!("john{i}")))
            .await;
        assert_invalid_field(res, "email").await;
    }
}

#[tokio::test]
async fn an_idn_domain_is_accepted_and_the_approval_email_goes_out_to_its_a_label() {
    // The SMTP listener offers no SMTPUTF8: mail must go to the A-label.
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with(Options {
        smtp_port: Some(smtp.port),
        ..Options::default()
    })
    .await;
    let token = app.admin_token().await;
    let res = app
        .post(
            "/api/register",
            &with("email", "Anna@Bücher.example", "anna"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user_id = res.json::<Value>().await.unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Admins see the address as it was typed.
    let pending = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(pending["items"][0]["email"], "Anna@Bücher.example");

    let res = app.approve(&token, &user_id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mail = &smtp.to("Anna@xn--bcher-kva.example").await[0];
    assert_eq!(mail.subject, "Your Central Auth account is active");
}

#[tokio::test]
async fn a_unicode_domain_and_its_a_label_are_one_address() {
    let app = spawn().await;
    let res = app
        .post("/api/register", &with("email", "a@bücher.example", "first"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for (i, same) in ["a@xn--bcher-kva.example", "A@BÜCHER.EXAMPLE"]
        .into_iter()
        .enumerate()
    {
        let res = app
            .post("/api/register", &with("email", same, &format!("second{i}")))
            .await;
        assert_problem(res, StatusCode::CONFLICT, "email_taken").await;
    }
}

#[tokio::test]
async fn service_names_descriptions_urls_and_rejection_reasons_refuse_disguises() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let res = app
        .admin_post(
            &token,
            "/api/services/register",
            Some(&json!({"name": "Service\u{202E}B"})),
        )
        .await;
    assert_invalid_field(res, "name").await;
    let res = app
        .admin_post(
            &token,
            "/api/services/register",
            Some(&json!({"name": "ServiceB", "description": "pay\u{200B}roll"})),
        )
        .await;
    assert_invalid_field(res, "description").await;
    // The phone shows the service's host as the one to check: no look-alike.
    let res = app
        .admin_post(
            &token,
            "/api/services/register",
            Some(&json!({"name": "ServiceB", "url": "https://p\u{0430}ypal.com"})),
        )
        .await;
    assert_invalid_field(res, "url").await;
    let res = app
        .admin_post(
            &token,
            "/api/services/register",
            Some(&json!({"name": "ServiceB", "url": "https://bücher.example"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let user_id = app.register("john").await;
    let res = app
        .reject(
            &token,
            &user_id,
            Some(&json!({"reason": "unknown \u{2067}person"})),
        )
        .await;
    assert_invalid_field(res, "reason").await;
    // Nothing was rejected: the registration still waits.
    let pending = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(pending["items"][0]["user_id"], user_id.as_str());
}

#[tokio::test]
async fn email_keys_stored_with_a_unicode_domain_are_rewritten_at_start() {
    let app = spawn().await;
    let db = app.database();
    let res = app
        .post(
            "/api/register",
            &with("email", "Anna@Bücher.example", "anna"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.stop().await;

    // As a server before issue 13 stored it: the whole address lower-cased,
    // and the upgrade not yet run.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE account_names SET email_lower = 'anna@bücher.example'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM data_upgrades")
        .execute(&pool)
        .await
        .unwrap();

    let app = TestApp::spawn_with(Options {
        database: Some(db.clone()),
        args: vec!["--rate-limits".into(), "off".into()],
        ..Options::default()
    })
    .await;
    let (key,): (String,) = sqlx::query_as("SELECT email_lower FROM account_names")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(key, "anna@xn--bcher-kva.example");
    let res = app
        .post(
            "/api/register",
            &with("email", "anna@xn--bcher-kva.example", "other"),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "email_taken").await;
    pool.close().await;
}
