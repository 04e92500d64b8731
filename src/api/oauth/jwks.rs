//! The issuer's signing keys: its metadata (OpenID discovery, else RFC
//! 8414) and its JWKS, fetched with a timeout and a size cap, kept for
//! [`KEYS_TTL`], and fetched again early (at most every
//! [`REFETCH_AT_MOST_EVERY`]) when a token names a key id not yet known,
//! which is how an issuer's key rotation reaches us. A fetch under way is
//! never waited for by a request that has keys to answer with, so a JWKS
//! endpoint that hangs delays no one but the first caller, and only by the
//! timeout.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::{ALGORITHMS, TokenError};

/// Largest metadata or JWKS document read, in bytes.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How long one fetch from the issuer may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long fetched keys are used before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(600);
/// How often an unknown key id may trigger a fetch.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);

struct Keys {
    keys: Vec<(Option<String>, Algorithm, DecodingKey)>,
    fetched: Instant,
}
/// The keys of one issuer.
pub(super) struct Jwks {
    issuer: String,
    http: reqwest::Client,
    keys: RwLock<Option<Arc<Keys>>>,
    /// Held while fetching; the time of the last attempt.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

impl Jwks {
    pub fn new(issuer: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap_or_default();
        Self {
            issuer: issuer.to_owned(),
            http,
            keys: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(None),
        }
    }

    /// Fetch the keys now (at start), so the first request need not wait.
    pub async fn prefetch(&self) {
        if let Err(e) = self.refresh(true).await {
            tracing::warn!("fetching the OAuth issuer's keys: {e}");
        }
    }

    /// The issuer's key for `kid` and `alg`, fetching the keys again when
    /// they are old, or when `kid` is unknown and no fetch is under way.
    pub async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, TokenError> {
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
        let issuer = self.issuer.trim_end_matches('/');
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
}
