//! The client's credentials at the token, revocation and introspection
//! endpoints: `client_secret_basic` (the Authorization header, whose parts
//! are form-encoded per RFC 6749 §2.3.1), `client_secret_post` (the body),
//! or a public client's bare `client_id`. Using two methods at once is an
//! error (RFC 6749 §2.3).

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::oidc::error::OAuthError;
use crate::domain::oidc::grants::{AuthMethod, ClientCredentials};
use crate::domain::secret::ApiKey;
use crate::http::oidc::form::OAuthParams;

pub fn credentials(
    headers: &HeaderMap,
    params: &OAuthParams,
) -> Result<ClientCredentials, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let body_secret = params.get("client_secret");
    if let Some(encoded) = basic {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not the header and the body together",
            ));
        }
        let (id, secret) = decode_basic(encoded.trim()).ok_or_else(|| {
            OAuthError::invalid_client("the Authorization header is not valid Basic credentials")
        })?;
        if params.get("client_id").is_some_and(|body_id| body_id != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Authorization header",
            ));
        }
        return Ok(ClientCredentials {
            client_id: id,
            secret: Some(ApiKey::from_client(secret)),
            method: AuthMethod::Basic,
        });
    }
    let Some(client_id) = params.get("client_id") else {
        return Err(OAuthError::invalid_client(
            "the client did not authenticate (no client_id)",
        ));
    };
    Ok(match body_secret {
        Some(secret) => ClientCredentials {
            client_id,
            secret: Some(ApiKey::from_client(secret)),
            method: AuthMethod::Post,
        },
        None => ClientCredentials {
            client_id,
            secret: None,
            method: AuthMethod::None,
        },
    })
}

fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

#[cfg(test)]
mod tests {
    use super::decode_basic;
    use base64::Engine;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = base64::engine::general_purpose::STANDARD.encode("svc%3A1:se%2Bcret");
        assert_eq!(
            decode_basic(&header),
            Some(("svc:1".into(), "se+cret".into()))
        );
        assert_eq!(decode_basic("!!"), None);
    }
}
