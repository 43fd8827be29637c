//! What admins see of logins: `GET /api/admin/login-history` (every attempt,
//! newest first, filters, stable pages) and `GET /api/admin/stats`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::{CLIENT_IP, CLIENT_UA, Flow, at, text, wrong_pin};
use crate::harness::{assert_invalid_field, assert_problem, expect_json, field_of};

/// Asserts a history row of an attempt on one of ServiceB's QR codes: joined
/// names, and the requester as ServiceB reported it at generate.
fn assert_servicebs_row(flow: &Flow, row: &Value, login_at: &str) {
    assert_eq!(row["service_id"], flow.service_id.as_str(), "{row}");
    assert_eq!(row["service_name"], "ServiceB", "{row}");
    assert_eq!(row["login_at"], login_at, "{row}");
    assert_eq!(row["ip"], CLIENT_IP, "{row}");
    assert_eq!(row["user_agent"], CLIENT_UA, "{row}");
}

/// Asserts the row is John's.
fn assert_johns(flow: &Flow, row: &Value) {
    assert_eq!(row["user_id"], flow.user_id.as_str(), "{row}");
    assert_eq!(row["username"], "john", "{row}");
}

/// Records a failed attempt (a generate with a wrong key); returns nothing
/// but a new `invalid_api_key` row.
async fn failed_generate(flow: &Flow) {
    let body = Flow::generate_body(&flow.service_id, "cas_wrong-key");
    let res = flow.generate_with(&body).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
}

/// Rows at 0 s (a success), 60 s (`invalid_pin`) and 120 s (`denied`).
async fn three_outcomes(flow: &Flow) {
    flow.login().await;
    flow.advance(60);
    let (qr, pin) = flow.scanned().await;
    flow.verify_res(&qr, &wrong_pin(&pin)).await;
    flow.advance(60);
    let qr = flow.qr().await;
    flow.deny(&qr).await;
}

/// The entry of `service_id` in a `by_service` list.
fn entry<'a>(by_service: &'a Value, service_id: &str) -> &'a Value {
    by_service
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_id"] == service_id)
        .unwrap_or_else(|| panic!("{service_id} missing from {by_service}"))
}

/// Sets the schedule's time zone (the schedule stays disabled: always open).
async fn set_time_zone(flow: &Flow, timezone: &str) {
    let schedule = json!({
        "enabled": false,
        "timezone": timezone,
        "opening_time": "08:00",
        "closing_time": "18:00",
        "days": ["mon", "tue", "wed", "thu", "fri"],
    });
    flow.app.set_schedule(&flow.admin, &schedule).await;
}

#[tokio::test]
async fn successful_login_is_recorded_with_the_requester() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.advance(30);
    flow.verify(&qr, &pin).await;
    let row = flow.only_row("success").await;
    assert_johns(&flow, &row);
    assert_servicebs_row(&flow, &row, &at(30));
    assert_eq!(row["logout_at"], Value::Null);
    assert_eq!(row["ended_reason"], Value::Null);
    assert!(row["id"].is_i64() || row["id"].is_string(), "{row}");
}

#[tokio::test]
async fn logout_fills_logout_at_and_ended_reason_logged_out() {
    let flow = Flow::start().await;
    let token = flow.session().await;
    flow.advance(300);
    expect_json(flow.logout_res(&token).await, StatusCode::OK).await;
    let row = flow.only_row("success").await;
    assert_eq!(row["login_at"], at(0));
    assert_eq!(row["logout_at"], at(300));
    assert_eq!(row["ended_reason"], "logged_out");
}

#[tokio::test]
async fn wrong_pin_is_recorded_as_invalid_pin() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.advance(15);
    flow.wrong_pins(&qr, &pin, 1).await;
    let row = flow.only_row("invalid_pin").await;
    assert_johns(&flow, &row);
    assert_servicebs_row(&flow, &row, &at(15));
}

#[tokio::test]
async fn verify_of_a_locked_qr_code_is_recorded_as_too_many_attempts() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.wrong_pins(&qr, &pin, 5).await;
    flow.advance(5);
    flow.verify_res(&qr, &pin).await;
    let row = flow.only_row("too_many_attempts").await;
    assert_johns(&flow, &row);
    assert_servicebs_row(&flow, &row, &at(5));
    assert_eq!(flow.history("outcome=invalid_pin").await.len(), 5);
}

#[tokio::test]
async fn scan_of_an_expired_qr_code_is_recorded_as_qr_expired() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(121);
    let res = flow.scan_res(&qr).await;
    assert_problem(res, StatusCode::GONE, "qr_expired").await;
    let row = flow.only_row("qr_expired").await;
    assert_servicebs_row(&flow, &row, &at(121));
}

