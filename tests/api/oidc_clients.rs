//! A service's OpenID Connect client settings: the admin API
//! (`/api/services/{id}/oidc`) and the service's console page.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::Browser;
use crate::harness::{TestApp, assert_invalid_field, assert_problem, error_fields, expect_json};

const GRAFANA: &str = "https://grafana.example/login/generic_oauth";

fn path(service_id: &str) -> String {
    format!("/api/services/{service_id}/oidc")
}

async fn put(app: &TestApp, token: &str, service_id: &str, body: &Value) -> reqwest::Response {
    app.admin_put(token, &path(service_id), body).await
}

async fn delete(app: &TestApp, token: &str, service_id: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&path(service_id)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A server, an admin token and a registered service's id.
async fn setup() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (service_id, _key) = app.service(&token, "Grafana").await;
    (app, token, service_id)
}

#[tokio::test]
async fn put_then_get_round_trips_every_field() {
    let (app, token, id) = setup().await;
    let body = json!({
        "client_type": "confidential",
        "redirect_uris": [GRAFANA, "http://10.0.0.5:3000/login/generic_oauth"],
        "post_logout_redirect_uris": ["https://grafana.example/login"],
        "require_pkce": false,
        "allowed_scopes": ["openid", "email"],
        "id_token_signed_response_alg": "EdDSA",
    });
    let saved = expect_json(put(&app, &token, &id, &body).await, StatusCode::OK).await;
    let expected = json!({
        "client_id": id,
        "client_type": "confidential",
        "redirect_uris": [GRAFANA, "http://10.0.0.5:3000/login/generic_oauth"],
        "post_logout_redirect_uris": ["https://grafana.example/login"],
        "require_pkce": false,
        "allowed_scopes": ["openid", "email"],
        "id_token_signed_response_alg": "EdDSA",
        "token_endpoint_auth_methods": ["client_secret_basic", "client_secret_post"],
        "issuer": app.base,
        "discovery_url": format!("{}/.well-known/openid-configuration", app.base),
    });
    assert_eq!(saved, expected);
    let read = expect_json(app.admin_get(&token, &path(&id)).await, StatusCode::OK).await;
    assert_eq!(read, expected);
}

