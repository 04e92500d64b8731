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
//! names the tenant. The issuer's metadata and keys are fetched with a
//! timeout and a size cap, kept for ten minutes, and fetched again early
//! (at most every 10 s) when a token names a key id not yet known, which is
//! how an issuer's key rotation reaches us. A refetch already under way is
//! never waited for by another request, so a JWKS endpoint that hangs
//! delays no one but the first caller, and only by the timeout.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// Longest token accepted, in bytes (real ones are one or two KiB).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Largest metadata or JWKS document read, in bytes.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How long one fetch from the issuer may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long fetched keys are used before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(600);
/// How often an unknown key id may trigger a fetch.
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);
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

struct Keys {
    keys: Vec<(Option<String>, Algorithm, DecodingKey)>,
    fetched: Instant,
}

/// The resource server: configuration, and the issuer's keys.
pub(super) struct OAuth {
    config: OAuthConfig,
    resource: String,
    audience: String,
    metadata_url: String,
    http: reqwest::Client,
    keys: RwLock<Option<Arc<Keys>>>,
    /// Held while fetching; the time of the last attempt.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

impl OAuth {
    /// The resource server for `config`, served at `base` (`http://HOST:PORT`).
    pub fn new(config: OAuthConfig, base: &str) -> Self {
        let resource = config
            .resource
            .clone()
            .unwrap_or_else(|| format!("{base}/mcp"));
        let audience = config.audience.clone().unwrap_or_else(|| resource.clone());
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap_or_default();
        Self {
            metadata_url: format!("{base}/.well-known/oauth-protected-resource"),
            config,
            resource,
            audience,
            http,
            keys: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(None),
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
        if let Err(e) = self.refresh(true).await {
            tracing::warn!("fetching the OAuth issuer's keys: {e}");
        }
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
        let key = self.key_for(header.kid.as_deref(), header.alg).await?;
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

    /// The issuer's key for `kid` and `alg`, fetching the keys again when
    /// they are old, or when `kid` is unknown and no fetch is under way.
    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, TokenError> {
        let current = self.keys.read().unwrap_or_else(|p| p.into_inner()).clone();
        let keys = match current {
            Some(k) if k.fetched.elapsed() < KEYS_TTL => k,
            Some(k) => {
                // Old keys still serve while a fresh set is fetched.
                self.refresh(false).await.ok().unwrap_or(k)
            }
            None => self.refresh(true).await?,
        };
        if let Some(key) = find(&keys, kid, alg) {
            return Ok(key);
        }
        // Perhaps the issuer rotated its keys: look once more, unless a
        // look is under way or was taken moments ago.
        if let Ok(fresh) = self.refresh(false).await
            && let Some(key) = find(&fresh, kid, alg)
        {
            return Ok(key);
        }
        Err(TokenError::Invalid(format!(
            "the issuer has no {alg:?} key {}",
            kid.map_or("(no kid)".to_owned(), |k| format!("{k:?}"))
        )))
    }

    /// Fetch the keys. With `wait`, wait for a fetch under way (there are
    /// no keys yet to answer with); without, give up at once if one is
    /// under way or the last try was under [`REFETCH_AT_MOST_EVERY`] ago.
    async fn refresh(&self, wait: bool) -> Result<Arc<Keys>, TokenError> {
        let unavailable = |m: String| TokenError::Unavailable(m);
        let mut last = if wait {
            tokio::time::timeout(FETCH_TIMEOUT * 3, self.fetching.lock())
                .await
                .map_err(|_| unavailable("the issuer's keys are being fetched; try again".into()))?
        } else {
            self.fetching
                .try_lock()
                .map_err(|_| unavailable("the issuer's keys are being fetched".into()))?
        };
        let current = self.keys.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(at) = *last
            && at.elapsed() < REFETCH_AT_MOST_EVERY
        {
            // Someone fetched (or failed to) just now.
            return current
                .ok_or_else(|| unavailable("the issuer's keys cannot be fetched".into()));
        }
        *last = Some(Instant::now());
        let keys = Arc::new(self.fetch_keys().await.map_err(unavailable)?);
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Some(keys.clone());
        Ok(keys)
    }

    async fn fetch_keys(&self) -> Result<Keys, String> {
        let issuer = self.config.issuer.trim_end_matches('/');
        let mut metadata = None;
        for url in metadata_urls(issuer) {
            if let Ok(doc) = self.fetch_json(&url).await {
                metadata = Some(doc);
                break;
            }
        }
        let metadata =
            metadata.ok_or_else(|| format!("no authorization server metadata at {issuer}"))?;
        if metadata["issuer"].as_str().map(|s| s.trim_end_matches('/')) != Some(issuer) {
            return Err("the authorization server's metadata names another issuer".into());
        }
        let jwks_uri = metadata["jwks_uri"]
            .as_str()
            .ok_or("the authorization server's metadata has no jwks_uri")?;
        let jwks = self.fetch_json(jwks_uri).await?;
        let keys: Vec<_> = jwks["keys"]
            .as_array()
            .ok_or("the JWKS has no keys")?
            .iter()
            .filter_map(usable_key)
            .collect();
        if keys.is_empty() {
            return Err("the JWKS has no usable signing key".into());
        }
        Ok(Keys {
            keys,
            fetched: Instant::now(),
        })
    }

    /// GET `url` as JSON, at most [`MAX_DOCUMENT_BYTES`], within the timeout.
    async fn fetch_json(&self, url: &str) -> Result<Value, String> {
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url}: HTTP {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("{url}: over {MAX_DOCUMENT_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
    }
}

/// Where an issuer's metadata may be: OpenID Connect discovery, then RFC
/// 8414 (with the issuer's path after the well-known part).
fn metadata_urls(issuer: &str) -> Vec<String> {
    let mut urls = vec![format!("{issuer}/.well-known/openid-configuration")];
    match issuer
        .find("://")
        .and_then(|i| issuer[i + 3..].find('/').map(|j| i + 3 + j))
    {
        Some(split) => {
            let (origin, path) = issuer.split_at(split);
            urls.push(format!(
                "{origin}/.well-known/oauth-authorization-server{path}"
            ));
        }
        None => urls.push(format!("{issuer}/.well-known/oauth-authorization-server")),
    }
    urls
}

/// A JWKS entry we can verify with: a public signing key of an asymmetric
/// family (symmetric `oct` keys and keys for encryption are skipped), with
/// the algorithm it names or the family's usual one.
fn usable_key(entry: &Value) -> Option<(Option<String>, Algorithm, DecodingKey)> {
    if entry
        .get("use")
        .and_then(Value::as_str)
        .is_some_and(|u| u != "sig")
    {
        return None;
    }
    let jwk: Jwk = serde_json::from_value(entry.clone()).ok()?;
    let usual = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        _ => return None,
    };
    let alg = match entry.get("alg").and_then(Value::as_str) {
        Some(name) => name.parse::<Algorithm>().ok()?,
        None => usual,
    };
    if !ALGORITHMS.contains(&alg) || alg.family() != usual.family() {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some((jwk.common.key_id.clone(), alg, key))
}

/// The key with id `kid` (or the only key, when the token names none) of
/// the token's algorithm.
fn find(keys: &Keys, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
    let fits = |(id, a, _): &&(Option<String>, Algorithm, DecodingKey)| {
        *a == alg && (kid.is_none() || id.as_deref() == kid)
    };
    let mut matching = keys.keys.iter().filter(fits);
    let first = matching.next()?;
    if kid.is_none() && matching.next().is_some() {
        return None; // ambiguous: a token must name its key
    }
    Some(first.2.clone())
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
    fn metadata_urls_follow_oidc_then_rfc_8414() {
        assert_eq!(
            metadata_urls("https://id.example"),
            [
                "https://id.example/.well-known/openid-configuration",
                "https://id.example/.well-known/oauth-authorization-server"
            ]
        );
        assert_eq!(
            metadata_urls("https://id.example/tenant1")[1],
            "https://id.example/.well-known/oauth-authorization-server/tenant1"
        );
    }

    #[test]
    fn symmetric_and_encryption_keys_are_never_used() {
        let oct = serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"});
        assert!(usable_key(&oct).is_none());
        let enc = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "use": "enc",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert!(usable_key(&enc).is_none());
        let sig = serde_json::json!({"kty": "OKP", "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(usable_key(&sig).map(|k| k.1), Some(Algorithm::EdDSA));
        // A key claiming an algorithm of another family is refused.
        let mixed = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "alg": "RS256",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert!(usable_key(&mixed).is_none());
    }

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
