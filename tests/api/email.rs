//! Issue 4: every email the system owes reaches a real SMTP listener, and
//! none is lost while the mail server is down or Central Auth restarts.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::{Flow, text};
use crate::harness::{Options, TestApp, registration};
use crate::smtp::{SmtpServer, free_port};

async fn app_with_mail(smtp: &SmtpServer) -> TestApp {
    TestApp::spawn_with(Options {
        smtp_port: Some(smtp.port),
        ..Options::default()
    })
    .await
}

async fn outbox(app: &TestApp, token: &str) -> Vec<Value> {
    let body = app.admin_json(token, "/api/admin/outbox").await;
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn registration_notifies_the_admins() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    let res = app
        .post(
            "/api/register",
            &json!({"email": "jane@example.com", "username": "jane", "password": "correct horse battery",
                    "full_name": "Jane Doe", "phone": "+15551234567"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mail = &smtp.to("ops@example.com").await[0];
    assert_eq!(mail.subject, "New registration: Jane Doe (jane)");
    for expected in [
        "Jane Doe",
        "jane@example.com",
        "+15551234567",
        "/admin/pending",
    ] {
        assert!(
            mail.text.contains(expected),
            "{expected} missing from {}",
            mail.text
        );
        assert!(
            mail.html.contains(expected),
            "{expected} missing from {}",
            mail.html
        );
    }
}

#[tokio::test]
async fn approval_tells_the_user_how_to_set_up_the_app() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    let token = app.admin_token().await;
    app.active_user(&token, "john").await;
    let mail = &smtp.to("john@example.com").await[0];
    assert_eq!(mail.subject, "Your Central Auth account is active");
    assert!(
        mail.text.contains(&format!("{}/app", app.base)),
        "{}",
        mail.text
    );
    assert!(
        mail.html.contains(&format!("href=\"{}/app\"", app.base)),
        "{}",
        mail.html
    );
    assert!(mail.text.contains("john"));
}

#[tokio::test]
async fn rejection_gives_the_reason() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    let res = app
        .reject(&token, &id, Some(&json!({"reason": "Unknown applicant"})))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mail = &smtp.to("john@example.com").await[0];
    assert_eq!(
        mail.subject,
        "Your Central Auth registration was not approved"
    );
    assert!(mail.text.contains("Unknown applicant"));
    assert!(mail.html.contains("Unknown applicant"));
}

#[tokio::test]
async fn enrolling_a_device_sends_a_security_notice() {
    let smtp = SmtpServer::start().await;
    let flow = Flow::start_on(app_with_mail(&smtp).await).await;
    let notice = smtp
        .with_subject("Your authenticator was set up on a new device")
        .await;
    assert_eq!(notice.to, vec!["john@example.com"]);
    assert!(notice.text.contains("127.0.0.1"), "{}", notice.text);
    assert!(notice.text.contains("2026-11-25T12:00:00Z"));
    // A second enrolment, a second notice.
    flow.phone_login("john").await;
    smtp.wait_for(4).await;
    let notices = smtp
        .received()
        .into_iter()
        .filter(|m| m.subject == notice.subject)
        .count();
    assert_eq!(notices, 2);
}

#[tokio::test]
async fn html_typed_by_a_user_arrives_escaped() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    let mut body = registration("mallory");
    body["full_name"] = json!("<script>alert(1)</script> & <b>Co</b>");
    assert_eq!(
        app.post("/api/register", &body).await.status(),
        StatusCode::CREATED
    );
    let mail = &smtp.to("ops@example.com").await[0];
    assert!(!mail.html.contains("<script>"), "{}", mail.html);
    assert!(!mail.html.contains("<b>Co</b>"));
    assert!(
        mail.html.contains("&#60;script&#62;") || mail.html.contains("&lt;script&gt;"),
        "{}",
        mail.html
    );
    // The plain-text body is not HTML: it keeps the name as typed.
    assert!(mail.text.contains("<script>alert(1)</script> & <b>Co</b>"));
}

#[tokio::test]
async fn a_denied_login_alerts_the_admins() {
    let smtp = SmtpServer::start().await;
    let flow = Flow::start_on(app_with_mail(&smtp).await).await;
    let qr = flow.qr().await;
    flow.deny(&qr).await;
    let alert = smtp.with_subject("Login denied by john for ServiceB").await;
    assert_eq!(alert.to, vec!["ops@example.com"]);
    assert!(alert.text.contains("/admin/history"), "{}", alert.text);
    let alerts = [alert];
    assert_eq!(alerts[0].subject, "Login denied by john for ServiceB");
    assert!(alerts[0].text.contains("john"));
}

