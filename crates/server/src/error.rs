//! The one table of API errors. Every failure a client can see is an [`ErrorCode`] with a stable
//! string code, an HTTP status and a message meant for people; the body is always
//! `{"error":{"code","message","hint"?}}`.
//!
//! Internal causes (SQL, I/O, panics) are logged with a request-free summary and NEVER put into the
//! response: a 500 says only that something went wrong on our side.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

macro_rules! error_codes {
    ($($variant:ident => ($code:literal, $status:ident, $message:literal)),* $(,)?) => {
        /// Stable error codes. Clients match on the string form: add codes, never rename them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status),* }
            }

            /// Default message, used when the handler has nothing more specific to say.
            pub fn default_message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message),* }
            }
        }
    };
}

error_codes! {
    BadRequest => ("bad_request", BAD_REQUEST, "The request is malformed."),
    InvalidJson => ("invalid_json", BAD_REQUEST, "The request body is not valid JSON for this endpoint."),
    InvalidParameter => ("invalid_parameter", BAD_REQUEST, "A parameter has an invalid value."),
    Unauthenticated => ("unauthenticated", UNAUTHORIZED, "Authentication is required."),
    InvalidCredentials => ("invalid_credentials", UNAUTHORIZED, "Unknown user name or wrong password."),
    InvalidToken => ("invalid_token", UNAUTHORIZED, "The session or API token is invalid or expired."),
    Forbidden => ("forbidden", FORBIDDEN, "Your role does not allow this action."),
    CsrfFailed => ("csrf_failed", FORBIDDEN, "The form's CSRF token is missing or wrong; reload the page."),
    NotFound => ("not_found", NOT_FOUND, "Not found."),
    MethodNotAllowed => ("method_not_allowed", METHOD_NOT_ALLOWED, "This method is not allowed here."),
    Conflict => ("conflict", CONFLICT, "The resource already exists or changed meanwhile."),
    PayloadTooLarge => ("payload_too_large", PAYLOAD_TOO_LARGE, "The request body is too large."),
    UnsupportedMediaType => ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json."),
    RateLimited => ("rate_limited", TOO_MANY_REQUESTS, "Too many attempts; wait a minute and try again."),
    Internal => ("internal", INTERNAL_SERVER_ERROR, "Something went wrong on our side. It has been logged."),
}

/// An error ready to be sent to a client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: code.default_message().to_string(),
            hint: None,
        }
    }

    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn bad_param(name: &str, why: impl std::fmt::Display) -> Self {
        Self::with_message(ErrorCode::InvalidParameter, format!("`{name}`: {why}"))
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden)
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated)
            .hint("Log in at /api/v1/login or send `Authorization: Bearer <token>`.")
    }

    /// Log the cause for operators and answer with a bare 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal)
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The JSON body as a string (also used by the HTML error page's machine-readable twin).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(Body {
            error: Inner {
                code: self.code.as_str(),
                message: &self.message,
                hint: self.hint.as_deref(),
            },
        })
        .expect("error body serializes")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.to_json())).into_response()
    }
}

impl From<patroli_store::StoreError> for ApiError {
    fn from(e: patroli_store::StoreError) -> Self {
        use patroli_store::StoreError as E;
        match e {
            E::NotFound { .. } => ApiError::not_found(),
            E::Conflict { .. } => ApiError::new(ErrorCode::Conflict),
            other => ApiError::internal(other),
        }
    }
}

/// Turn axum's JSON extractor failures into our table instead of axum's plain-text bodies.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match r {
            J::MissingJsonContentType(_) => ApiError::new(ErrorCode::UnsupportedMediaType),
            J::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(ErrorCode::PayloadTooLarge)
            }
            // serde's message names the field and position, never server internals.
            other => ApiError::with_message(ErrorCode::InvalidJson, other.body_text()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_statuses_fit() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            assert!(c.status().is_client_error() || c.status().is_server_error());
        }
        assert_eq!(ErrorCode::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            ErrorCode::RateLimited.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let e =
            ApiError::internal("UNIQUE constraint failed: users.password_hash = $argon2id$secret");
        let body = e.to_json().to_string();
        assert!(!body.contains("UNIQUE"), "{body}");
        assert!(!body.contains("argon2"), "{body}");
        assert_eq!(e.to_json()["error"]["code"], "internal");
    }

    #[test]
    fn hint_is_optional_in_the_body() {
        let plain = ApiError::not_found().to_json();
        assert!(plain["error"].get("hint").is_none());
        let hinted = ApiError::unauthenticated().to_json();
        assert!(hinted["error"]["hint"].as_str().unwrap().contains("Bearer"));
    }
}
