//! Operating hours: `GET`/`PUT /api/admin/schedule` and what
//! `GET /api/system/status` makes of them.

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::Flow;
use crate::harness::{
    Options, TestApp, WEEKDAYS, assert_invalid_field, assert_problem, expect_json, registration,
    utc_schedule,
};

async fn status(app: &TestApp) -> Value {
    expect_json(app.get("/api/system/status").await, StatusCode::OK).await
}

/// Sets `schedule`, then asserts the status: open or not, and the next change.
async fn assert_status(app: &TestApp, schedule: &Value, open: bool, next_change_at: Value) {
    let token = app.admin_token().await;
    app.set_schedule(&token, schedule).await;
    let body = status(app).await;
    assert_eq!(body["open"], open, "{body}");
    assert_eq!(body["next_change_at"], next_change_at, "{body}");
    assert_eq!(&body["schedule"], schedule, "{body}");
}

/// PUTs `schedule` and expects a 422 naming `field`.
/// The schedule is left as it was.
async fn assert_schedule_refused(app: &TestApp, schedule: &Value, field: &str) {
    let token = app.admin_token().await;
    let before = app.admin_json(&token, "/api/admin/schedule").await;
    let res = app.admin_put(&token, "/api/admin/schedule", schedule).await;
    assert_invalid_field(res, field).await;
    assert_eq!(app.admin_json(&token, "/api/admin/schedule").await, before);
}

fn office_hours_with(field: &str, value: Value) -> Value {
    let mut schedule = utc_schedule("08:00", "18:00", &WEEKDAYS);
    schedule[field] = value;
    schedule
}

#[tokio::test]
async fn schedule_starts_as_configured() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = app.admin_json(&token, "/api/admin/schedule").await;
    assert_eq!(
        body,
        json!({
            "enabled": false,
            "timezone": "UTC",
            "opening_time": "08:00",
            "closing_time": "18:00",
            "days": ["mon", "tue", "wed", "thu", "fri"],
        })
    );
}

#[tokio::test]
async fn put_schedule_replaces_it_and_get_returns_it() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let schedule = json!({
        "enabled": true,
        "timezone": "Europe/Berlin",
        "opening_time": "07:30",
        "closing_time": "19:15",
        "days": ["sat", "sun"],
    });
    let res = app
        .admin_put(&token, "/api/admin/schedule", &schedule)
        .await;
    assert_eq!(expect_json(res, StatusCode::OK).await, schedule);
    assert_eq!(
        app.admin_json(&token, "/api/admin/schedule").await,
        schedule
    );
}

#[tokio::test]
async fn status_shows_open_until_closing_time_inside_the_window() {
    let app = TestApp::spawn().await;
    let schedule = utc_schedule("08:00", "18:00", &WEEKDAYS);
    let token = app.admin_token().await;
    app.set_schedule(&token, &schedule).await;
    assert_eq!(
        status(&app).await,
        json!({
            "open": true,
            "now": "2026-11-25T12:00:00Z",
            "timezone": "UTC",
            "schedule": schedule,
            "next_change_at": "2026-11-25T18:00:00Z",
        })
    );
}

#[tokio::test]
async fn status_shows_closed_until_the_next_opening_outside_the_window() {
    let app = TestApp::spawn().await;
    let schedule = utc_schedule("08:00", "10:00", &WEEKDAYS);
    assert_status(&app, &schedule, false, json!("2026-11-26T08:00:00Z")).await;
}

#[tokio::test]
async fn status_skips_days_without_a_window() {
    let app = TestApp::spawn().await;
    // Wednesday 12:00, after Wednesday's window; the next one is Monday's.
    let schedule = utc_schedule("08:00", "10:00", &["mon", "wed"]);
    assert_status(&app, &schedule, false, json!("2026-11-30T08:00:00Z")).await;
}

#[tokio::test]
async fn status_follows_the_clock() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.set_schedule(&token, &utc_schedule("08:00", "18:00", &WEEKDAYS))
        .await;
    app.clock.set("2026-11-25T18:00:00Z".parse().unwrap());
    let body = status(&app).await;
    assert_eq!(body["open"], false);
    assert_eq!(body["now"], "2026-11-25T18:00:00Z");
    assert_eq!(body["next_change_at"], "2026-11-26T08:00:00Z");
}

#[tokio::test]
async fn status_reads_times_in_the_schedule_time_zone() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let mut schedule = utc_schedule("08:00", "18:00", &WEEKDAYS);
    schedule["timezone"] = json!("Europe/Berlin");
    app.set_schedule(&token, &schedule).await;
    let body = status(&app).await;
    assert_eq!(body["timezone"], "Europe/Berlin");
    assert_eq!(body["open"], true);
    // 18:00 in Berlin is 17:00 UTC in November (CET, UTC+1).
    assert_eq!(body["next_change_at"], "2026-11-25T17:00:00Z");
}

#[tokio::test]
async fn window_past_midnight_stays_open_after_midnight() {
    let app = TestApp::spawn().await;
    app.clock.set("2026-11-26T01:00:00Z".parse().unwrap());
    // Opens Wednesday 22:00, so it is open at Thursday 01:00 until 06:00.
    let schedule = utc_schedule("22:00", "06:00", &["wed"]);
    assert_status(&app, &schedule, true, json!("2026-11-26T06:00:00Z")).await;
}

