//! `POST /services/rest/auth/oauth2/v1/token`, client credentials with a JWT assertion signed
//! by the certificate's private key (PS256/384/512 or ES256/384, the algorithms Oracle's help
//! lists for the OAuth 2.0 client credentials flow). The assertion is verified with the
//! registered public key; every claim rule Oracle lists is enforced.
//! [INFERRED] Error bodies follow RFC 6749 §5.2 (`{"error": …, "error_description": …}`, 400):
//! no NetSuite recording of them was found.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Serialize;
use serde_json::Value;

use super::config::OAuth2Client;

pub const TOKEN_PATH: &str = "/services/rest/auth/oauth2/v1/token";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const MAX_ASSERTION_LIFETIME: i64 = 3600;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenError {
    pub error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

fn fail(error: &'static str, description: impl Into<String>) -> TokenError {
    TokenError { error, error_description: Some(description.into()) }
}

#[derive(Debug, Serialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub expires_in: String,
    pub token_type: &'static str,
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        json_response(StatusCode::BAD_REQUEST, serde_json::to_string(&self).unwrap_or_default())
    }
}

impl IntoResponse for TokenAnswer {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, serde_json::to_string(&self).unwrap_or_default())
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// Checks a token request; on success returns the client id the token is for.
pub fn check_request(
    form: &[u8],
    clients: &[OAuth2Client],
    audience: &str,
    skew: Duration,
    now: i64,
) -> Result<String, TokenError> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(form).into_owned().collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("grant_type") != Some("client_credentials") {
        return Err(fail("unsupported_grant_type", "grant_type must be client_credentials"));
    }
    if get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return Err(fail("invalid_request", format!("client_assertion_type must be {ASSERTION_TYPE}")));
    }
    let jwt = get("client_assertion").ok_or_else(|| fail("invalid_request", "client_assertion is missing"))?;
    let header =
        decode_header(jwt).map_err(|e| fail("invalid_grant", format!("client_assertion is not a JWT: {e}")))?;
    if header.typ.as_deref() != Some("JWT") {
        return Err(fail("invalid_grant", "JWT header typ must be JWT"));
    }
    let alg = header.alg;
    let rsa = matches!(alg, Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512);
    let ec = matches!(alg, Algorithm::ES256 | Algorithm::ES384);
    if !rsa && !ec {
        return Err(fail(
            "invalid_grant",
            format!("algorithm {alg:?} is not accepted; use PS256/384/512 or ES256/384"),
        ));
    }
    let kid = header.kid.as_deref().unwrap_or("");
    let client = clients
        .iter()
        .find(|c| c.certificate_id == kid)
        .ok_or_else(|| fail("invalid_client", "the kid does not name a registered certificate"))?;
    let pem = client.public_key_pem.as_bytes();
    let key = if rsa { DecodingKey::from_rsa_pem(pem) } else { DecodingKey::from_ec_pem(pem) }
        .map_err(|_| fail("invalid_client", "the certificate does not fit the algorithm"))?;
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    let claims: Value = decode(jwt, &key, &validation)
        .map_err(|e| fail("invalid_client", format!("client_assertion signature is not valid: {e}")))?
        .claims;
    check_claims(&claims, client, audience, skew, now)?;
    Ok(client.client_id.clone())
}

fn check_claims(c: &Value, client: &OAuth2Client, audience: &str, skew: Duration, now: i64) -> Result<(), TokenError> {
    if c.get("iss").and_then(Value::as_str) != Some(client.client_id.as_str()) {
        return Err(fail("invalid_client", "iss is not the client id of the certificate's integration"));
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == audience,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(fail("invalid_grant", format!("aud must be {audience}")));
    }
    let scopes: Vec<String> = match c.get("scope") {
        Some(Value::String(s)) => s.split([',', ' ']).map(|s| s.trim().to_string()).collect(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    if !scopes.iter().any(|s| s == "rest_webservices") {
        return Err(fail("invalid_grant", "scope must include rest_webservices"));
    }
    let (iat, exp) = match (c.get("iat").and_then(Value::as_i64), c.get("exp").and_then(Value::as_i64)) {
        (Some(iat), Some(exp)) => (iat, exp),
        _ => return Err(fail("invalid_grant", "iat and exp are required")),
    };
    if iat > now + skew.as_secs() as i64 {
        return Err(fail("invalid_grant", "iat is in the future"));
    }
    if exp <= now {
        return Err(fail("invalid_grant", "the client assertion has expired"));
    }
    if exp - iat > MAX_ASSERTION_LIFETIME {
        return Err(fail("invalid_grant", "exp must be at most 60 minutes after iat"));
    }
    Ok(())
}