#[tokio::test]
async fn generate_with_a_wrong_api_key_is_recorded_as_invalid_api_key() {
    let flow = Flow::start().await;
    failed_generate(&flow).await;
    let row = flow.only_row("invalid_api_key").await;
    assert_eq!(row["login_at"], at(0));
    assert_eq!(row["ip"], CLIENT_IP);
    assert_eq!(row["user_agent"], CLIENT_UA);
}

#[tokio::test]
async fn scan_of_an_unknown_qr_token_is_recorded_as_qr_not_found() {
    let flow = Flow::start().await;
    let res = flow.scan_res("no-such-qr-token").await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
    let row = flow.only_row("qr_not_found").await;
    assert_eq!(row["login_at"], at(0));
}

#[tokio::test]
async fn history_lists_newest_first() {
    let flow = Flow::start().await;
    three_outcomes(&flow).await;
    let rows = flow.history("").await;
    assert_eq!(
        field_of(&rows, "outcome"),
        ["denied", "invalid_pin", "success"]
    );
    assert_eq!(field_of(&rows, "login_at"), [at(120), at(60), at(0)]);
}

#[tokio::test]
async fn history_filters_by_outcome() {
    let flow = Flow::start().await;
    three_outcomes(&flow).await;
    let rows = flow.history("outcome=invalid_pin").await;
    assert_eq!(field_of(&rows, "login_at"), [at(60)]);
}

#[tokio::test]
async fn history_filters_by_from_and_to() {
    let flow = Flow::start().await;
    three_outcomes(&flow).await;
    let rows = flow
        .history(&format!("from={}&to={}", at(30), at(90)))
        .await;
    assert_eq!(field_of(&rows, "outcome"), ["invalid_pin"]);
    let rows = flow.history(&format!("from={}", at(30))).await;
    assert_eq!(field_of(&rows, "outcome"), ["denied", "invalid_pin"]);
    let rows = flow.history(&format!("to={}", at(90))).await;
    assert_eq!(field_of(&rows, "outcome"), ["invalid_pin", "success"]);
}

#[tokio::test]
async fn history_filters_by_user_id() {
    let flow = Flow::start().await;
    let (mary_id, mary) = flow.enrolled("mary").await;
    flow.login().await;
    flow.login_with(&mary, &flow.service_id, &flow.api_key)
        .await;
    let rows = flow.history(&format!("user_id={mary_id}")).await;
    assert_eq!(field_of(&rows, "username"), ["mary"]);
    assert_eq!(rows[0]["user_id"], mary_id.as_str());
}

#[tokio::test]
async fn history_filters_by_service_id() {
    let flow = Flow::start().await;
    let (service_c, key_c) = flow.new_service("ServiceC").await;
    flow.login().await;
    flow.login_with(&flow.auth_key, &service_c, &key_c).await;
    let rows = flow.history(&format!("service_id={service_c}")).await;
    assert_eq!(field_of(&rows, "service_name"), ["ServiceC"]);
    assert_eq!(rows[0]["outcome"], "success");
}

#[tokio::test]
async fn history_with_a_malformed_from_or_to_is_422() {
    let flow = Flow::start().await;
    for (query, field) in [("from=yesterday", "from"), ("to=2026-13-01", "to")] {
        let path = format!("/api/admin/login-history?{query}");
        let res = flow.app.admin_get(&flow.admin, &path).await;
        assert_invalid_field(res, field).await;
    }
}

#[tokio::test]
async fn history_refuses_bad_limits_and_cursors() {
    let flow = Flow::start().await;
    flow.app
        .assert_paging_rules(&flow.admin, "/api/admin/login-history")
        .await;
}

#[tokio::test]
async fn history_pages_skip_and_repeat_nothing_when_rows_arrive_between_pages() {
    let flow = Flow::start().await;
    // All at one instant: only the order of arrival tells the rows apart.
    for _ in 0..5 {
        failed_generate(&flow).await;
    }
    let existing: Vec<String> = flow
        .history("")
        .await
        .iter()
        .map(|r| r["id"].to_string())
        .collect();
    let path = "/api/admin/login-history?limit=2";
    let mut page = flow.app.admin_json(&flow.admin, path).await;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.iter().map(|r| r["id"].to_string()));
        failed_generate(&flow).await;
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        let next = format!("{path}&cursor={cursor}");
        page = flow.app.admin_json(&flow.admin, &next).await;
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a row was repeated: {seen:?}");
    let old: Vec<&String> = seen.iter().filter(|id| existing.contains(id)).collect();
    assert_eq!(old, existing.iter().collect::<Vec<_>>(), "pages: {seen:?}");
}

