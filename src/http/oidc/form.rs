//! The parameters of an OAuth request (a query string or a form body),
//! read once: OAuth forbids a parameter given twice (RFC 6749 §3.1, §3.2),
//! so the first repeated name is kept to refuse with.

use axum::http::{HeaderMap, header};

pub struct OAuthParams {
    pairs: Vec<(String, String)>,
}

impl OAuthParams {
    pub fn parse(raw: &[u8]) -> Self {
        Self {
            pairs: form_urlencoded::parse(raw).into_owned().collect(),
        }
    }

    /// The value of `name`; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    }

    /// The first parameter that came more than once.
    pub fn repeated(&self) -> Option<String> {
        self.pairs.iter().enumerate().find_map(|(i, (k, _))| {
            self.pairs[..i]
                .iter()
                .any(|(earlier, _)| earlier == k)
                .then(|| k.clone())
        })
    }
}

/// Whether a POST carries a form body, as the OAuth endpoints require.
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}
