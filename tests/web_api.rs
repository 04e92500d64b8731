//! The REST API the web UI uses, over real HTTP against an in-process
//! server: the execution log, reset, the run endpoint, the embedded page,
//! and the same-origin guard that keeps other web pages out of a loopback
//! server with no key.

use crate::util::{get, post};
use autolearn::app::{App, Event};
use autolearn::skills::{Example, Provenance, SkillManifest};
use serde_json::{Value, json};

fn double() -> SkillManifest {
    SkillManifest {
        runtime: Default::default(),
        memoize: false,
        requires: Vec::new(),
        name: "double".into(),
        description: "Twice a number.".into(),
        input_schema: json!({"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}),
        output_schema: None,
        source: "def f(x):\n    \"\"\"Twice x.\"\"\"\n    if x == 13:\n        raise ValueError('unlucky')\n    return 2 * x\n".into(),
        entry: "f".into(),
        examples: vec![Example {
            input: json!({"x": 2}),
            output: json!(4),
        }],
    }
}

/// A served app on a fresh data dir: the app, its store (for what the
/// test checks beneath the app), the base URL, and the dir.
async fn server() -> (App, autolearn::store::SkillStore, String, tempfile::TempDir) {
    let (app, store, dir) = crate::util::app_on_disk().await;
    let practice = autolearn::practice::Practice::shipped(app.clone()).unwrap();
    (app, store, crate::util::serve(practice, None).await, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_logged_and_a_reset_clears_the_tenant_but_keeps_the_chain() {
    let (app, store, base, _dir) = server().await;
    let mut feed = app.subscribe();
    app.skills()
        .add("local", double(), Provenance::Authored)
        .await
        .unwrap();
    app.skills()
        .add("other", double(), Provenance::Authored)
        .await
        .unwrap();

    let (status, ok) = post(
        &format!("{base}/api/skills/double/run"),
        json!({"input": {"x": 21}}),
    )
    .await;
    assert_eq!((status, &ok["result"]), (200, &json!(42)), "{ok}");
    let (status, failed) = post(
        &format!("{base}/api/skills/double/run"),
        json!({"input": {"x": 13}}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(failed["error"]["error_type"], "ValueError");
    let (status, bad) = post(
        &format!("{base}/api/skills/double/run"),
        json!({"input": {"x": "two"}}),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["kind"].as_str()),
        (400, Some("bad_input"))
    );
    assert_eq!(
        post(&format!("{base}/api/skills/nope/run"), json!({}))
            .await
            .0,
        404
    );

    app.calls().flush().await;
    let (_, log) = get(&format!("{base}/api/executions")).await;
    let rows = log["executions"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{log}");
    assert_eq!(rows[3]["output"], "42");
    assert_eq!(rows[2]["error_kind"], "exception");
    assert_eq!(rows[1]["error_kind"], "bad_input");
    assert_eq!(rows[0]["error_kind"], "not_found");
    assert!(rows[3]["fuel"].as_u64().unwrap() > 0);
    // Each row reached the live feed too, after the skill was added.
    let mut executed = 0;
    while let Ok(e) = feed.try_recv() {
        if matches!(*e.event, Event::SkillExecuted(_)) {
            assert_eq!(&*e.tenant, "local");
            executed += 1;
        }
    }
    assert_eq!(executed, 4);

    let (_, detail) = get(&format!("{base}/api/skills/double")).await;
    assert_eq!(detail["versions"].as_array().unwrap().len(), 1);
    assert_eq!(detail["learnings"][0]["kind"], "decision");

    let mut skill_events = app.subscribe();
    let (status, reset) = post(&format!("{base}/api/reset"), json!({})).await;
    assert_eq!(status, 200, "{reset}");
    assert_eq!(reset["cleared"]["skills"], 1);
    assert_eq!(reset["cleared"]["executions"], 4);
    let heard = loop {
        let e = skill_events.recv().await.unwrap();
        if let Some(name) = e.event.changed_skill() {
            break name.to_owned();
        }
    };
    assert_eq!(heard, "double", "MCP sessions hear of it");
    assert_eq!(
        get(&format!("{base}/api/skills")).await.1["skills"],
        json!([])
    );
    assert_eq!(
        get(&format!("{base}/api/executions")).await.1["executions"],
        json!([])
    );
    assert_eq!(
        get(&format!("{base}/api/learnings")).await.1["learnings"],
        json!([])
    );
    // Another tenant's skill is untouched, and the log is one valid chain.
    assert!(app.skills().get("other", "double").await.is_ok());
    assert!(store.verify_learnings().await.unwrap().is_ok());
    // The demo can run again.
    app.skills()
        .add("local", double(), Provenance::Authored)
        .await
        .unwrap();
    assert_eq!(
        get(&format!("{base}/api/learnings")).await.1["learnings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_embedded_and_other_origins_are_refused() {
    let (_app, _store, base, _dir) = server().await;
    let page = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(page.text().await.unwrap().contains("/assets/app.js"));
    assert_eq!(
        reqwest::get(format!("{base}/assets/app.js"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(format!("{base}/assets/../Cargo.toml"))
            .await
            .unwrap()
            .status(),
        404
    );

    let client = reqwest::Client::new();
    // A page on another site, calling the loopback server from the browser.
    let evil = client
        .post(format!("{base}/api/reset"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    // A hostile DNS name rebound to 127.0.0.1.
    let rebound = client
        .get(format!("{base}/api/whoami"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    // The page's own origin is fine.
    let host = base.trim_start_matches("http://");
    let same = client
        .get(format!("{base}/api/whoami"))
        .header("origin", format!("http://{host}"))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
    assert_eq!(same.json::<Value>().await.unwrap()["tenant"], "local");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_chat_requests_are_refused_at_once_and_others_are_served() {
    let (_app, _store, base, _dir) = server().await;
    let huge = "x".repeat(300 * 1024);
    let (agent, whoami) = (format!("{base}/api/agent"), format!("{base}/api/whoami"));
    let started = std::time::Instant::now();
    let (big, answer) = tokio::join!(post(&agent, json!({"prompt": huge})), get(&whoami));
    assert_eq!(big.0, 400, "{}", big.1);
    assert!(
        big.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 262144 bytes")
    );
    assert_eq!(answer.0, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Not JSON, unknown fields, an empty prompt: each a clear 400.
    let raw = reqwest::Client::new()
        .post(format!("{base}/api/agent"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(
        post(
            &format!("{base}/api/agent"),
            json!({"prompt": "x", "evil": 1})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        post(&format!("{base}/api/agent"), json!({"prompt": "  "}))
            .await
            .0,
        400
    );
    // No model configured: the chat says how to get one.
    let (status, none) = post(&format!("{base}/api/agent"), json!({"prompt": "hi"})).await;
    assert_eq!(
        (status, none["error"]["kind"].as_str()),
        (503, Some("no_llm"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_database_and_healthz_only_says_alive() {
    let (_app, store, base, _dir) = server().await;
    let (status, ready) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["artifact"]["sha256"].as_str().unwrap().len(), 64);
    // The database goes away: not ready (a load balancer stops sending
    // traffic), while the process is still alive.
    store.pool().close().await;
    let (status, ready) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "not_ready");
    let (status, health) = get(&format!("{base}/healthz")).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_refusal_is_a_429_with_retry_after_and_metrics_count_it() {
    let (app, store, base, _dir) = server().await;
    let key = store.create_tenant("capped").await.unwrap();
    let mut quotas = autolearn::quota::Quotas::default();
    quotas.set("calls_per_minute", "2").unwrap();
    store.set_tenant_quotas("capped", &quotas).await.unwrap();
    app.skills()
        .add("capped", double(), Provenance::Authored)
        .await
        .unwrap();
    // Not across a minute boundary, which would reset the window.
    let left = 60_000 - autolearn::store::now_ms().rem_euclid(60_000);
    if left < 10_000 {
        tokio::time::sleep(std::time::Duration::from_millis(left as u64 + 50)).await;
    }
    let client = reqwest::Client::new();
    let run = || {
        client
            .post(format!("{base}/api/skills/double/run"))
            .bearer_auth(&key)
            .json(&json!({"input": {"x": 3}}))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(run().await.unwrap().status(), 200);
    }
    let refused = run().await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "quota_exceeded");
    assert_eq!(body["error"]["quota"], "calls_per_minute");
    assert_eq!(body["error"]["limit"], 2);

    // Loopback: /metrics needs no key; its counters match what was done.
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = metrics.text().await.unwrap();
    for line in [
        r#"autolearn_skill_calls_total{tenant="capped",outcome="ok"} 2"#,
        r#"autolearn_quota_rejections_total{tenant="capped",quota="calls_per_minute"} 1"#,
        r#"autolearn_skill_call_seconds_count{tenant="capped"} 3"#,
        r#"autolearn_skill_calls_total{tenant="capped",outcome="quota_exceeded"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_request_id_is_replaced_by_a_short_one_of_ours() {
    let (_app, _store, base, _dir) = server().await;
    let client = reqwest::Client::new();
    // A load balancer's short id is kept.
    let r = client
        .get(format!("{base}/healthz"))
        .header("x-request-id", "lb-42.a_b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "lb-42.a_b");
    // Long or odd ones are not echoed or logged: a new id stands in.
    for hostile in [
        "x".repeat(8 << 10),
        "a b\"}{".to_owned(),
        "\u{7f}".to_owned(),
    ] {
        let Ok(value) = reqwest::header::HeaderValue::from_str(&hostile) else {
            continue;
        };
        let r = client
            .get(format!("{base}/healthz"))
            .header("x-request-id", value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(id.len() <= 64 && id != hostile, "{id}");
    }
}

/// Open `/api/events` as a browser would (the key as a subprotocol) on a
/// raw connection; the status of the upgrade, and the connection.
async fn open_feed(base: &str, key: &str) -> (u16, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET /api/events HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: autolearn, bearer.{key}\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, tcp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenant_filling_its_feeds_leaves_another_tenant_served() {
    let (_app, store, base, _dir) = server().await;
    let flood = store.create_tenant("flood").await.unwrap();
    let calm = store.create_tenant("calm").await.unwrap();
    let mut open = Vec::new();
    for i in 0..16 {
        let (status, tcp) = open_feed(&base, &flood).await;
        assert_eq!(status, 101, "feed {i} of the flooding tenant");
        open.push(tcp);
    }
    let (status, _) = open_feed(&base, &flood).await;
    assert_eq!(status, 429, "past its share");
    let (status, _calm_feed) = open_feed(&base, &calm).await;
    assert_eq!(status, 101, "another tenant still gets a feed");
    // Closing one gives the flooder a place back.
    drop(open.pop());
    let mut again = 0;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        again = open_feed(&base, &flood).await.0;
        if again == 101 {
            break;
        }
    }
    assert_eq!(again, 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_ends_when_its_key_is_revoked_and_the_tenants_other_key_works_on() {
    use tokio::io::AsyncReadExt;
    let (_app, store, base, _dir) = server().await;
    let first = store.create_tenant("acme").await.unwrap();
    let second = store.add_key("acme", "laptop", None).await.unwrap();
    let (status, mut feed) = open_feed(&base, &second.key).await;
    assert_eq!(status, 101);
    let (status, _other) = open_feed(&base, &first).await;
    assert_eq!(status, 101);
    store.revoke_key("acme", &second.id).await.unwrap();
    // The server closes the revoked feed: the stream reaches its end.
    let mut buf = vec![0u8; 4096];
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match feed.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the revoked key's feed is still open");
    assert_eq!(open_feed(&base, &second.key).await.0, 401);
    assert_eq!(open_feed(&base, &first).await.0, 101);
}

/// A model whose code panics: a stand-in for any bug in work a page waits
/// on.
struct Panicking;

impl autolearn::llm::ChatModel for Panicking {
    fn info(&self) -> autolearn::llm::BackendInfo {
        autolearn::llm::BackendInfo {
            backend: "openai".into(),
            reasoning_model: Some("panics".into()),
            fast_model: None,
            base_url: None,
        }
    }

    fn chat(&self, _request: autolearn::llm::ChatRequest) -> autolearn::llm::ChatFuture<'_> {
        Box::pin(async { panic!("a bug in the model's code") })
    }
}

/// The first notice of `kind` (`agent_done`, `generation_done`) about `id`.
async fn done_notice(
    feed: &mut tokio::sync::broadcast::Receiver<autolearn::app::TenantEvent>,
    field: &str,
    id: &str,
) -> Value {
    loop {
        let e = tokio::time::timeout(std::time::Duration::from_secs(30), feed.recv())
            .await
            .expect("the page heard nothing within 30 s")
            .unwrap();
        let notice = match &*e.event {
            Event::Agent(n) | Event::Generation(n) => n.0.clone(),
            _ => continue,
        };
        if notice[field] == id
            && notice["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("_done"))
        {
            return notice;
        }
    }
}

/// A chat or a generation whose work panics still ends for the page that
/// waits on it, with an error saying so; the server keeps serving, and
/// the slot the work held is given back (the next chat starts and ends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_that_panics_still_ends_for_the_page_and_the_server_serves_on() {
    let (app, _store, _dir) = crate::util::app_on_disk().await;
    let app = app.with_llm(std::sync::Arc::new(Panicking));
    let practice = autolearn::practice::Practice::shipped(app.clone()).unwrap();
    let base = crate::util::serve(practice, None).await;
    let mut feed = app.subscribe();
    for _ in 0..3 {
        let (status, started) = post(
            &format!("{base}/api/agent"),
            json!({"prompt": "count the words of `data`\n\n```text\nthe cat\n```\n"}),
        )
        .await;
        assert_eq!(status, 202, "{started}");
        let chat = started["chat"].as_str().unwrap();
        let done = done_notice(&mut feed, "chat", chat).await;
        assert!(
            done["error"]
                .as_str()
                .unwrap()
                .contains("a bug in AutoLearn"),
            "{done}"
        );
    }
    let (status, started) = post(
        &format!("{base}/api/generations"),
        json!({"request": "twice x", "examples": [{"input": {"x": 2}, "output": 4}]}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let generation = started["generation"].as_str().unwrap();
    let done = done_notice(&mut feed, "generation", generation).await;
    assert_eq!(done["error"]["kind"], "internal", "{done}");
    let (status, _) = get(&format!("{base}/api/whoami")).await;
    assert_eq!(status, 200);
}
