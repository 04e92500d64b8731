//! AutoLearn as an OAuth 2.1 resource server (optional, beside its own
//! keys), as the MCP authorization section asks of HTTP servers: it
//! publishes Protected Resource Metadata (RFC 9728) naming its
//! authorization server, answers 401 with a `WWW-Authenticate` challenge
//! that points at it, and accepts JWT access tokens issued for it (RFC 8707
//! resource indicators: `aud` is this server's resource). Remote MCP
//! connectors (Claude, ChatGPT and others) speak only this.
//!
//! Each token is checked on each request: the signature against the
//! issuer's JWKS (asymmetric algorithms only; `none` and HMAC never), the
//! issuer, the audience, the expiry, and the required scopes; then one claim
//! names the tenant. The issuer's keys are in `jwks.rs`.

mod jwks;

use axum::http::HeaderValue;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

/// Longest token accepted, in bytes (real ones are one or two KiB).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// The algorithms a token may be signed with: asymmetric only, so a
/// public key can never be used as an HMAC secret.
const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// How the server accepts OAuth access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// The authorization server's issuer URL (its metadata lives under it).
    pub issuer: String,
    /// This server's resource identifier, as clients name it in `resource`;
    /// `None`: `http://ADDR/mcp` of the address served.
    pub resource: Option<String>,
    /// The `aud` tokens must carry; `None`: the resource.
    pub audience: Option<String>,
    /// The claim that names the tenant.
    pub tenant_claim: String,
    /// Scopes every token must carry.
    pub scopes: Vec<String>,
    /// Create a tenant the first time a valid token names it (else a token
    /// for an unknown tenant is refused).
    pub create_tenants: bool,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Malformed, badly signed, expired, or not for us: 401 `invalid_token`.
    #[error("{0}")]
    Invalid(String),
    /// Valid, but without the scopes we need: 403 `insufficient_scope`.
    #[error("{0}")]
    Scope(String),
    /// The issuer's keys cannot be had: 503, try again.
    #[error("{0}")]
    Unavailable(String),
}
/// The resource server: configuration, and the issuer's keys.
pub(super) struct OAuth {
    config: OAuthConfig,
    resource: String,
    audience: String,
    metadata_url: String,
    jwks: jwks::Jwks,
}

impl OAuth {
    /// The resource server for `config`, served at `base` (`http://HOST:PORT`).
    pub fn new(config: OAuthConfig, base: &str) -> Self {
        let resource = config
            .resource
            .clone()
            .unwrap_or_else(|| format!("{base}/mcp"));
        let audience = config.audience.clone().unwrap_or_else(|| resource.clone());
        Self {
            metadata_url: format!("{base}/.well-known/oauth-protected-resource"),
            jwks: jwks::Jwks::new(&config.issuer),
            config,
            resource,
            audience,
        }
    }

    /// The Protected Resource Metadata document (RFC 9728).
    pub fn metadata(&self) -> Value {
        serde_json::json!({
            "resource": self.resource,
            "authorization_servers": [self.config.issuer],
            "scopes_supported": self.config.scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "AutoLearn",
        })
    }

    /// The `WWW-Authenticate` value of a refusal: where the metadata is,
    /// the scopes we need, and the error, if the token was the problem.
    pub fn challenge(&self, error: Option<&TokenError>) -> HeaderValue {
        let mut parts = vec![format!("resource_metadata=\"{}\"", self.metadata_url)];
        if !self.config.scopes.is_empty() {
            parts.push(format!("scope=\"{}\"", self.config.scopes.join(" ")));
        }
        match error {
            Some(TokenError::Invalid(m)) => {
                parts.push("error=\"invalid_token\"".into());
                parts.push(format!("error_description=\"{}\"", quoted(m)));
            }
            Some(TokenError::Scope(m)) => {
                parts.push("error=\"insufficient_scope\"".into());
                parts.push(format!("error_description=\"{}\"", quoted(m)));
            }
            _ => {}
        }
        let value = format!("Bearer {}", parts.join(", "));
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
    }

    /// Fetch the issuer's keys now (at start), so the first request need
    /// not wait for them.
    pub async fn prefetch(&self) {
        self.jwks.prefetch().await;
    }

    /// The tenant a valid `token` names.
    pub async fn tenant_of(&self, token: &str) -> Result<String, TokenError> {
        let claims = self.verify(token).await?;
        let tenant = claims
            .get(&self.config.tenant_claim)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                TokenError::Invalid(format!(
                    "the token has no {:?} claim naming a tenant",
                    self.config.tenant_claim
                ))
            })?;
        crate::app::check_tenant_name(tenant).map_err(|e| {
            TokenError::Invalid(format!(
                "the token's {:?} claim is not a tenant name: {e}",
                self.config.tenant_claim
            ))
        })?;
        Ok(tenant.to_owned())
    }

    /// Whether tenants named by valid tokens are created on first use.
    pub fn creates_tenants(&self) -> bool {
        self.config.create_tenants
    }

    /// The token's claims, once its signature, issuer, audience, expiry
    /// and scopes are checked.
    async fn verify(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let bad = |m: &str| TokenError::Invalid(m.to_owned());
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad("the token is too large"));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| TokenError::Invalid(format!("the token is not a signed JWT: {e}")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(TokenError::Invalid(format!(
                "tokens signed with {:?} are not accepted",
                header.alg
            )));
        }
        let key = self.jwks.key_for(header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| TokenError::Invalid(format!("the token was refused: {e}")))?;
        let claims = data.claims;
        let granted = scopes_of(&claims);
        let missing: Vec<&str> = self
            .config
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !granted.contains(s))
            .collect();
        if !missing.is_empty() {
            return Err(TokenError::Scope(format!(
                "the token lacks the scope {}",
                missing.join(" ")
            )));
        }
        Ok(claims)
    }
}

/// Scopes granted: `scope` (space-separated) or `scp` (a list).
fn scopes_of(claims: &Map<String, Value>) -> Vec<&str> {
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) => s.split_whitespace().collect(),
        (_, Some(Value::Array(items))) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `m` fit for a quoted-string in a header: printable ASCII, no quotes or
/// backslashes, at most 200 characters.
fn quoted(m: &str) -> String {
    m.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .filter(|c| *c != '"' && *c != '\\')
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_come_from_scope_or_scp_and_headers_stay_clean() {
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"scope": "a skills b"}"#).unwrap_or_default();
        assert_eq!(scopes_of(&claims), ["a", "skills", "b"]);
        let scp: Map<String, Value> =
            serde_json::from_str(r#"{"scp": ["skills"]}"#).unwrap_or_default();
        assert_eq!(scopes_of(&scp), ["skills"]);
        assert_eq!(quoted("bad \"x\"\r\n\\ é"), "bad x ");
    }
}
