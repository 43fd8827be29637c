//! The two cookies: `sb_visitor` (which server-side visitor state is
//! yours) and `sb_session` (your Central Auth session token). Both HttpOnly,
//! so no script can read them, and SameSite=Lax, so other sites' forms do
//! not carry them.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

pub const VISITOR: &str = "sb_visitor";
pub const SESSION: &str = "sb_session";

/// The value of cookie `name` in the request, if any.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// How this site's cookies are set.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    /// Over https: `Secure`, so the cookie never travels in clear text.
    pub secure: bool,
}

impl CookiePolicy {
    /// `Set-Cookie` for `name=value`, lasting until the browser closes.
    /// `None` for a value that is not a plain token (ours are hex, Central
    /// Auth's are JWTs; anything else is refused rather than escaped).
    pub fn set(self, name: &str, value: &str) -> Option<HeaderValue> {
        let plain = value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !plain || value.is_empty() {
            return None;
        }
        HeaderValue::from_str(&format!("{name}={value}; {}", self.attributes())).ok()
    }

    /// `Set-Cookie` that makes the browser forget `name`.
    pub fn clear(self, name: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("{name}=; Max-Age=0; {}", self.attributes()))
            .unwrap_or_else(|_| HeaderValue::from_static("sb_session=; Max-Age=0; Path=/"))
    }

    fn attributes(self) -> &'static str {
        if self.secure {
            "Path=/; HttpOnly; SameSite=Lax; Secure"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }
}

/// Adds `Set-Cookie` headers to a response.
pub fn attach(mut response: Response, cookies: Vec<HeaderValue>) -> Response {
    for cookie in cookies {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; sb_session=tok.en; sb_visitor=abc"),
        );
        assert_eq!(read(&headers, SESSION).as_deref(), Some("tok.en"));
        assert_eq!(read(&headers, VISITOR).as_deref(), Some("abc"));
        assert_eq!(read(&headers, "b"), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        let plain = CookiePolicy { secure: false }
            .set(SESSION, "x.y.z")
            .unwrap();
        assert_eq!(plain, "sb_session=x.y.z; Path=/; HttpOnly; SameSite=Lax");
        let https = CookiePolicy { secure: true }.set(SESSION, "x").unwrap();
        assert!(https.to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn odd_values_are_refused_not_escaped() {
        let policy = CookiePolicy { secure: false };
        assert!(policy.set(SESSION, "a; Domain=evil").is_none());
        assert!(policy.set(SESSION, "").is_none());
    }
}