#[tokio::test]
async fn history_and_stats_without_an_admin_token_are_401_unauthorized() {
    let flow = Flow::start().await;
    for path in ["/api/admin/login-history", "/api/admin/stats"] {
        let res = flow.app.get(path).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn stats_count_users_by_state() {
    let flow = Flow::start().await;
    let (mary, _) = flow.enrolled("mary").await;
    flow.user_action(&mary, "deactivate").await;
    flow.app.register("paul").await;
    let stats = flow.stats("").await;
    assert_eq!(
        stats["users"],
        json!({"pending": 1, "active": 1, "inactive": 1})
    );
}

#[tokio::test]
async fn stats_count_services_by_state() {
    let flow = Flow::start().await;
    let (service_c, _) = flow.new_service("ServiceC").await;
    flow.new_service("ServiceD").await;
    flow.service_action(&service_c, "deactivate").await;
    let stats = flow.stats("").await;
    assert_eq!(stats["services"], json!({"active": 2, "inactive": 1}));
}

#[tokio::test]
async fn stats_count_successful_logins_today_and_this_month() {
    let mut flow = Flow::start().await;
    flow.login().await;
    let (qr, pin) = flow.scanned().await;
    flow.wrong_pins(&qr, &pin, 1).await;
    flow.travel_to("2026-11-26T09:00:00Z").await;
    flow.login().await;
    let stats = flow.stats("").await;
    assert_eq!(stats["logins"], json!({"today": 1, "this_month": 2}));
    flow.travel_to("2026-12-01T00:00:00Z").await;
    let stats = flow.stats("").await;
    assert_eq!(stats["logins"], json!({"today": 0, "this_month": 0}));
}

#[tokio::test]
async fn stats_count_today_and_this_month_in_the_schedule_time_zone() {
    let mut flow = Flow::start().await;
    set_time_zone(&flow, "America/New_York").await;
    flow.login().await;
    // 03:00 UTC on 1 December is 22:00 on 30 November in New York.
    flow.travel_to("2026-12-01T03:00:00Z").await;
    flow.login().await;
    let stats = flow.stats("").await;
    assert_eq!(stats["logins"], json!({"today": 1, "this_month": 2}));
}

#[tokio::test]
async fn stats_by_service_count_logins_this_month_and_active_sessions() {
    let flow = Flow::start().await;
    let (service_c, key_c) = flow.new_service("ServiceC").await;
    let (_, mary) = flow.enrolled("mary").await;
    let token = flow.session().await;
    flow.login_with(&mary, &flow.service_id, &flow.api_key)
        .await;
    flow.login_with(&mary, &service_c, &key_c).await;
    let stats = flow.stats("").await;
    let expected_b = json!({"service_id": flow.service_id, "name": "ServiceB",
        "logins_this_month": 2, "active_sessions": 2});
    assert_eq!(entry(&stats["by_service"], &flow.service_id), &expected_b);
    let c = entry(&stats["by_service"], &service_c);
    assert_eq!(
        (&c["logins_this_month"], &c["active_sessions"]),
        (&json!(1), &json!(1))
    );
    expect_json(flow.logout_res(&token).await, StatusCode::OK).await;
    let stats = flow.stats("").await;
    let b = entry(&stats["by_service"], &flow.service_id);
    assert_eq!(
        (&b["logins_this_month"], &b["active_sessions"]),
        (&json!(2), &json!(1))
    );
}

#[tokio::test]
async fn stats_active_sessions_leave_out_expired_sessions() {
    let flow = Flow::start().await;
    flow.login().await;
    flow.advance(31 * 60);
    let stats = flow.stats("").await;
    assert_eq!(
        entry(&stats["by_service"], &flow.service_id)["active_sessions"],
        0
    );
}

#[tokio::test]
async fn stats_for_a_user_add_their_usage_of_every_service_they_ever_used() {
    let mut flow = Flow::start().await;
    let (service_c, key_c) = flow.new_service("ServiceC").await;
    flow.new_service("ServiceD").await;
    flow.login_with(&flow.auth_key, &service_c, &key_c).await;
    flow.travel_to("2026-12-02T10:00:00Z").await;
    flow.login().await;
    flow.login().await;
    let stats = flow.stats(&format!("?user_id={}", flow.user_id)).await;
    let user = &stats["user"];
    assert_eq!(user["user_id"], flow.user_id.as_str());
    assert_eq!(user["username"], "john");
    let mut by_service = user["by_service"].as_array().unwrap().clone();
    by_service.sort_by_key(|s| text(s, "name"));
    assert_eq!(
        by_service,
        [
            json!({"service_id": flow.service_id, "name": "ServiceB",
                "logins_this_month": 2, "last_login": "2026-12-02T10:00:00Z"}),
            json!({"service_id": service_c, "name": "ServiceC",
                "logins_this_month": 0, "last_login": at(0)}),
        ]
    );
}

#[tokio::test]
async fn stats_for_an_unknown_user_is_404_user_not_found() {
    let flow = Flow::start().await;
    let res = flow
        .app
        .admin_get(&flow.admin, "/api/admin/stats?user_id=no-such-user")
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "user_not_found").await;
}
