//! `POST /api/register`: the public registration form's endpoint.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::password_rules::{NewPassword, Owner};
use crate::domain::registration::NewUser;
use crate::domain::types::{Email, FullName, Phone, Username};
use crate::domain::validation::{Validation, required};
use crate::http::extract::{ApiJson, Caller};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(register))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "john@example.com", "username": "john",
    "password": "correct horse battery", "full_name": "John Smith", "phone": "+15551234567"}))]
pub struct RegisterRequest {
    /// The domain must be valid under IDNA (UTS 46) and each of its labels
    /// of one script (no Latin mixed with Cyrillic, as look-alikes do).
    /// `a@bücher.example` and `a@xn--bcher-kva.example` are one address;
    /// mail goes to the `xn--` form. Stored as typed.
    #[schema(required = true, value_type = String)]
    email: Option<String>,
    /// 3–32 of `a-z 0-9 . _ -` after NFKC normalisation (fullwidth letters
    /// become plain ones); stored lower-cased.
    #[schema(required = true, value_type = String)]
    username: Option<String>,
    /// 10–256 characters, counted after NFKC normalisation (the form that
    /// is hashed, so any Unicode form of it signs in). Refused (422 at
    /// `password`) when it is one of the ~49,000 most common passwords from
    /// breaches (compared case-insensitively), or contains the username or
    /// the email address's part before the `@` (either of 4+ characters).
    #[schema(required = true, value_type = String)]
    password: Option<String>,
    /// 1–200 characters. No text-direction controls (U+202A–U+202E,
    /// U+2066–U+2069, LRM/RLM/ALM), invisible characters (zero-width space,
    /// soft hyphen, Hangul fillers, tag characters, …), unassigned or
    /// private-use code points; ZWJ/ZWNJ only where a script or an emoji
    /// needs them.
    #[schema(required = true, value_type = String)]
    full_name: Option<String>,
    phone: Option<String>,
}

impl TryFrom<RegisterRequest> for NewUser {
    type Error = ApiError;

    fn try_from(body: RegisterRequest) -> Result<Self, ApiError> {
        let mut v = Validation::default();
        let email = v.check(required("email", body.email).and_then(|e| Email::parse(&e)));
        let username =
            v.check(required("username", body.username).and_then(|u| Username::parse(&u)));
        // Held to the rules for a new password, with the names parsed above
        // (a name that did not parse is not looked for).
        let owner = Owner {
            username: username.as_ref().map(Username::as_str),
            email: email.as_ref().map(Email::as_str),
        };
        let password = v.check(
            required("password", body.password)
                .and_then(|p| NewPassword::parse("password", p, owner)),
        );
        let full_name =
            v.check(required("full_name", body.full_name).and_then(|n| FullName::parse(&n)));
        let phone = v.check(Phone::parse_optional(body.phone.as_deref()));
        let (Some(email), Some(username), Some(password), Some(full_name), Some(phone)) =
            (email, username, password, full_name, phone)
        else {
            return Err(v.into_error().into());
        };
        Ok(NewUser {
            email,
            username,
            password,
            full_name,
            phone,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    user_id: String,
    #[schema(example = "pending")]
    status: &'static str,
}

/// Register a new user. The registration waits for an admin's approval.
#[utoipa::path(
    post, path = "/api/register", tag = "registration",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registration queued", body = RegisterResponse),
        (status = 409, description = "`email_taken` or `username_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the `errors` name each field and why, e.g. `full_name` with a text-direction or invisible character, `email` with a domain invalid under UTS 46 or mixing scripts; a refused password says why at `password`: too short or long, \"is one of the most commonly used passwords\", \"must not contain your username\" or \"…your email address\"", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many registrations from this address, or too many waiting for approval (`REGISTRATION_PENDING_*`); `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn register(
    State(state): State<AppState>,
    Caller(client): Caller,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), ApiError> {
    let new_user = NewUser::try_from(body)?;
    let user_id = state.core.register(new_user, &client).await?;
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            user_id: user_id.to_string(),
            status: "pending",
        }),
    ))
}
