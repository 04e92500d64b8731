//! AutoLearn's own long tools over MCP, through rmcp's client in process:
//! `learn` (a practice run) as a task whose status is each finished step,
//! and `generate_skill`'s questions asked live of a 2025-11-25 session that
//! declared elicitation, or explained to a client that can answer none.
//! (Input-required results need a 2026-07-28 client: the Python SDK's, in
//! tests/clients/test_asking.py.)

use std::time::Duration;

use autolearn::mcp::McpServer;
use autolearn::practice::curriculum::Curriculum;
use autolearn::practice::{Practice, PracticeOptions};
use autolearn::store::SkillStore;
use rmcp::ClientHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, GetTaskParams, Implementation, ProtocolVersion, TaskPayload,
    TaskStatus,
};
use rmcp::service::{RequestContext, RoleClient, RunningService};
use serde_json::{Value, json};

use crate::fake_llm::{Script, serve, temps};

/// A client: its capabilities, its protocol version, and a person who
/// picks the first choice of every question asked live.
#[derive(Clone)]
struct Person {
    caps: ClientCapabilities,
    version: Option<ProtocolVersion>,
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        let info = ClientConfig::new(
            self.caps.clone(),
            Implementation::new("mcp-tasks-test", "1.0.0"),
        );
        match &self.version {
            Some(v) => info.with_protocol_version(v.clone()),
            None => info,
        }
    }

    async fn create_elicitation(
        &self,
        _request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(json!({"choice": "1"})))
    }
}

async fn connect(server: McpServer, person: Person) -> RunningService<RoleClient, Person> {
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = rmcp::ServiceExt::serve(server, theirs).await {
            let _ = running.waiting().await;
        }
    });
    rmcp::ServiceExt::serve(person, ours).await.unwrap()
}

fn person(caps: ClientCapabilities, version: Option<ProtocolVersion>) -> Person {
    Person { caps, version }
}

fn call(name: &str, args: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name.to_owned()).with_arguments(args.as_object().unwrap().clone())
}

#[tokio::test]
async fn learn_runs_as_a_task_that_reports_each_step() {
    let (url, _fake) = serve(crate::practice::script(true)).await;
    let dir = tempfile::tempdir().unwrap();
    let app = crate::fake_llm::app_on(
        &url,
        SkillStore::open(&dir.path().join("db.sqlite"))
            .await
            .unwrap(),
    )
    .await;
    let practice = Practice::new(
        app.clone(),
        Curriculum::from_dir(crate::practice::tiny_curricula()).unwrap(),
        PracticeOptions {
            candidates: 4,
            repair_rounds: 0,
        },
    );
    let server = McpServer::for_tenant(app, "local").with_practice(practice);
    let client = connect(
        server,
        person(ClientCapabilities::builder().enable_tasks().build(), None),
    )
    .await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "learn"));

    let created = match client
        .call_tool_once(call("learn", json!({"hours": 0.2})))
        .await
        .unwrap()
    {
        CallToolResponse::Task(t) => t,
        other => panic!("learn should be a task: {other:?}"),
    };
    let id = created.task.task_id.clone();
    let mut messages = Vec::new();
    let done = loop {
        let got = client
            .get_task(GetTaskParams::new(id.clone()))
            .await
            .unwrap();
        if let Some(m) = &got.task.task.status_message
            && messages.last() != Some(m)
        {
            messages.push(m.clone());
        }
        if got.task.task.status.is_terminal() {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done.task.task.status, TaskStatus::Completed, "{done:?}");
    let TaskPayload::Completed { result } = &done.task.payload else {
        panic!("{done:?}")
    };
    assert_ne!(result.get("isError"), Some(&json!(true)), "{result:?}");
    let worked = &result["structuredContent"]["worked"];
    assert!(worked["progress"].as_f64().unwrap() > 0.0, "{worked}");
    assert!(messages.iter().any(|m| m.contains("phase")), "{messages:?}");

    // Unknown task ids are -32602, and a second run while one works is
    // refused with the reason.
    let err = client
        .get_task(GetTaskParams::new("task-nope"))
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("-32602") || format!("{err:?}").contains("InvalidParams"),
        "{err:?}"
    );
}

const RIGHT: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price * (1 - discount / 100), 2)\n";
const CLAMPED: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    d = max(0, min(100, discount))\n    return round(price * (1 - d / 100), 2)\n";

fn generate() -> Value {
    json!({
        "request": "Apply a percentage discount to a price",
        "name": "net_price",
        "examples": [
            {"input": {"price": 100, "discount": 10}, "output": 90.0},
            {"input": {"price": 80, "discount": 25}, "output": 60.0}
        ]
    })
}

/// A plain generate_skill call's outcome.
async fn generated(client: &RunningService<RoleClient, Person>) -> Value {
    match client
        .call_tool_once(call("generate_skill", generate()))
        .await
        .unwrap()
    {
        CallToolResponse::Complete(r) => r.structured_content.unwrap(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn generate_skill_asks_a_2025_session_live_and_tells_others_how_to_answer() {
    let (url, _fake) = serve(Script {
        by_temperature: temps([RIGHT, CLAMPED, RIGHT, CLAMPED]),
        ..Default::default()
    })
    .await;
    let app = crate::fake_llm::app_on(&url, SkillStore::in_memory().await.unwrap()).await;
    let caps = ClientCapabilities::builder().enable_elicitation().build();
    // A 2025-11-25 session that declared elicitation is asked as the
    // pipeline goes, by the server.
    let live = connect(
        McpServer::for_tenant(app.clone(), "live"),
        person(caps, None),
    )
    .await;
    let out = generated(&live).await;
    let answered = out["asked"].as_array().unwrap();
    assert!(
        !answered.is_empty() && answered.iter().all(|a| !a["answer"].is_null()),
        "{out}"
    );

    // A client that can answer neither way gets how to answer.
    let plain = connect(
        McpServer::for_tenant(app, "plain"),
        person(ClientCapabilities::default(), None),
    )
    .await;
    let out = generated(&plain).await;
    assert!(
        out["how_to_answer"].as_str().unwrap().contains("draft"),
        "{out}"
    );
}
