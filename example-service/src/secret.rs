//! The three secrets this service holds: its API key, a visitor's QR token
//! and a visitor's session token. None of them may reach a log line, so
//! their `Debug` prints `[redacted]` and reading one takes an explicit
//! `expose()`.

use std::fmt;

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The clear value, for the one place that must send it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret!(
    /// The service's key at Central Auth: server-side only, never in a page.
    ApiKey
);
secret!(
    /// Redeems the visitor's QR code with a PIN; kept on the server so a
    /// page (or a script injected into it) cannot read it.
    QrToken
);
secret!(
    /// The visitor's Central Auth session (a JWT), kept in an HttpOnly cookie.
    SessionToken
);

impl std::str::FromStr for ApiKey {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let key = ApiKey::new("cas_very_secret");
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        assert_eq!(key.expose(), "cas_very_secret");
    }
}
