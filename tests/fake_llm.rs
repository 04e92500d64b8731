//! A local fake of the OpenAI chat completions API: the only fake allowed,
//! at the LLM's network boundary. It serves recorded answers: the spec,
//! candidate code keyed by sampling temperature (so concurrent sampling
//! stays deterministic), repairs and refinements.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What the fake says.
#[derive(Default)]
pub struct Script {
    pub spec: Value,
    /// Specs for prompts that contain a needle; checked before `spec`.
    pub specs_by_request: Vec<(String, Value)>,
    /// Candidate code by temperature (as text, e.g. "0.0").
    pub by_temperature: HashMap<String, String>,
    /// Candidate code by temperature for prompts that contain a needle
    /// (several requests against one fake); checked before `by_temperature`.
    pub by_request: Vec<(String, HashMap<String, String>)>,
    /// The answer to a repair prompt.
    pub repair: Option<String>,
    /// Answer the first N calls with 429.
    pub throttle: usize,
    /// Refuse `json_schema` response formats with a 500, as llama-cpp-python does.
    pub refuse_json_schema: bool,
    /// Answer the spec with this raw body instead.
    pub raw_spec: Option<String>,
    /// The answer to a crystallization refinement.
    pub refine: Option<Value>,
    /// Answers to requests that offer tools: the assistant message.
    pub agent: Option<AgentScript>,
    /// Wait this long before each answer (a slow model).
    pub delay: std::time::Duration,
}

/// What a tool-calling model answers, given the request body.
pub type AgentScript = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

#[derive(Clone)]
pub struct Fake {
    script: Arc<Script>,
    pub calls: Arc<AtomicUsize>,
    pub formats: Arc<Mutex<Vec<String>>>,
    /// The last message of each request, in order.
    pub prompts: Arc<Mutex<Vec<String>>>,
    /// The first (system) message of each request, in order.
    pub systems: Arc<Mutex<Vec<String>>>,
    /// The tool names each tool-calling request offered, in order.
    pub offered: Arc<Mutex<Vec<Vec<String>>>>,
}

fn completion(text: &str) -> Value {
    json!({"choices": [{"message": {"role": "assistant", "content": text}}], "usage": {"prompt_tokens": 100, "completion_tokens": 50}})
}

async fn chat(State(fake): State<Fake>, Json(body): Json<Value>) -> Response {
    let n = fake.calls.fetch_add(1, Ordering::SeqCst);
    let s = &fake.script;
    tokio::time::sleep(s.delay).await;
    if n < s.throttle {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            "slow down",
        )
            .into_response();
    }
    let format = body["response_format"]["type"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    fake.formats.lock().unwrap().push(format.clone());
    if let (Some(tools), Some(agent)) = (body["tools"].as_array(), &s.agent) {
        let names = tools
            .iter()
            .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
            .collect();
        fake.offered.lock().unwrap().push(names);
        let message = agent(&body);
        return Json(json!({"choices": [{"message": message}], "usage": {"prompt_tokens": 300, "completion_tokens": 40}}))
            .into_response();
    }
    if s.refuse_json_schema && format == "json_schema" {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "unsupported response_format",
        )
            .into_response();
    }
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    fake.prompts.lock().unwrap().push(prompt.to_owned());
    let system = body["messages"]
        .as_array()
        .and_then(|m| m.first())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    fake.systems.lock().unwrap().push(system.to_owned());
    if prompt.starts_with("This Python function was built") {
        let answer = s.refine.clone().unwrap_or(json!({}));
        return Json(completion(&answer.to_string())).into_response();
    }
    if prompt.starts_with("Design a function") {
        if let Some(raw) = &s.raw_spec {
            return (StatusCode::OK, raw.clone()).into_response();
        }
        let spec = s
            .specs_by_request
            .iter()
            .find(|(needle, _)| prompt.contains(needle.as_str()))
            .map_or(&s.spec, |(_, spec)| spec);
        return Json(completion(&spec.to_string())).into_response();
    }
    if prompt.contains("A previous attempt failed")
        && let Some(code) = &s.repair
    {
        return Json(completion(&format!("Fixed:\n```python\n{code}```"))).into_response();
    }
    let t = format!("{:.1}", body["temperature"].as_f64().unwrap_or(0.0));
    let table = s
        .by_request
        .iter()
        .find(|(needle, _)| prompt.contains(needle.as_str()))
        .map_or(&s.by_temperature, |(_, t)| t);
    let code = table
        .get(&t)
        .cloned()
        .unwrap_or_else(|| "def broken(:\n".into());
    Json(completion(&format!("```python\n{code}```"))).into_response()
}

