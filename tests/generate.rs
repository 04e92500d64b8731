//! Generation from plain English, driven by a local fake of the OpenAI API
//! (the only fake allowed: the LLM's network boundary). Candidate answers
//! are keyed by sampling temperature, so concurrent sampling stays
//! deterministic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use autolearn::app::{App, Crystallize, Crystallized, GenerateSkillError};
use autolearn::learn::generate::{GenerateOptions, GenerateRequest};
use autolearn::llm::openai::{OpenAi, OpenAiConfig};
use autolearn::sandbox::{Sandbox, SandboxConfig};
use autolearn::skills::{Example, Status};
use autolearn::store::SkillStore;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What the fake says.
#[derive(Default)]
struct Script {
    spec: Value,
    /// Candidate code by temperature (as text, e.g. "0.2").
    by_temperature: HashMap<String, String>,
    /// The answer to a repair prompt.
    repair: Option<String>,
    /// Answer the first N calls with 429.
    throttle: usize,
    /// Refuse `json_schema` response formats with a 500, as llama-cpp-python does.
    refuse_json_schema: bool,
    /// Answer the spec with this raw body instead.
    raw_spec: Option<String>,
    /// The answer to a crystallization refinement.
    refine: Option<Value>,
}

#[derive(Clone)]
struct Fake {
    script: Arc<Script>,
    calls: Arc<AtomicUsize>,
    formats: Arc<Mutex<Vec<String>>>,
}

fn completion(text: &str) -> Value {
    json!({"choices": [{"message": {"role": "assistant", "content": text}}], "usage": {"prompt_tokens": 100, "completion_tokens": 50}})
}

async fn chat(State(fake): State<Fake>, Json(body): Json<Value>) -> Response {
    let n = fake.calls.fetch_add(1, Ordering::SeqCst);
    let s = &fake.script;
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
    if prompt.starts_with("This Python function was built") {
        let answer = s.refine.clone().unwrap_or(json!({}));
        return Json(completion(&answer.to_string())).into_response();
    }
    if prompt.starts_with("Design a function") {
        if let Some(raw) = &s.raw_spec {
            return (StatusCode::OK, raw.clone()).into_response();
        }
        return Json(completion(&s.spec.to_string())).into_response();
    }
    if prompt.contains("A previous attempt failed")
        && let Some(code) = &s.repair
    {
        return Json(completion(&format!("Fixed:\n```python\n{code}```"))).into_response();
    }
    let t = format!("{:.1}", body["temperature"].as_f64().unwrap_or(0.0));
    let code = s
        .by_temperature
        .get(&t)
        .cloned()
        .unwrap_or_else(|| "def broken(:\n".into());
    Json(completion(&format!("```python\n{code}```"))).into_response()
}

async fn serve(script: Script) -> (String, Fake) {
    let fake = Fake {
        script: Arc::new(script),
        calls: Arc::default(),
        formats: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(chat))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), fake)
}

async fn app_with(url: &str) -> App {
    let sandbox = Sandbox::new(&SandboxConfig::new(
        crate::util::artifact(),
        crate::util::cache_dir(),
    ))
    .unwrap();
    let llm = OpenAi::new(OpenAiConfig {
        base_url: url.into(),
        base_url_given: true,
        ..OpenAiConfig::default()
    })
    .unwrap();
    App::new(SkillStore::in_memory().await.unwrap(), Arc::new(sandbox)).with_llm(Arc::new(llm))
}

fn spec() -> Value {
    json!({
        "name": "net_price",
        "description": "Price after a percentage discount, rounded to cents.",
        "parameters": [
            {"name": "price", "type": "number", "description": "List price."},
            {"name": "discount", "type": "number", "description": "Discount in percent, 0 to 100."}
        ],
        "returns": "number",
        "example_inputs": [{"price": 19.99, "discount": 15}]
    })
}

const RIGHT: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price * (1 - discount / 100), 2)\n";
const RIGHT_TOO: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price - price * discount / 100, 2)\n";
const WRONG: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price - discount, 2)\n";
// Passes the examples but not negative discounts (clamps them).
const EDGY: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    d = max(0, min(100, discount))\n    return round(price * (1 - d / 100), 2)\n";