#[tokio::test]
async fn fields_left_out_take_the_defaults() {
    let (app, token, id) = setup().await;
    let saved = expect_json(
        put(&app, &token, &id, &json!({"redirect_uris": [GRAFANA]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["client_type"], "confidential");
    assert_eq!(saved["require_pkce"], true);
    assert_eq!(
        saved["allowed_scopes"],
        json!(["openid", "profile", "email", "groups", "offline_access"])
    );
    assert_eq!(saved["id_token_signed_response_alg"], "RS256");
    assert_eq!(saved["post_logout_redirect_uris"], json!([]));
}

#[tokio::test]
async fn a_public_client_authenticates_with_none_and_keeps_pkce() {
    let (app, token, id) = setup().await;
    let body = json!({"client_type": "public", "redirect_uris": ["com.example.app:/callback"]});
    let saved = expect_json(put(&app, &token, &id, &body).await, StatusCode::OK).await;
    assert_eq!(saved["token_endpoint_auth_methods"], json!(["none"]));
    assert_eq!(saved["require_pkce"], true);
    assert_eq!(saved["redirect_uris"], json!(["com.example.app:/callback"]));
}

#[tokio::test]
async fn put_replaces_the_whole_settings_at_once() {
    let (app, token, id) = setup().await;
    let first = json!({
        "redirect_uris": [GRAFANA, "https://grafana.example/other"],
        "post_logout_redirect_uris": ["https://grafana.example/login"],
        "id_token_signed_response_alg": "EdDSA",
    });
    expect_json(put(&app, &token, &id, &first).await, StatusCode::OK).await;
    let second = json!({"redirect_uris": ["https://grafana.example/other", GRAFANA]});
    expect_json(put(&app, &token, &id, &second).await, StatusCode::OK).await;
    // Read at once, on the same clock second: no stale cached copy.
    let read = expect_json(app.admin_get(&token, &path(&id)).await, StatusCode::OK).await;
    assert_eq!(
        read["redirect_uris"],
        json!(["https://grafana.example/other", GRAFANA]),
        "the order given is kept"
    );
    assert_eq!(read["post_logout_redirect_uris"], json!([]));
    assert_eq!(read["id_token_signed_response_alg"], "RS256");
}

#[tokio::test]
async fn delete_is_204_and_the_service_is_no_longer_a_client() {
    let (app, token, id) = setup().await;
    expect_json(
        put(&app, &token, &id, &json!({"redirect_uris": [GRAFANA]})).await,
        StatusCode::OK,
    )
    .await;
    let res = delete(&app, &token, &id).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.admin_get(&token, &path(&id)).await,
        StatusCode::NOT_FOUND,
        "oidc_not_configured",
    )
    .await;
    assert_problem(
        delete(&app, &token, &id).await,
        StatusCode::NOT_FOUND,
        "oidc_not_configured",
    )
    .await;
    // It can become a client again.
    expect_json(
        put(&app, &token, &id, &json!({"redirect_uris": [GRAFANA]})).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_service_without_settings_is_404_oidc_not_configured() {
    let (app, token, id) = setup().await;
    assert_problem(
        app.admin_get(&token, &path(&id)).await,
        StatusCode::NOT_FOUND,
        "oidc_not_configured",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_service_is_404_service_not_found() {
    let (app, token, _id) = setup().await;
    let body = json!({"redirect_uris": [GRAFANA]});
    for res in [
        app.admin_get(&token, &path("no-such-service")).await,
        put(&app, &token, "no-such-service", &body).await,
        delete(&app, &token, "no-such-service").await,
    ] {
        assert_problem(res, StatusCode::NOT_FOUND, "service_not_found").await;
    }
}

#[tokio::test]
async fn oidc_settings_need_an_admin_token() {
    let (app, _token, id) = setup().await;
    let body = json!({"redirect_uris": [GRAFANA]});
    for res in [
        app.get(&path(&id)).await,
        app.client
            .put(app.url(&path(&id)))
            .json(&body)
            .send()
            .await
            .unwrap(),
        app.client.delete(app.url(&path(&id))).send().await.unwrap(),
        app.admin_get("not-a-token", &path(&id)).await,
    ] {
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn every_unsafe_redirect_uri_is_refused_by_its_index() {
    let (app, token, id) = setup().await;
    for bad in [
        "https://grafana.example/cb#fragment",
        "/login/generic_oauth",
        "grafana.example/login",
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "https://user:secret@grafana.example/cb",
        "https://grafana.example@evil.example/cb",
        "https://*.grafana.example/cb",
        "https://grafana.example/ cb",
    ] {
        let body = json!({"redirect_uris": [GRAFANA, bad]});
        let problem =
            assert_invalid_field(put(&app, &token, &id, &body).await, "redirect_uris[1]").await;
        assert_eq!(
            error_fields(&problem),
            ["redirect_uris[1]"],
            "{bad}: {problem}"
        );
    }
    let long = format!("https://grafana.example/{}", "a".repeat(2000));
    assert_invalid_field(
        put(&app, &token, &id, &json!({"redirect_uris": [long]})).await,
        "redirect_uris[0]",
    )
    .await;
    let body =
        json!({"redirect_uris": [GRAFANA], "post_logout_redirect_uris": ["https://a.example/#x"]});
    assert_invalid_field(
        put(&app, &token, &id, &body).await,
        "post_logout_redirect_uris[0]",
    )
    .await;
    // Nothing refused was stored.
    assert_problem(
        app.admin_get(&token, &path(&id)).await,
        StatusCode::NOT_FOUND,
        "oidc_not_configured",
    )
    .await;
}

#[tokio::test]
async fn a_duplicate_redirect_uri_is_refused() {
    let (app, token, id) = setup().await;
    let body = json!({"redirect_uris": [GRAFANA, "https://grafana.example/b", GRAFANA]});
    let problem =
        assert_invalid_field(put(&app, &token, &id, &body).await, "redirect_uris[2]").await;
    assert_eq!(error_fields(&problem), ["redirect_uris[2]"]);
}

#[tokio::test]
async fn more_than_twenty_uris_or_none_are_refused() {
    let (app, token, id) = setup().await;
    let many: Vec<String> = (0..21)
        .map(|i| format!("https://grafana.example/{i}"))
        .collect();
    assert_invalid_field(
        put(&app, &token, &id, &json!({"redirect_uris": many})).await,
        "redirect_uris",
    )
    .await;
    let body = json!({"redirect_uris": [GRAFANA], "post_logout_redirect_uris": many});
    assert_invalid_field(
        put(&app, &token, &id, &body).await,
        "post_logout_redirect_uris",
    )
    .await;
    for empty in [json!({"redirect_uris": []}), json!({})] {
        assert_invalid_field(put(&app, &token, &id, &empty).await, "redirect_uris").await;
    }
    let twenty: Vec<String> = many[..20].to_vec();
    expect_json(
        put(&app, &token, &id, &json!({"redirect_uris": twenty})).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn an_unknown_scope_type_or_algorithm_is_refused() {
    let (app, token, id) = setup().await;
    let cases = [
        (
            json!({"allowed_scopes": ["openid", "admin"]}),
            "allowed_scopes[1]",
        ),
        (
            json!({"allowed_scopes": ["openid", "openid"]}),
            "allowed_scopes[1]",
        ),
        (json!({"allowed_scopes": ["email"]}), "allowed_scopes"),
        (json!({"client_type": "trusted"}), "client_type"),
        (
            json!({"id_token_signed_response_alg": "HS256"}),
            "id_token_signed_response_alg",
        ),
        (
            json!({"id_token_signed_response_alg": "none"}),
            "id_token_signed_response_alg",
        ),
    ];
    for (mut body, field) in cases {
        body["redirect_uris"] = json!([GRAFANA]);
        assert_invalid_field(put(&app, &token, &id, &body).await, field).await;
    }
}

#[tokio::test]
async fn a_public_client_without_pkce_is_refused() {
    let (app, token, id) = setup().await;
    let body = json!({"client_type": "public", "require_pkce": false, "redirect_uris": [GRAFANA]});
    let problem = assert_invalid_field(put(&app, &token, &id, &body).await, "require_pkce").await;
    assert_eq!(error_fields(&problem), ["require_pkce"]);
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_422_naming_the_field() {
    let (app, token, id) = setup().await;
    let body = json!({"redirect_uris": GRAFANA});
    assert_invalid_field(put(&app, &token, &id, &body).await, "redirect_uris").await;
}

#[tokio::test]
async fn the_service_answers_do_not_change_for_a_client() {
    let (app, token, id) = setup().await;
    expect_json(
        put(&app, &token, &id, &json!({"redirect_uris": [GRAFANA]})).await,
        StatusCode::OK,
    )
    .await;
    let list = app.admin_json(&token, "/api/services").await;
    let keys: Vec<&str> = list["items"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "created_at",
            "description",
            "name",
            "require_credentials",
            "service_id",
            "status",
            "url",
        ]
    );
    // Deactivating the service leaves its client settings in place (the
    // OIDC endpoints refuse it as inactive); activating it again needs no
    // new setup.
    let res = app
        .admin_post(&token, &format!("/api/services/{id}/deactivate"), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let read = expect_json(app.admin_get(&token, &path(&id)).await, StatusCode::OK).await;
    assert_eq!(read["redirect_uris"], json!([GRAFANA]));
}

/// A browser signed in to the console, and its CSRF token.
async fn console(app: &TestApp) -> (Browser, String) {
    let mut browser = Browser::new();
    let csrf = browser.sign_in(app).await;
    (browser, csrf)
}

fn is_html(res: &reqwest::Response) -> bool {
    res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html")
}

#[tokio::test]
async fn the_console_lists_a_link_to_the_service_page_with_its_form() {
    let (app, _token, id) = setup().await;
    let (mut browser, _csrf) = console(&app).await;
    let list = browser
        .get(&app.url("/admin/services"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains(&format!("href=\"/admin/services/{id}\"")),
        "{list}"
    );
    let res = browser
        .get(&app.url(&format!("/admin/services/{id}")))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"oidc-off\""), "not yet a client: {page}");
    assert!(page.contains("id=\"oidc-form\""));
    for scope in ["openid", "profile", "email", "groups", "offline_access"] {
        assert!(
            page.contains(&format!("value=\"{scope}\" checked")),
            "{scope} ticked by default"
        );
    }
    assert!(page.contains("<option value=\"RS256\" selected>"));
    let unknown = browser
        .get(&app.url("/admin/services/no-such-service"))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(is_html(&unknown));
}

#[tokio::test]
async fn the_console_form_saves_the_settings() {
    let (app, token, id) = setup().await;
    let (mut browser, csrf) = console(&app).await;
    let uris = format!("{GRAFANA}\r\n\r\n  http://grafana.lan:3000/cb  \r\n");
    let res = browser
        .post(
            &app.url(&format!("/admin/services/{id}/oidc")),
            &[
                ("csrf", &csrf),
                ("redirect_uris", &uris),
                ("post_logout_redirect_uris", "https://grafana.example/login"),
                ("client_type", "confidential"),
                ("allowed_scopes", "openid"),
                ("allowed_scopes", "email"),
                ("id_token_signed_response_alg", "EdDSA"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/admin/services/{id}?notice=")),
        "{location}"
    );
    let saved = expect_json(app.admin_get(&token, &path(&id)).await, StatusCode::OK).await;
    assert_eq!(
        saved["redirect_uris"],
        json!([GRAFANA, "http://grafana.lan:3000/cb"])
    );
    assert_eq!(
        saved["post_logout_redirect_uris"],
        json!(["https://grafana.example/login"])
    );
    assert_eq!(
        saved["require_pkce"], false,
        "the unticked box turns PKCE off"
    );
    assert_eq!(saved["allowed_scopes"], json!(["openid", "email"]));
    assert_eq!(saved["id_token_signed_response_alg"], "EdDSA");

    let page = browser.get(&app.url(&location)).await.text().await.unwrap();
    assert!(page.contains("id=\"notice\""));
    assert!(!page.contains("id=\"oidc-off\""));
    assert!(page.contains("value=\"email\" checked") && !page.contains("value=\"groups\" checked"));
    assert!(page.contains("<option value=\"EdDSA\" selected>"));
    // Plain http to another machine is allowed, with a warning.
    assert!(page.contains("class=\"warning insecure-uri\""), "{page}");
    assert!(page.contains("http://grafana.lan:3000/cb"));

    // Removing it from the page.
    let res = browser
        .post(
            &app.url(&format!("/admin/services/{id}/oidc/remove")),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_problem(
        app.admin_get(&token, &path(&id)).await,
        StatusCode::NOT_FOUND,
        "oidc_not_configured",
    )
    .await;
}

#[tokio::test]
async fn the_console_shows_refusals_on_the_page_and_keeps_what_was_typed() {
    let (app, token, id) = setup().await;
    let (mut browser, csrf) = console(&app).await;
    let url = app.url(&format!("/admin/services/{id}/oidc"));
    let uris = format!("{GRAFANA}\njavascript:alert(1)");
    let res = browser
        .post(
            &url,
            &[
                ("csrf", &csrf),
                ("redirect_uris", &uris),
                ("client_type", "public"),
                ("allowed_scopes", "openid"),
                ("id_token_signed_response_alg", "RS256"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_html(&res));
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"oidc-error\""), "{page}");
    assert!(page.contains("redirect_uris[1]"), "{page}");
    assert!(page.contains("require_pkce"), "public without PKCE: {page}");
    assert!(
        page.contains("javascript:alert(1)</textarea>"),
        "what was typed stays: {page}"
    );
    assert!(page.contains("value=\"public\" checked"));
    assert!(!page.contains("<script>alert"), "never unescaped");
    // Nothing was stored.
    assert_problem(
        app.admin_get(&token, &path(&id)).await,
        StatusCode::NOT_FOUND,
        "oidc_not_configured",
    )
    .await;
    // A form without this session's CSRF token is refused.
    let res = browser
        .post(&url, &[("csrf", "forged"), ("redirect_uris", GRAFANA)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = browser.post(&url, &[("redirect_uris", GRAFANA)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_problem(
        app.admin_get(&token, &path(&id)).await,
        StatusCode::NOT_FOUND,
        "oidc_not_configured",
    )
    .await;
}

#[tokio::test]
async fn the_snippets_carry_the_issuer_discovery_url_and_client_id() {
    let (app, token, id) = setup().await;
    let body = json!({
        "redirect_uris": [GRAFANA, "https://wiki.example/oauth2/callback"],
        "allowed_scopes": ["openid", "profile", "email"],
    });
    expect_json(put(&app, &token, &id, &body).await, StatusCode::OK).await;
    let (mut browser, _csrf) = console(&app).await;
    let page = browser
        .get(&app.url(&format!("/admin/services/{id}")))
        .await
        .text()
        .await
        .unwrap();
    let issuer = &app.base;
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    for expected in [
        // Grafana
        format!("client_id = {id}"),
        format!("auth_url = {issuer}/oauth2/authorize"),
        format!("token_url = {issuer}/oauth2/token"),
        format!("api_url = {issuer}/oauth2/userinfo"),
        "scopes = openid profile email".to_owned(),
        // Forgejo
        format!("--key {id}"),
        format!("--auto-discover-url {discovery}"),
        // Nextcloud
        format!("--clientid=\"{id}\""),
        format!("--discoveryuri=\"{discovery}\""),
        // oauth2-proxy, with the registered callback
        format!("--oidc-issuer-url={issuer}"),
        format!("--client-id={id}"),
        "--redirect-url=https://wiki.example/oauth2/callback".to_owned(),
    ] {
        assert!(page.contains(&expected), "missing {expected:?} in {page}");
    }
    for app_name in ["grafana", "forgejo", "nextcloud", "oauth2-proxy"] {
        assert!(page.contains(&format!("id=\"snippet-{app_name}\"")));
    }
    // The secret is a placeholder: the page never has the key.
    assert!(page.contains("client_secret = PASTE_THE_API_KEY"));
}