pub async fn serve(script: Script) -> (String, Fake) {
    let fake = Fake {
        script: Arc::new(script),
        calls: Arc::default(),
        formats: Arc::default(),
        prompts: Arc::default(),
        systems: Arc::default(),
        offered: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(chat))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), fake)
}

/// Candidate code for the first four sampling temperatures, in order.
pub fn temps(codes: [&str; 4]) -> HashMap<String, String> {
    ["0.0", "0.6", "0.9", "1.1"]
        .iter()
        .zip(codes)
        .map(|(t, c)| ((*t).to_owned(), c.to_owned()))
        .collect()
}

/// An assistant message calling `name` with `arguments`.
pub fn tool_call(name: &str, arguments: Value) -> Value {
    json!({"role": "assistant", "content": null, "tool_calls": [{
        "id": "call_1", "type": "function",
        "function": {"name": name, "arguments": arguments.to_string()},
    }]})
}

/// The demo examples (examples/demo/examples.json).
pub fn demo_examples() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/demo/examples.json"
    ))
    .unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["examples"]
        .as_array()
        .unwrap()
        .clone()
}

/// A demo example's prompt, with its data or its variant's.
pub fn demo_prompt(example: &Value, variant: bool) -> String {
    let data = example[if variant { "variant" } else { "data" }]
        .as_str()
        .unwrap();
    format!(
        "{}\n\n```{}\n{data}```\n",
        example["task"].as_str().unwrap(),
        example["lang"].as_str().unwrap()
    )
}

/// A model solving the demo examples as recorded
/// (tests/fixtures/agent_recorded.json): step by step with run_python,
/// then finish; given skills, it calls the one whose description is the
/// task, else solves step by step.
pub fn recorded_agent() -> AgentScript {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/agent_recorded.json"
    ))
    .unwrap();
    let recorded: Value = serde_json::from_str(&text).unwrap();
    let examples = demo_examples();
    Arc::new(move |body: &Value| {
        let messages = body["messages"].as_array().unwrap();
        let task = messages
            .iter()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or("");
        let example = examples
            .iter()
            .find(|e| task.starts_with(e["task"].as_str().unwrap()));
        let tools: Vec<&Value> = body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["function"])
            .collect();
        if tools.iter().any(|t| t["name"] == "run_python") {
            let done = messages.iter().filter(|m| m["role"] == "tool").count();
            let steps = example
                .map(|e| {
                    recorded["steps"][e["id"].as_str().unwrap()]
                        .as_array()
                        .unwrap()
                        .clone()
                })
                .unwrap_or_default();
            return match steps.get(done) {
                Some(code) => tool_call("run_python", json!({"code": code})),
                None => tool_call("finish", json!({})),
            };
        }
        let head: String = task.chars().take(60).collect();
        match tools.iter().find(|t| {
            t["description"]
                .as_str()
                .is_some_and(|d| d.starts_with(&head))
        }) {
            Some(t) => tool_call(t["name"].as_str().unwrap(), json!({})),
            None => tool_call("solve_step_by_step", json!({})),
        }
    })
}

/// An app whose model is the fake at `url`, on `store`.
pub async fn app_on(url: &str, store: autolearn::store::SkillStore) -> autolearn::app::App {
    use autolearn::llm::openai::{OpenAi, OpenAiConfig};
    let llm = OpenAi::new(OpenAiConfig {
        base_url: url.into(),
        base_url_given: true,
        ..OpenAiConfig::default()
    })
    .unwrap();
    crate::util::app_for(store).with_llm(Arc::new(llm))
}