fn examples() -> Vec<Example> {
    vec![
        Example {
            input: json!({"price": 100, "discount": 10}),
            output: json!(90.0),
        },
        Example {
            input: json!({"price": 80, "discount": 25}),
            output: json!(60.0),
        },
    ]
}

fn request(examples: Vec<Example>) -> GenerateRequest {
    GenerateRequest {
        request: "Apply a percentage discount to a price".into(),
        examples,
        name: None,
    }
}

fn temps(codes: [&str; 4]) -> HashMap<String, String> {
    ["0.2", "0.6", "0.9", "1.1"]
        .iter()
        .zip(codes)
        .map(|(t, c)| ((*t).to_owned(), c.to_owned()))
        .collect()
}

#[tokio::test]
async fn the_right_candidate_wins_among_wrong_ones() {
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([WRONG, RIGHT, EDGY, RIGHT_TOO]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(examples()), GenerateOptions::default())
        .await
        .unwrap();
    assert!(out.published, "{:?}", out.reasons);
    assert_eq!(out.candidates, 4);
    let skill = out.skill.unwrap();
    assert_eq!(skill["name"], "net_price");
    // RIGHT and RIGHT_TOO agree everywhere; EDGY differs on a negative discount.
    assert!(
        out.edge_cases
            .iter()
            .any(|e| e.input["discount"].as_f64().is_some_and(|d| d < 0.0)),
        "{:?}",
        out.edge_cases
    );
    assert!(out.trust.unwrap() >= 70.0);
    let r = app
        .run_skill(
            "local",
            "net_price",
            &json!({"price": 50, "discount": 50}),
            Default::default(),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(r.value, json!(25.0));
    // The discovered edge cases are kept as regression tests.
    let stored = app.skill("local", "net_price").await.unwrap();
    assert!(stored.manifest.examples.len() > 2);
    assert!(stored.manifest.input_schema["properties"]["price"]["description"].is_string());
}

#[tokio::test]
async fn a_repair_round_fixes_a_failing_candidate() {
    let (url, fake) = serve(Script {
        spec: spec(),
        by_temperature: temps([
            WRONG,
            WRONG,
            "def net_price(price, discount):\n    return price\n",
            WRONG,
        ]),
        repair: Some(RIGHT.into()),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(examples()), GenerateOptions::default())
        .await
        .unwrap();
    assert_eq!(out.candidates, 6, "4 sampled, 2 repaired");
    assert!(out.skill.is_some());
    assert!(fake.calls.load(Ordering::SeqCst) >= 7);
    let r = app
        .run_skill(
            "local",
            "net_price",
            &json!({"price": 10, "discount": 10}),
            Default::default(),
            Default::default(),
        )
        .await;
    // Published or draft, the repaired code is what was stored.
    let stored = app.skill("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, RIGHT);
    if out.published {
        assert_eq!(r.unwrap().value, json!(9.0));
    }
}

#[tokio::test]
async fn candidates_that_agree_but_fail_an_example_are_rejected() {
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([WRONG; 4]),
        repair: Some(WRONG.into()),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(examples()), GenerateOptions::default())
        .await
        .unwrap();
    assert!(!out.published && out.skill.is_none());
    assert!(
        out.reasons.iter().any(|r| r.contains("should give 90.0")),
        "{:?}",
        out.reasons
    );
    assert!(
        app.skill("local", "net_price").await.is_err(),
        "nothing stored"
    );
}

#[tokio::test]
async fn a_consistently_wrong_set_with_no_examples_stays_a_draft() {
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([WRONG; 4]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(vec![]), GenerateOptions::default())
        .await
        .unwrap();
    assert!(!out.published, "trust {:?}", out.trust);
    assert!(out.trust.unwrap() < 70.0);
    assert!(
        out.reasons.iter().any(|r| r.contains("no examples")),
        "{:?}",
        out.reasons
    );
    assert_eq!(
        app.skill("local", "net_price").await.unwrap().status,
        Status::Draft
    );
    // A draft is not a tool.
    assert!(
        app.run_skill(
            "local",
            "net_price",
            &json!({"price": 1, "discount": 1}),
            Default::default(),
            Default::default()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn throttling_is_retried_and_refused_formats_fall_back() {
    let (url, fake) = serve(Script {
        spec: spec(),
        by_temperature: temps([RIGHT, RIGHT_TOO, RIGHT, RIGHT]),
        throttle: 2,
        refuse_json_schema: true,
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(examples()), GenerateOptions::default())
        .await
        .unwrap();
    assert!(out.published, "{:?}", out.reasons);
    let formats = fake.formats.lock().unwrap().clone();
    assert_eq!(&formats[..2], ["json_schema", "json_object"], "{formats:?}");
}

#[tokio::test]
async fn a_malformed_answer_is_an_error_not_a_crash() {
    for raw in [
        "this is not JSON",
        r#"{"choices": []}"#,
        r#"{"choices": [{"message": {"content": "no json in here"}}]}"#,
    ] {
        let (url, _) = serve(Script {
            spec: spec(),
            raw_spec: Some(raw.into()),
            ..Default::default()
        })
        .await;
        let app = app_with(&url).await;
        let err = app
            .generate_skill("local", request(examples()), GenerateOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, GenerateSkillError::Llm(_)), "{err}");
        assert!(err.to_string().contains("unusable"), "{err}");
    }
}

#[tokio::test]
async fn without_a_model_generation_says_how_to_configure_one() {
    let sandbox = Sandbox::new(&SandboxConfig::new(
        crate::util::artifact(),
        crate::util::cache_dir(),
    ))
    .unwrap();
    let app = App::new(SkillStore::in_memory().await.unwrap(), Arc::new(sandbox));
    let err = app
        .generate_skill("local", request(examples()), GenerateOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("OPENAI_BASE_URL"), "{err}");
}

fn scale_steps() -> Vec<autolearn::trace::Step> {
    vec![autolearn::trace::Step {
        code: "[round(x * 1.2, 2) for x in prices]".into(),
        inputs: json!({"prices": [10, 20]}).as_object().cloned().unwrap(),
        value: Some(json!([12.0, 24.0])),
        names: vec![],
        bound: Default::default(),
        error: None,
    }]
}

#[tokio::test]
async fn with_a_model_crystallization_gets_a_better_name_and_a_generalization() {
    let generalized = "def add_vat(prices, rate=1.2):\n    \"\"\"Prices with VAT added, rounded to cents.\"\"\"\n    return [round(x * rate, 2) for x in prices]\n";
    let (url, _) = serve(Script {
        refine: Some(json!({
            "name": "prices_with_vat",
            "description": "Add VAT to net prices.",
            "parameters": {"prices": "Net prices."},
            "source": generalized,
        })),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .crystallize(
            "local",
            "Add 20% VAT to prices",
            Crystallize::Steps(scale_steps()),
            None,
            Some("add_vat"),
        )
        .await
        .unwrap();
    let Crystallized::Published(skill) = out else {
        panic!("not published")
    };
    // The name the caller chose stands; the rest is the model's.
    assert_eq!(skill.manifest.name, "add_vat");
    assert_eq!(skill.manifest.description, "Add VAT to net prices.");
    assert_eq!(
        skill.manifest.input_schema["properties"]["prices"]["description"],
        "Net prices."
    );
    let r = app
        .run_skill(
            "local",
            "add_vat",
            &json!({"prices": [100], "rate": 1.1}),
            Default::default(),
            Default::default(),
        )
        .await;
    // `rate` is not in the inferred schema's required list, and the
    // function takes it: the generalization is callable.
    assert_eq!(r.unwrap().value, json!([110.0]));
}

#[tokio::test]
async fn a_proposal_that_changes_behaviour_is_dropped() {
    let (url, _) = serve(Script {
        refine: Some(json!({
            "name": "broken_vat",
            "description": "Looks nicer, computes something else.",
            "parameters": {},
            "source": "def add_vat(prices, rate=1.5):\n    return [round(x * rate, 2) for x in prices]\n",
        })),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .crystallize(
            "local",
            "Add 20% VAT to prices",
            Crystallize::Steps(scale_steps()),
            None,
            None,
        )
        .await
        .unwrap();
    let Crystallized::Published(skill) = out else {
        panic!("not published")
    };
    assert_ne!(skill.manifest.name, "broken_vat");
    assert!(
        skill.manifest.source.contains("1.2"),
        "{}",
        skill.manifest.source
    );
}