#[tokio::test]
async fn window_past_midnight_opens_on_its_listed_day_only() {
    let app = TestApp::spawn().await;
    // Friday 05:00: Thursday opens no window, Friday's opens at 22:00.
    app.clock.set("2026-11-27T05:00:00Z".parse().unwrap());
    let schedule = utc_schedule("22:00", "06:00", &["fri"]);
    assert_status(&app, &schedule, false, json!("2026-11-27T22:00:00Z")).await;
}

#[tokio::test]
async fn friday_window_past_midnight_is_open_until_saturday_morning() {
    let app = TestApp::spawn().await;
    app.clock.set("2026-11-28T05:00:00Z".parse().unwrap());
    let schedule = utc_schedule("22:00", "06:00", &["fri"]);
    assert_status(&app, &schedule, true, json!("2026-11-28T06:00:00Z")).await;
}

#[tokio::test]
async fn equal_opening_and_closing_times_mean_a_24_hour_window() {
    let app = TestApp::spawn().await;
    let schedule = utc_schedule("08:00", "08:00", &["wed"]);
    assert_status(&app, &schedule, true, json!("2026-11-26T08:00:00Z")).await;
}

#[tokio::test]
async fn disabled_schedule_is_always_open() {
    let app = TestApp::spawn().await;
    let mut schedule = utc_schedule("08:00", "10:00", &[]);
    schedule["enabled"] = json!(false);
    assert_status(&app, &schedule, true, json!(null)).await;
}

#[tokio::test]
async fn empty_days_list_is_always_closed() {
    let app = TestApp::spawn().await;
    let schedule = utc_schedule("08:00", "18:00", &[]);
    assert_status(&app, &schedule, false, json!(null)).await;
}

#[tokio::test]
async fn unknown_time_zone_is_422() {
    let app = TestApp::spawn().await;
    assert_schedule_refused(
        &app,
        &office_hours_with("timezone", json!("Mars/Olympus")),
        "timezone",
    )
    .await;
}

#[tokio::test]
async fn hour_25_is_422() {
    let app = TestApp::spawn().await;
    assert_schedule_refused(
        &app,
        &office_hours_with("opening_time", json!("25:00")),
        "opening_time",
    )
    .await;
}

#[tokio::test]
async fn malformed_time_is_422() {
    let app = TestApp::spawn().await;
    for bad in ["8:00", "18:60", "noon", "18:00:00", ""] {
        assert_schedule_refused(
            &app,
            &office_hours_with("closing_time", json!(bad)),
            "closing_time",
        )
        .await;
    }
}

#[tokio::test]
async fn unknown_day_is_422() {
    let app = TestApp::spawn().await;
    assert_schedule_refused(
        &app,
        &office_hours_with("days", json!(["mon", "funday"])),
        "days",
    )
    .await;
}

#[tokio::test]
async fn schedule_missing_a_field_is_422_naming_it() {
    let app = TestApp::spawn().await;
    for field in [
        "enabled",
        "timezone",
        "opening_time",
        "closing_time",
        "days",
    ] {
        let mut schedule = utc_schedule("08:00", "18:00", &WEEKDAYS);
        schedule.as_object_mut().unwrap().remove(field);
        assert_schedule_refused(&app, &schedule, field).await;
    }
}

#[tokio::test]
async fn admin_routes_are_open_outside_operating_hours() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.set_schedule(&token, &utc_schedule("08:00", "18:00", &[]))
        .await;
    let fresh = app.admin_token().await;
    app.admin_json(&fresh, "/api/admin/users").await;
    app.admin_json(&fresh, "/api/admin/pending").await;
    app.admin_json(&fresh, "/api/admin/schedule").await;
    app.set_schedule(&fresh, &utc_schedule("08:00", "18:00", &WEEKDAYS))
        .await;
    assert_eq!(status(&app).await["open"], true);
}

#[tokio::test]
async fn registration_is_open_outside_operating_hours() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.set_schedule(&token, &utc_schedule("08:00", "18:00", &[]))
        .await;
    let res = app.post("/api/register", &registration("john")).await;
    expect_json(res, StatusCode::CREATED).await;
}

/// The login gate trusts the schedule it read for at most one second of the
/// server's clock: a change made on another instance (here a second server
/// on the same database) is not seen while this instance's clock stands
/// still, and is seen as soon as the clock has moved one second.
#[tokio::test]
async fn a_schedule_changed_elsewhere_reaches_the_gate_within_one_second_of_the_clock() {
    let flow = Flow::start().await;
    let body = Flow::generate_body(&flow.service_id, &flow.api_key);
    expect_json(flow.generate_with(&body).await, StatusCode::CREATED).await;
    let elsewhere = TestApp::spawn_with(Options {
        database: Some(flow.app.database()),
        ..Options::default()
    })
    .await;
    let token = elsewhere.admin_token().await;
    elsewhere
        .set_schedule(&token, &utc_schedule("08:00", "10:00", &WEEKDAYS))
        .await;

    flow.app.clock.advance(SignedDuration::from_millis(999));
    expect_json(flow.generate_with(&body).await, StatusCode::CREATED).await;
    flow.app.clock.advance(SignedDuration::from_millis(1));
    let res = flow.generate_with(&body).await;
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "system_closed").await;
    elsewhere.stop().await;
}
