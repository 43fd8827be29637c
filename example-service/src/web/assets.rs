//! The page's script and stylesheet, compiled into the binary and served
//! from this origin: the CSP allows no inline code and no other host.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;

const LOGIN_JS: &str = include_str!("../../static/login.js");
const STYLE_CSS: &str = include_str!("../../static/style.css");

pub async fn login_js() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        LOGIN_JS,
    )
}

pub async fn style_css() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        STYLE_CSS,
    )
}
