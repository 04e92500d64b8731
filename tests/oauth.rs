//! AutoLearn as an OAuth resource server, against an issuer the test runs
//! (its metadata and JWKS over real HTTP, Ed25519 keys made by ring), and
//! tokens an attacker would try: another audience, expired, `alg: none`,
//! HMAC with the public key as secret, an unknown `kid`, another issuer's
//! key, oversized, missing scope, an unknown tenant; a JWKS endpoint that
//! hangs; and a key rotation. The end-to-end flow with a real provider and
//! the MCP Python SDK's OAuth client is in tests/clients/test_oauth.py.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use autolearn::api::OAuthConfig;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

fn b64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// An Ed25519 signing key with its JWK.
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

fn signing_key(kid: &str) -> SigningKey {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    SigningKey {
        kid: kid.into(),
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
            "kid": kid, "x": b64url(pair.public_key().as_ref())}),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

/// An issuer: OpenID discovery and a JWKS that the test can change (or
/// make hang).
struct Issuer {
    url: String,
    jwks: Arc<Mutex<Value>>,
}

async fn issuer(hang: bool) -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let jwks = Arc::new(Mutex::new(json!({"keys": []})));
    let (meta_url, keys) = (url.clone(), jwks.clone());
    let router = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                let url = meta_url.clone();
                async move { axum::Json(json!({"issuer": url, "jwks_uri": format!("{url}/jwks")})) }
            }),
        )
        .route(
            "/jwks",
            axum::routing::get(move || {
                let keys = keys.clone();
                async move {
                    if hang {
                        std::future::pending::<()>().await;
                    }
                    axum::Json(keys.lock().unwrap().clone())
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    Issuer { url, jwks }
}

/// A server accepting `issuer`'s tokens for tenant claim `tenant` and
/// scope `skills`; its base URL, and a key of tenant `acme` (which exists).
async fn server(issuer: &str) -> (String, String, tempfile::TempDir) {
    let (app, store, dir) = crate::util::app_on_disk().await;
    let key = store.create_tenant("acme").await.unwrap();
    let oauth = OAuthConfig {
        issuer: issuer.to_owned(),
        resource: None,
        audience: None,
        tenant_claim: "tenant".into(),
        scopes: vec!["skills".into()],
        create_tenants: false,
    };
    let practice = autolearn::practice::Practice::shipped(app).unwrap();
    (crate::util::serve(practice, Some(oauth)).await, key, dir)
}

/// GET /api/whoami with `token`: status, `WWW-Authenticate`, body.
async fn whoami(base: &str, token: Option<&str>) -> (u16, String, Value) {
    let mut r = reqwest::Client::new().get(format!("{base}/api/whoami"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        challenge,
        r.json().await.unwrap_or(Value::Null),
    )
}

fn claims(base: &str, issuer: &str) -> Value {
    json!({"iss": issuer, "aud": format!("{base}/mcp"), "exp": now() + 600,
        "iat": now(), "sub": "alice", "tenant": "acme", "scope": "openid skills"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_tokens_name_their_tenant_and_hostile_ones_are_refused() {
    let issuer = issuer(false).await;
    let key = signing_key("k1");
    *issuer.jwks.lock().unwrap() = json!({"keys": [key.jwk]});
    let (base, api_key, _dir) = server(&issuer.url).await;

    // Discovery: a 401 points at the metadata, which names the issuer.
    let (status, challenge, _) = whoami(&base, None).await;
    assert_eq!(status, 401);
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"skills\""), "{challenge}");
    let metadata: Value = reqwest::get(&metadata_url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], format!("{base}/mcp"));
    assert_eq!(metadata["authorization_servers"], json!([issuer.url]));

    let good = claims(&base, &issuer.url);
    let (status, _, body) = whoami(&base, Some(&sign(&key, &good))).await;
    assert_eq!(
        (status, body["tenant"].as_str()),
        (200, Some("acme")),
        "{body}"
    );
    // AutoLearn's own keys work beside tokens.
    assert_eq!(whoami(&base, Some(&api_key)).await.0, 200);

    let with = |change: Value| {
        let mut c = good.clone();
        for (k, v) in change.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let other_issuer_key = signing_key("k1"); // same kid, not the issuer's
    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(good.to_string().as_bytes())
    );
    let hmac = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("k1".into());
        let secret = key.jwk["x"].as_str().unwrap().as_bytes().to_vec();
        jsonwebtoken::encode(&h, &good, &EncodingKey::from_secret(&secret).unwrap()).unwrap()
    };
    let invalid: Vec<(&str, String)> = vec![
        (
            "another audience",
            sign(&key, &with(json!({"aud": "https://elsewhere.example/mcp"}))),
        ),
        ("expired", sign(&key, &with(json!({"exp": now() - 600})))),
        (
            "another issuer",
            sign(&key, &with(json!({"iss": "https://evil.example"}))),
        ),
        ("alg none", none),
        ("HMAC with the public key", hmac),
        ("unknown kid", sign(&signing_key("k9"), &good)),
        ("another issuer's key", sign(&other_issuer_key, &good)),
        (
            "oversized",
            format!("{}.{}.x", "e".repeat(6000), "f".repeat(6000)),
        ),
        ("not a JWT", "garbage".into()),
    ];
    for (what, token) in &invalid {
        let started = Instant::now();
        let (status, challenge, body) = whoami(&base, Some(token)).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
        assert!(
            challenge.contains("resource_metadata="),
            "{what}: {challenge}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what} took {:?}",
            started.elapsed()
        );
    }
    let (status, challenge, _) =
        whoami(&base, Some(&sign(&key, &with(json!({"scope": "openid"}))))).await;
    assert_eq!(status, 403);
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    let (status, _, body) =
        whoami(&base, Some(&sign(&key, &with(json!({"tenant": "nobody"}))))).await;
    assert_eq!(
        status, 403,
        "an unknown tenant is not created unless configured: {body}"
    );
    let (status, _, _) = whoami(&base, Some(&sign(&key, &with(json!({"tenant": "../x"}))))).await;
    assert_eq!(status, 401, "a claim that is no tenant name");
    // Still serving.
    assert_eq!(whoami(&base, Some(&sign(&key, &good))).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_and_the_old_one_stops_working() {
    let issuer = issuer(false).await;
    let old = signing_key("old");
    *issuer.jwks.lock().unwrap() = json!({"keys": [old.jwk]});
    let (base, _, _dir) = server(&issuer.url).await;
    let c = claims(&base, &issuer.url);
    assert_eq!(whoami(&base, Some(&sign(&old, &c))).await.0, 200);
    let new = signing_key("new");
    *issuer.jwks.lock().unwrap() = json!({"keys": [new.jwk]});
    // A new kid makes the server look again, at most every 10 s.
    let mut status = 0;
    for _ in 0..30 {
        status = whoami(&base, Some(&sign(&new, &c))).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(status, 200, "the rotated key was never fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_jwks_endpoint_delays_no_one_else() {
    let issuer = issuer(true).await;
    let key = signing_key("k1");
    let (base, api_key, _dir) = server(&issuer.url).await;
    let token = sign(&key, &claims(&base, &issuer.url));
    let base2 = base.clone();
    let stuck = tokio::spawn(async move {
        let started = Instant::now();
        let r = whoami(&base2, Some(&token)).await;
        (r, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    assert_eq!(whoami(&base, Some(&api_key)).await.0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a key waited for the JWKS"
    );
    let ((status, _, body), took) = stuck.await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        took < Duration::from_secs(20),
        "bounded by the fetch timeout: {took:?}"
    );
    // The next token is answered at once, not after another hang.
    let token = sign(&key, &claims(&base, &issuer.url));
    let started = Instant::now();
    assert_eq!(whoami(&base, Some(&token)).await.0, 503);
    assert!(started.elapsed() < Duration::from_secs(2));
}
