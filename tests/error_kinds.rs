//! The error taxonomy as each front end reports it: the kind a client
//! reads over MCP (an in-process session of the official wire format) and
//! REST for the same failure, and a host fault whose kind is said but
//! whose text is not. The CLI's kinds and exit codes are in `cli.rs`.

use crate::util::post;
use autolearn::agent::Host;
use autolearn::fault::HOST_MESSAGE;
use autolearn::mcp::McpServer;
use autolearn::skills::{Example, Provenance, SkillManifest, Status};
use serde_json::json;

fn double() -> SkillManifest {
    SkillManifest {
        runtime: Default::default(),
        memoize: false,
        requires: Vec::new(),
        name: "double".into(),
        description: "Double a number.".into(),
        input_schema: json!({"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}),
        output_schema: None,
        source: "def double(x):\n    \"\"\"Double x.\"\"\"\n    return x * 2\n".into(),
        entry: "double".into(),
        examples: vec![Example {
            input: json!({"x": 2}),
            output: json!(4),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpublished_skill_is_not_published_over_mcp_and_rest() {
    let (app, _store, _dir) = crate::util::app_on_disk().await;
    app.skills()
        .add_as("local", double(), Provenance::Authored, Status::Draft)
        .await
        .unwrap();
    let host = Host::over(McpServer::in_process(app.clone(), "local"))
        .await
        .unwrap();
    // Through call_skill, which exists: its error result names the kind.
    let r = host
        .call("call_skill", json!({"name": "double", "input": {"x": 2}}))
        .await
        .unwrap();
    assert!(r.is_error, "{r:?}");
    assert_eq!(r.structured["error"]["kind"], "not_published", "{r:?}");
    // By its own name it is no tool: a protocol error that says why.
    let e = host.call("double", json!({"x": 2})).await.unwrap_err();
    assert!(e.to_string().contains("not published"), "{e}");
    host.close().await;

    let practice = autolearn::practice::Practice::shipped(app.clone()).unwrap();
    let base = crate::util::serve(practice, None).await;
    let (status, body) = post(
        &format!("{base}/api/skills/double/run"),
        json!({"input": {"x": 2}}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (409, Some("not_published")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_fault_says_its_kind_and_keeps_its_text() {
    let (app, store, _dir) = crate::util::app_on_disk().await;
    app.skills()
        .add("local", double(), Provenance::Authored)
        .await
        .unwrap();
    let practice = autolearn::practice::Practice::shipped(app.clone()).unwrap();
    let base = crate::util::serve(practice, None).await;
    let host = Host::over(McpServer::in_process(app.clone(), "local"))
        .await
        .unwrap();
    // The database goes away under a running server.
    store.pool().close().await;

    let r = host
        .call("call_skill", json!({"name": "double", "input": {"x": 2}}))
        .await
        .unwrap();
    assert!(r.is_error, "{r:?}");
    assert_eq!(r.structured["error"]["kind"], "store", "{r:?}");
    assert_eq!(r.structured["error"]["message"], HOST_MESSAGE, "{r:?}");
    assert!(!r.text.contains("pool"), "no database text: {}", r.text);
    host.close().await;

    let (status, body) = post(
        &format!("{base}/api/skills/double/run"),
        json!({"input": {"x": 2}}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["kind"], "store", "{body}");
    assert_eq!(body["error"]["message"], HOST_MESSAGE, "{body}");
    assert!(
        body["error"]["retry_after_seconds"].as_u64().is_some(),
        "{body}"
    );
}