#[tokio::test]
async fn the_outbox_lists_sent_mail() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    let token = app.admin_token().await;
    app.register("john").await;
    smtp.to("ops@example.com").await;
    let mut items = outbox(&app, &token).await;
    for _ in 0..50 {
        if items[0]["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        items = outbox(&app, &token).await;
    }
    let item = &items[0];
    assert_eq!(item["kind"], "registration_received");
    assert_eq!(item["recipient"], "ops@example.com");
    assert_eq!(item["subject"], "New registration: John Smith (john)");
    assert_eq!(item["status"], "sent");
    assert_eq!(item["attempts"], 1);
    assert_eq!(item["last_error"], Value::Null);
    assert_eq!(item["sent_at"], "2026-11-25T12:00:00Z");
}

/// Without a mail server the message goes to the log, and the outbox says
/// so: `logged`, never `sent`, because nobody received it.
#[tokio::test]
async fn mail_written_only_to_the_log_is_logged_not_sent() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.register("john").await;
    let mut items = outbox(&app, &token).await;
    for _ in 0..50 {
        if items[0]["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        items = outbox(&app, &token).await;
    }
    assert_eq!(items[0]["kind"], "registration_received");
    assert_eq!(items[0]["status"], "logged", "{}", items[0]);
    let listed = app
        .admin_json(&token, "/api/admin/outbox?status=logged")
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), items.len());
    let sent = app
        .admin_json(&token, "/api/admin/outbox?status=sent")
        .await;
    assert!(sent["items"].as_array().unwrap().is_empty(), "{sent}");
}

#[tokio::test]
async fn the_outbox_needs_an_admin_and_a_known_status() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/admin/outbox").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let token = app.admin_token().await;
    let res = app.admin_get(&token, "/api/admin/outbox?status=lost").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Waits until the outbox's first item shows an attempt with an error.
async fn wait_for_failed_attempt(app: &TestApp, token: &str) -> Value {
    for _ in 0..100 {
        let items = outbox(app, token).await;
        if let Some(item) = items
            .first()
            .filter(|i| i["attempts"].as_i64() >= Some(1) && i["last_error"].is_string())
        {
            return item.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no failed attempt recorded");
}

#[tokio::test]
async fn with_the_mail_server_down_registration_still_answers_at_once_and_mail_follows() {
    let port = free_port();
    let app = TestApp::spawn_with(Options {
        smtp_port: Some(port),
        ..Options::default()
    })
    .await;
    let token = app.admin_token().await;
    let started = Instant::now();
    let res = app.post("/api/register", &registration("john")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    let item = wait_for_failed_attempt(&app, &token).await;
    assert_eq!(item["status"], "pending");
    assert_eq!(
        item["next_attempt_at"], "2026-11-25T12:00:10Z",
        "first retry after 10 s"
    );

    let smtp = SmtpServer::start_on(port).await;
    app.clock.advance(jiff::SignedDuration::from_secs(11));
    let mail = &smtp.to("ops@example.com").await[0];
    assert_eq!(mail.subject, "New registration: John Smith (john)");
}

#[tokio::test]
async fn mail_owed_before_a_restart_is_sent_after_it() {
    let port = free_port();
    let first = TestApp::spawn_with(Options {
        smtp_port: Some(port),
        ..Options::default()
    })
    .await;
    let token = first.admin_token().await;
    assert_eq!(
        first
            .post("/api/register", &registration("john"))
            .await
            .status(),
        StatusCode::CREATED
    );
    wait_for_failed_attempt(&first, &token).await;
    let database = first.database();
    first.stop().await;

    let smtp = SmtpServer::start_on(port).await;
    let second = TestApp::spawn_with(Options {
        smtp_port: Some(port),
        database: Some(database),
        now: Some("2026-11-25T12:01:00Z".parse().unwrap()),
        ..Options::default()
    })
    .await;
    let mail = &smtp.to("ops@example.com").await[0];
    assert_eq!(mail.subject, "New registration: John Smith (john)");
    let token = second.admin_token().await;
    let mut item = outbox(&second, &token).await[0].clone();
    for _ in 0..50 {
        if item["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        item = outbox(&second, &token).await[0].clone();
    }
    assert_eq!(item["status"], "sent");
    assert_eq!(item["attempts"], 2);
    assert_eq!(text(&item, "recipient"), "ops@example.com");
}
