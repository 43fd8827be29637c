//! The OpenID Connect flow end to end, as a relying party drives it:
//! authorize → Central Auth's login page → the phone scans → the PIN on
//! the page → the code → tokens → userinfo, and every refusal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::flow::{Flow, text};
use crate::harness::expect_json;

const REDIRECT: &str = "https://serviceb.example/callback";
const VERIFIER: &str = "a-pkce-verifier-of-at-least-forty-three-characters-0123456789";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A browser that does not follow redirects, so each hop can be checked.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) OidcTest/1.0")
        .build()
        .unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The attribute `name` of the first tag that has it.
fn attr(html: &str, name: &str) -> String {
    let needle = format!("{name}=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + needle.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// A browser at `authorize_url`: sent to the login page, which it opens.
async fn open_login_page(flow: &Flow, browser: &reqwest::Client, authorize_url: &str) -> Page {
    let res = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let path = location(&res);
    assert!(path.starts_with("/oauth2/login/"), "{path}");
    let set_cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page = get_page(flow, browser, &path, &cookie).await;
    assert_eq!(page.0, StatusCode::OK, "{}", page.1);
    Page {
        qr_token: attr(&page.1, "data-qr-token"),
        path,
        cookie,
    }
}

async fn get_page(
    flow: &Flow,
    browser: &reqwest::Client,
    path: &str,
    cookie: &str,
) -> (StatusCode, String) {
    let res = browser
        .get(flow.app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn type_pin(
    flow: &Flow,
    browser: &reqwest::Client,
    page: &Page,
    pin: &str,
) -> reqwest::Response {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("qr_token", &page.qr_token)
        .append_pair("pin", pin)
        .finish();
    browser
        .post(flow.app.url(&page.path))
        .header("cookie", &page.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The whole front channel of one login, as a person does it: the browser
/// goes to `authorize_url`, the phone scans the page's QR code, the PIN is
/// typed into the page. Returns where the browser is sent back to.
pub(crate) async fn front_channel(
    flow: &Flow,
    browser: &reqwest::Client,
    authorize_url: &str,
) -> String {
    let page = open_login_page(flow, browser, authorize_url).await;
    let scanned = flow.scan(&page.qr_token).await;
    let res = type_pin(flow, browser, &page, &text(&scanned, "pin")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(&res)
}

struct Rp {
    flow: Flow,
    browser: reqwest::Client,
}

/// A login page opened in the browser: where it is, its cookie, its QR token.
struct Page {
    path: String,
    cookie: String,
    qr_token: String,
}

impl Rp {
    async fn start() -> Rp {
        Self::with_settings(json!({"redirect_uris": [REDIRECT], "post_logout_redirect_uris": ["https://serviceb.example/bye"]})).await
    }

    async fn with_settings(settings: Value) -> Rp {
        let flow = Flow::start().await;
        let path = format!("/api/services/{}/oidc", flow.service_id);
        let res = flow.app.admin_put(&flow.admin, &path, &settings).await;
        expect_json(res, StatusCode::OK).await;
        Rp {
            flow,
            browser: browser(),
        }
    }

    fn authorize_url(&self, extra: &[(&str, &str)]) -> String {
        let challenge = challenge(VERIFIER);
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.flow.service_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile email groups"),
            ("state", "st4te"),
            ("nonce", "n0nce"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            params.retain(|(name, _)| name != k);
            if !v.is_empty() {
                params.push((k, v));
            }
        }
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.flow.app.url(&format!("/oauth2/authorize?{query}"))
    }

    async fn authorize(&self, extra: &[(&str, &str)]) -> reqwest::Response {
        self.browser
            .get(self.authorize_url(extra))
            .send()
            .await
            .unwrap()
    }

    /// Authorize, then open the login page the browser is sent to.
    async fn open_page(&self) -> Page {
        open_login_page(&self.flow, &self.browser, &self.authorize_url(&[])).await
    }

    async fn get_page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        get_page(&self.flow, &self.browser, path, cookie).await
    }

    async fn type_pin(&self, page: &Page, pin: &str) -> reqwest::Response {
        type_pin(&self.flow, &self.browser, page, pin).await
    }

    /// The whole front channel: returns the redirect to the app.
    async fn login(&self) -> String {
        front_channel(&self.flow, &self.browser, &self.authorize_url(&[])).await
    }

    async fn code(&self) -> String {
        let back = self.login().await;
        assert!(back.starts_with(REDIRECT), "{back}");
        query_param(&back, "code").unwrap()
    }

    async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.browser
            .post(self.flow.app.url("/oauth2/token"))
            .basic_auth(&self.flow.service_id, Some(&self.flow.api_key))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn redeem(&self, code: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await
    }

    async fn tokens(&self) -> Value {
        let code = self.code().await;
        let res = self.redeem(&code).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
        res.json().await.unwrap()
    }

    async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn userinfo(&self, access_token: &str) -> reqwest::Response {
        self.browser
            .get(self.flow.app.url("/oauth2/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }
}

async fn oauth_error(res: reqwest::Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    body
}

/// The ID token's claims, with its signature checked against the JWKS.
async fn verified_claims(rp: &Rp, id_token: &str) -> (jsonwebtoken::Header, Value) {
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwks = expect_json(
        rp.flow.app.get("/.well-known/jwks.json").await,
        StatusCode::OK,
    )
    .await;
    let kid = header.kid.clone().unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap();
    let key = match header.alg {
        jsonwebtoken::Algorithm::RS256 => jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap(),
        _ => jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap(),
    };
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[rp.flow.service_id.as_str()]);
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(id_token, &key, &validation).unwrap();
    (header, data.claims)
}

#[tokio::test]
async fn the_whole_flow_gives_a_verified_rs256_id_token_with_state_nonce_and_claims() {
    let rp = Rp::start().await;
    let back = rp.login().await;
    assert_eq!(query_param(&back, "state").as_deref(), Some("st4te"));
    assert_eq!(
        query_param(&back, "iss").as_deref(),
        Some(rp.flow.app.url("").as_str())
    );
    let code = query_param(&back, "code").unwrap();
    let res = rp.redeem(&code).await;
    let tokens: Value = expect_json(res, StatusCode::OK).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile email groups");
    let (header, claims) = verified_claims(&rp, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(claims["sub"], rp.flow.user_id.as_str());
    assert_eq!(claims["aud"], rp.flow.service_id.as_str());
    assert_eq!(claims["nonce"], "n0nce");
    assert_eq!(claims["preferred_username"], "john");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["amr"], json!(["swk", "mca"]));
    assert!(claims["auth_time"].as_i64().is_some());
    let info = expect_json(
        rp.userinfo(tokens["access_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(info["sub"], rp.flow.user_id.as_str());
    assert_eq!(info["preferred_username"], "john");
    // The login is in the history with the browser's own user agent.
    let rows = rp.flow.history("").await;
    assert!(
        rows.iter().any(|r| r["outcome"] == "success"
            && r["user_agent"]
                .as_str()
                .is_some_and(|ua| ua.contains("OidcTest"))),
        "{rows:?}"
    );
}

#[tokio::test]
async fn an_unknown_client_or_unregistered_redirect_uri_is_a_page_and_never_a_redirect() {
    let rp = Rp::start().await;
    for extra in [
        vec![("redirect_uri", "https://evil.example/cb")],
        vec![("redirect_uri", "https://serviceb.example/callback/")],
        vec![("client_id", "no-such-client")],
        vec![("redirect_uri", "")],
    ] {
        let res = rp.authorize(&extra).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{extra:?}");
        assert!(res.headers().get("location").is_none());
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
}

#[tokio::test]
async fn request_errors_go_back_to_the_registered_redirect_uri_with_state() {
    let rp = Rp::start().await;
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("scope", "profile")], "invalid_scope"),
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("prompt", "none")], "login_required"),
        (vec![("request", "eyJ")], "request_not_supported"),
    ] {
        let res = rp.authorize(&extra).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{extra:?}");
        let to = location(&res);
        assert!(to.starts_with(REDIRECT), "{to}");
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some(error),
            "{extra:?}"
        );
        assert_eq!(query_param(&to, "state").as_deref(), Some("st4te"));
    }
}

#[tokio::test]
async fn closed_operating_hours_answer_temporarily_unavailable_at_authorize() {
    let rp = Rp::start().await;
    rp.flow.close().await;
    let res = rp.authorize(&[]).await;
    let to = location(&res);
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("temporarily_unavailable")
    );
}

#[tokio::test]
async fn a_wrong_or_missing_pkce_verifier_is_invalid_grant() {
    let rp = Rp::start().await;
    let code = rp.code().await;
    let res = rp
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            (
                "code_verifier",
                "another-verifier-of-at-least-forty-three-characters-000000",
            ),
        ])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let res = rp
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // The right verifier still works: a wrong one did not spend the code.
    assert_eq!(rp.redeem(&code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_code_used_twice_revokes_the_tokens_it_gave() {
    let rp = Rp::start().await;
    let code = rp.code().await;
    let tokens: Value = expect_json(rp.redeem(&code).await, StatusCode::OK).await;
    oauth_error(
        rp.redeem(&code).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap();
    oauth_error(
        rp.userinfo(access).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    oauth_error(
        rp.refresh(refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn an_expired_code_and_a_code_of_another_client_are_invalid_grant() {
    let rp = Rp::start().await;
    let code = rp.code().await;
    rp.flow.advance(61);
    oauth_error(
        rp.redeem(&code).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    let rp = Rp::start().await;
    let code = rp.code().await;
    let (other_id, other_key) = rp.flow.new_service("AppC").await;
    let path = format!("/api/services/{other_id}/oidc");
    expect_json(
        rp.flow
            .app
            .admin_put(&rp.flow.admin, &path, &json!({"redirect_uris": [REDIRECT]}))
            .await,
        StatusCode::OK,
    )
    .await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .finish();
    let res = rp
        .browser
        .post(rp.flow.app.url("/oauth2/token"))
        .basic_auth(&other_id, Some(&other_key))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // Not spent by the other client's try.
    assert_eq!(rp.redeem(&code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_client_credentials_are_invalid_client_with_a_basic_challenge() {
    let rp = Rp::start().await;
    let code = rp.code().await;
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={REDIRECT}&code_verifier={VERIFIER}"
    );
    let res = rp
        .browser
        .post(rp.flow.app.url("/oauth2/token"))
        .basic_auth(&rp.flow.service_id, Some("cas_wrong"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("www-authenticate").is_some());
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_whole_family() {
    let rp = Rp::start().await;
    let first = rp.tokens().await;
    let old = first["refresh_token"].as_str().unwrap();
    let second: Value = expect_json(rp.refresh(old).await, StatusCode::OK).await;
    let newer = second["refresh_token"].as_str().unwrap();
    assert_ne!(old, newer);
    assert_eq!(
        rp.userinfo(second["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    // The old one comes back: theft. Everything of this login ends.
    oauth_error(
        rp.refresh(old).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    oauth_error(
        rp.refresh(newer).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    oauth_error(
        rp.userinfo(second["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn userinfo_refuses_an_expired_or_revoked_access_token() {
    let rp = Rp::start().await;
    let tokens = rp.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    rp.flow.advance(601);
    let res = rp.userinfo(access).await;
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_token").await;

    let tokens = rp.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let res = rp
        .browser
        .post(rp.flow.app.url("/oauth2/revoke"))
        .basic_auth(&rp.flow.service_id, Some(&rp.flow.api_key))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    oauth_error(
        rp.userinfo(access).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn deactivating_the_user_mid_session_ends_tokens_and_introspection_says_inactive() {
    let rp = Rp::start().await;
    let tokens = rp.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let introspect = |token: String| {
        let rp = &rp;
        async move {
            let res = rp
                .browser
                .post(rp.flow.app.url("/oauth2/introspect"))
                .basic_auth(&rp.flow.service_id, Some(&rp.flow.api_key))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("token={token}"))
                .send()
                .await
                .unwrap();
            expect_json(res, StatusCode::OK).await
        }
    };
    let live = introspect(access.to_owned()).await;
    assert_eq!(live["active"], true);
    assert_eq!(live["sub"], rp.flow.user_id.as_str());
    rp.flow.user_action(&rp.flow.user_id, "deactivate").await;
    assert_eq!(
        introspect(access.to_owned()).await,
        json!({"active": false})
    );
    oauth_error(
        rp.userinfo(access).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    oauth_error(
        rp.refresh(tokens["refresh_token"].as_str().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn end_session_ends_the_login_and_refuses_a_foreign_post_logout_uri() {
    let rp = Rp::start().await;
    let tokens = rp.tokens().await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let url = |uri: &str| {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", uri),
                ("state", "bye"),
            ])
            .finish();
        rp.flow.app.url(&format!("/oauth2/end_session?{q}"))
    };
    let res = rp
        .browser
        .get(url("https://evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get("location").is_none());
    assert_eq!(
        rp.userinfo(tokens["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    let res = rp
        .browser
        .get(url("https://serviceb.example/bye"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "https://serviceb.example/bye?state=bye");
    oauth_error(
        rp.userinfo(tokens["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn the_login_page_belongs_to_its_browser_and_a_wrong_pin_keeps_the_code() {
    let rp = Rp::start().await;
    let page = rp.open_page().await;
    let (status, _) = rp.get_page(&page.path, "ca_login=someone-else").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let scanned = rp.flow.scan(&page.qr_token).await;
    let pin = text(&scanned, "pin");
    let wrong = crate::flow::wrong_pin(&pin);
    let res = rp.type_pin(&page, &wrong).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("4 attempt(s) left"), "{html}");
    assert_eq!(attr(&html, "data-qr-token"), page.qr_token);
    let res = rp.type_pin(&page, &pin).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_phone_is_told_to_look_for_central_auths_address() {
    let rp = Rp::start().await;
    let page = rp.open_page().await;
    let scanned = rp.flow.scan(&page.qr_token).await;
    assert_eq!(
        scanned["login_page_url"],
        rp.flow.app.url("").trim_end_matches('/')
    );
    // A QR code of the API flow carries none.
    let qr = rp.flow.qr().await;
    assert!(rp.flow.scan(&qr).await.get("login_page_url").is_none());
}

#[tokio::test]
async fn discovery_names_every_endpoint_and_rs256() {
    let rp = Rp::start().await;
    let doc = expect_json(
        rp.flow.app.get("/.well-known/openid-configuration").await,
        StatusCode::OK,
    )
    .await;
    let issuer = doc["issuer"].as_str().unwrap().to_owned();
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("end_session_endpoint", "/oauth2/end_session"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("introspection_endpoint", "/oauth2/introspect"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"));
    }
    assert!(
        doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("RS256"))
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
}

#[tokio::test]
async fn groups_given_by_an_admin_are_in_the_id_token_and_userinfo() {
    let rp = Rp::start().await;
    let path = format!("/api/admin/users/{}/groups", rp.flow.user_id);
    let res = rp
        .flow
        .app
        .admin_put(
            &rp.flow.admin,
            &path,
            &json!({"groups": ["ops", "admins", "ops"]}),
        )
        .await;
    let set = expect_json(res, StatusCode::OK).await;
    assert_eq!(set["groups"], json!(["admins", "ops"]));
    let res = rp
        .flow
        .app
        .admin_put(&rp.flow.admin, &path, &json!({"groups": ["Admins"]}))
        .await;
    crate::harness::assert_invalid_field(res, "groups[0]").await;
    let unknown = rp
        .flow
        .app
        .admin_put(
            &rp.flow.admin,
            "/api/admin/users/nobody/groups",
            &json!({"groups": []}),
        )
        .await;
    crate::harness::assert_problem(unknown, StatusCode::NOT_FOUND, "user_not_found").await;
    let tokens = rp.tokens().await;
    let (_, claims) = verified_claims(&rp, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["groups"], json!(["admins", "ops"]));
    let info = expect_json(
        rp.userinfo(tokens["access_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(info["groups"], json!(["admins", "ops"]));
}

#[tokio::test]
async fn a_used_code_replayed_without_its_verifier_still_revokes() {
    let rp = Rp::start().await;
    let code = rp.code().await;
    let tokens: Value = expect_json(rp.redeem(&code).await, StatusCode::OK).await;
    // Whoever replays it need not know the verifier: the replay alone ends the login.
    let res = rp
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let access = tokens["access_token"].as_str().unwrap();
    oauth_error(
        rp.userinfo(access).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}
