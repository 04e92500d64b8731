//! Generation from plain English, driven by a local fake of the OpenAI API
//! ([`crate::fake_llm`]).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;

use autolearn::app::{App, Crystallize, Crystallized, GenerateSkillError};
use autolearn::learn::agree::Outcome;
use autolearn::learn::generate::{Answer, Asker, GenerateOptions, GenerateRequest, Question};
use autolearn::skills::{Example, Status};
use autolearn::store::SkillStore;
use serde_json::{Value, json};

use crate::fake_llm::{Script, serve, temps};

async fn app_with(url: &str) -> App {
    crate::fake_llm::app_on(url, SkillStore::in_memory().await.unwrap()).await
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
const RIGHT_THREE: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price * (100 - discount) / 100, 2)\n";
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
        ..Default::default()
    }
}

/// Four candidates, one per recorded temperature.
fn four() -> GenerateOptions {
    GenerateOptions {
        candidates: 4,
        ..Default::default()
    }
}

#[tokio::test]
async fn the_right_candidate_wins_among_wrong_ones() {
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([WRONG, RIGHT, RIGHT_TOO, RIGHT_THREE]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(examples()), four())
        .await
        .unwrap();
    assert!(out.published, "{:?}", out.reasons);
    assert_eq!(out.candidates, 4);
    let skill = out.skill.unwrap();
    assert_eq!(skill["name"], "net_price");
    assert!(out.trust.unwrap() >= 70.0);
    let r = app
        .calls()
        .run(
            "local",
            "net_price",
            &json!({"price": 50, "discount": 50}),
            Default::default(),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(r.value, json!(25.0));
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, RIGHT);
    assert!(stored.manifest.input_schema["properties"]["price"]["description"].is_string());
    // The tokens the generation spent are counted for its tenant, as the
    // model reported them.
    let metrics = app.render_metrics();
    let tokens = |direction: &str| -> u64 {
        let prefix =
            format!(r#"autolearn_llm_tokens_total{{tenant="local",direction="{direction}"}} "#);
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {direction} tokens in\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(
        (tokens("prompt"), tokens("completion")),
        (out.usage.prompt_tokens, out.usage.completion_tokens)
    );
    assert!(out.usage.prompt_tokens > 0);
}

#[tokio::test]
async fn a_dissenting_candidate_is_an_edge_case_and_a_question_and_the_evidence_still_publishes() {
    let mut by_temperature = temps([WRONG, RIGHT, EDGY, RIGHT_TOO]);
    by_temperature.insert("0.4".into(), RIGHT_THREE.into());
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature,
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let five = GenerateOptions {
        candidates: 5,
        ..Default::default()
    };
    let out = app
        .generate_skill("local", request(examples()), five)
        .await
        .unwrap();
    // RIGHT, RIGHT_TOO and RIGHT_THREE agree everywhere; EDGY passes the
    // examples but differs on a negative discount.
    assert!(
        out.edge_cases
            .iter()
            .any(|e| e.input["discount"].as_f64().is_some_and(|d| d < 0.0)),
        "{:?}",
        out.edge_cases
    );
    // The majority wins: the dissenter disputes a few inputs of many, so
    // the evidence still backs the majority (a dissent used to halve it).
    assert!(out.published, "{:?} {:?}", out.trust, out.reasons);
    // The draft holds the majority's code, and the discovered edge cases
    // as regression tests.
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, RIGHT);
    assert!(stored.manifest.examples.len() > 2);
    // Nobody was asked; what a person could settle is offered, the
    // majority's answer first.
    assert!(out.asked.is_empty());
    let q = &out.questions[0];
    assert!(q.call.starts_with("net_price("), "{}", q.call);
    assert_eq!(q.choices.len(), 2, "{:?}", q.choices);
    assert_eq!((q.choices[0].programs, q.choices[1].programs), (3, 1));
}

#[tokio::test]
async fn an_answer_from_the_person_overrules_the_majority() {
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([RIGHT, EDGY, RIGHT_TOO, RIGHT_THREE]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let seen: Arc<Mutex<Vec<Question>>> = Arc::default();
    let log = seen.clone();
    // The person knows discounts are clamped to 0..100: the lone
    // dissenter's answer.
    let ask: Asker = Arc::new(move |q: Question| {
        log.lock().unwrap().push(q.clone());
        let pick = q.choices.last().unwrap().outcome.clone();
        async move {
            match pick {
                Outcome::Value(v) => Some(Answer::Value(v)),
                Outcome::Error(_) => Some(Answer::Invalid),
            }
        }
        .boxed()
    });
    let opts = GenerateOptions {
        ask: Some(ask),
        ..four()
    };
    let out = app
        .generate_skill("local", request(examples()), opts)
        .await
        .unwrap();
    // One answer leaves one passing program: nothing left to ask.
    assert_eq!(out.asked.len(), 1, "{:?}", out.asked);
    assert_eq!(seen.lock().unwrap().len(), 1);
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, EDGY);
    // The answer is one of the skill's examples now.
    let q = &out.asked[0].question;
    assert!(
        stored.manifest.examples.iter().any(|e| e.input == q.input),
        "{:?}",
        stored.manifest.examples
    );
    // The programs the answer ruled out still back the survivor where
    // they agree with it, and the person settled where they did not.
    assert!(out.published, "{:?} {:?}", out.trust, out.reasons);
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
        .generate_skill("local", request(examples()), four())
        .await
        .unwrap();
    // Three samples of WRONG are one program, and both repairs gave the
    // same program: three distinct candidates.
    assert_eq!(out.candidates, 3, "2 distinct sampled, 1 distinct repair");
    assert!(out.skill.is_some());
    assert!(fake.calls.load(Ordering::SeqCst) >= 7);
    let r = app
        .calls()
        .run(
            "local",
            "net_price",
            &json!({"price": 10, "discount": 10}),
            Default::default(),
            Default::default(),
        )
        .await;
    // Published or draft, the repaired code is what was stored.
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, RIGHT);
    if out.published {
        assert_eq!(r.unwrap().value, json!(9.0));
    }
}

/// A right function whose model also wrote a wrong check of its own, and
/// called it at import: the check goes, the function is kept.
#[tokio::test]
async fn a_wrong_check_the_model_appended_does_not_sink_a_right_function() {
    let with_check = format!(
        "{RIGHT}\ndef check_solution():\n    assert net_price(price=100, discount=10) == 91.0, \"Test failed\"\n\ncheck_solution()\n"
    );
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([with_check.as_str(); 4]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(examples()), four())
        .await
        .unwrap();
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert!(
        !stored.manifest.source.contains("check_solution()\n"),
        "{}",
        stored.manifest.source
    );
    assert!(out.skill.is_some(), "{:?}", out.reasons);
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
        .generate_skill("local", request(examples()), four())
        .await
        .unwrap();
    assert!(!out.published && out.skill.is_none());
    assert!(
        out.reasons
            .iter()
            .any(|r| r.contains("should return 60.0 but returned 55")),
        "{:?}",
        out.reasons
    );
    assert!(
        app.skills().get("local", "net_price").await.is_err(),
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
        .generate_skill("local", request(vec![]), four())
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
        app.skills().get("local", "net_price").await.unwrap().status,
        Status::Draft
    );
    // A draft is not a tool.
    assert!(
        app.calls()
            .run(
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
        by_temperature: temps([RIGHT, RIGHT_TOO, RIGHT_THREE, RIGHT]),
        throttle: 2,
        refuse_json_schema: true,
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(examples()), four())
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
        // Without examples there is no spec but the model's.
        let err = app
            .generate_skill("local", request(vec![]), four())
            .await
            .unwrap_err();
        assert!(matches!(err, GenerateSkillError::Llm(_)), "{err}");
        assert!(err.to_string().contains("unusable"), "{err}");
        // With examples, the spec they imply stands in.
        let out = app
            .generate_skill("local", request(examples()), four())
            .await
            .unwrap();
        assert!(out.llm_calls >= 1, "{out:?}");
    }
}

#[tokio::test]
async fn with_examples_and_a_name_no_spec_is_asked_for_and_the_request_is_the_docstring() {
    let (url, fake) = serve(Script {
        spec: spec(),
        by_temperature: temps([RIGHT, RIGHT_TOO, RIGHT_THREE, RIGHT]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let req = GenerateRequest {
        name: Some("net_price".into()),
        ..request(examples())
    };
    let out = app.generate_skill("local", req, four()).await.unwrap();
    assert!(out.skill.is_some(), "{:?}", out.reasons);
    let formats = fake.formats.lock().unwrap().clone();
    assert!(
        !formats.iter().any(|f| f.starts_with("json")),
        "no spec call: {formats:?}"
    );
    let prompts = fake.prompts.lock().unwrap().clone();
    assert!(
        prompts
            .iter()
            .all(|p| p.contains("\"\"\"Apply a percentage discount to a price")),
        "{prompts:?}"
    );
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(
        stored.manifest.description,
        "Apply a percentage discount to a price"
    );
}

#[tokio::test]
async fn without_a_model_generation_says_how_to_configure_one() {
    let app = crate::util::app().await;
    let err = app
        .generate_skill("local", request(examples()), four())
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
        answer: false,
        runtime: Default::default(),
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
        .traces()
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
        .calls()
        .run(
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
        .traces()
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

#[tokio::test]
async fn attempts_that_fail_count_against_the_winner_and_repeats_do_not() {
    // Eight attempts: three agreeing programs and a wrong one; the other
    // four attempts either repeat the greedy program or fail to parse.
    let run = |extra: &'static str| async move {
        let mut by_temperature = temps([RIGHT, RIGHT_TOO, RIGHT_THREE, WRONG]);
        for t in ["0.4", "0.8", "1.0", "0.7"] {
            by_temperature.insert(t.into(), extra.into());
        }
        let (url, _) = serve(Script {
            spec: spec(),
            by_temperature,
            ..Default::default()
        })
        .await;
        let app = app_with(&url).await;
        app.generate_skill("local", request(examples()), GenerateOptions::default())
            .await
            .unwrap()
    };
    let repeated = run(RIGHT).await;
    assert!(
        repeated.published,
        "{:?} {:?}",
        repeated.trust, repeated.reasons
    );
    let failed = run("def broken(:\n").await;
    assert!(!failed.published, "{:?}", failed.trust);
    assert!(failed.trust < repeated.trust);
    assert!(
        failed.reasons.iter().any(|r| r.contains("agreed only")),
        "{:?}",
        failed.reasons
    );
}

// Three ways to write the same unrounded arithmetic: one behaviour, three
// programs.
const UNROUNDED: [&str; 3] = [
    "def net_price(price, discount):\n    return price * (1 - discount / 100)\n",
    "def net_price(price, discount):\n    factor = 1 - discount / 100\n    return price * factor\n",
    "def net_price(price, discount):\n    p = price\n    return p * (1 - discount / 100)\n",
];

fn rounding_request() -> GenerateRequest {
    GenerateRequest {
        request: "Apply a percentage discount to a price. Round to 2 decimals.".into(),
        ..request(examples())
    }
}

/// Programs that agree with each other but break what the request says of
/// every result ("round to 2 decimals") are no voters: the one that keeps
/// it is chosen, although it stands alone.
#[tokio::test]
async fn candidates_that_ignore_the_requested_rounding_do_not_outvote_one_that_keeps_it() {
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([UNROUNDED[0], UNROUNDED[1], UNROUNDED[2], RIGHT]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", rounding_request(), four())
        .await
        .unwrap();
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, RIGHT, "{:?}", out.reasons);
    // A lone program, with the other attempts ruled out: not trusted
    // enough to publish on its own.
    assert!(!out.published, "{:?}", out.trust);
    assert!(
        out.reasons
            .iter()
            .any(|r| r.starts_with("3 more candidates passed your examples but broke")),
        "{:?}",
        out.reasons
    );
}

/// When every candidate breaks the promise, the repair prompt says where.
#[tokio::test]
async fn the_repair_prompt_names_the_broken_rounding() {
    let (url, fake) = serve(Script {
        spec: spec(),
        by_temperature: temps([UNROUNDED[0], UNROUNDED[1], UNROUNDED[2], UNROUNDED[0]]),
        repair: Some(RIGHT.into()),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    app.generate_skill("local", rounding_request(), four())
        .await
        .unwrap();
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, RIGHT);
    let prompts = fake.prompts.lock().unwrap();
    let repair = prompts
        .iter()
        .find(|p| p.contains("A previous attempt failed"))
        .expect("a repair prompt");
    assert!(
        repair.contains("but the request says to round to 2 decimals"),
        "{repair}"
    );
}

/// A request that names pandas is generated on the data runtime: the model
/// is told numpy and pandas are there, the candidates run there, and the
/// skill it publishes runs there.
#[tokio::test]
async fn a_request_that_names_pandas_is_generated_on_the_data_runtime() {
    crate::util::data_ready();
    let spec = json!({
        "name": "region_totals",
        "description": "Total amount per region.",
        "parameters": [{"name": "rows", "type": "array", "description": "Records with region and amount."}],
        "returns": "object",
        "example_inputs": [{"rows": [{"region": "n", "amount": 2}]}]
    });
    const PANDAS: &str = "import pandas as pd\n\ndef region_totals(rows):\n    \"\"\"Total amount per region.\"\"\"\n    return pd.DataFrame(rows).groupby('region')['amount'].sum()\n";
    const PANDAS_TOO: &str = "import pandas as pd\n\ndef region_totals(rows):\n    \"\"\"Total amount per region.\"\"\"\n    frame = pd.DataFrame(rows)\n    return frame.groupby('region').amount.sum().to_dict()\n";
    let (url, fake) = serve(Script {
        spec,
        by_temperature: temps([PANDAS, PANDAS_TOO, PANDAS, PANDAS_TOO]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let req = GenerateRequest {
        request: "Using pandas, total the amount per region".into(),
        examples: vec![Example {
            input: json!({"rows": [{"region": "n", "amount": 2}, {"region": "s", "amount": 3}, {"region": "n", "amount": 4}]}),
            output: json!({"n": 6, "s": 3}),
        }],
        ..Default::default()
    };
    let out = app.generate_skill("local", req, four()).await.unwrap();
    let stored = app.skills().get("local", "region_totals").await.unwrap();
    assert_eq!(stored.manifest.runtime, autolearn::runtime::Runtime::Data);
    assert!(out.candidates >= 2, "{out:?}");
    let systems = fake.systems.lock().unwrap().clone();
    assert!(
        systems.iter().all(|s| s.contains("pandas")),
        "the model was not told pandas is there: {systems:?}"
    );
    if out.published {
        let r = app
            .calls()
            .run(
                "local",
                "region_totals",
                &json!({"rows": [{"region": "w", "amount": 1.5}]}),
                Default::default(),
                Default::default(),
            )
            .await
            .unwrap();
        assert_eq!(r.value, json!({"w": 1.5}));
    }
}

#[test]
fn the_runtime_follows_the_request_when_not_chosen() {
    use autolearn::learn::generate::runtime_for;
    use autolearn::runtime::Runtime;
    assert_eq!(runtime_for("Group these rows with pandas"), Runtime::Data);
    assert_eq!(runtime_for("a DataFrame of orders"), Runtime::Data);
    assert_eq!(
        runtime_for("Reverse the words of a sentence"),
        Runtime::Core
    );
}

#[tokio::test]
async fn a_candidate_calling_a_java_method_is_renamed_and_counts() {
    // crm_lead_score in the held-out half: `str.contains` is Java's.
    // It behaves as RIGHT once renamed (no number's text holds an 'x').
    const JAVA: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    if str(price).contains('x'):\n        return 0\n    return round(price * (1 - discount / 100), 2)\n";
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([JAVA, RIGHT, RIGHT_TOO, RIGHT_THREE]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let out = app
        .generate_skill("local", request(examples()), four())
        .await
        .unwrap();
    assert!(out.published, "{:?}", out.reasons);
    let stored = app.skills().get("local", "net_price").await.unwrap();
    // The rewritten program runs and is the earliest of the agreeing ones.
    assert!(
        stored.manifest.source.contains("if ('x' in str(price)):"),
        "{}",
        stored.manifest.source
    );
}

/// A person who answers every question with `answer` (the winner's own
/// answer when `None`), and the questions they were asked.
fn person(answer: Option<Value>) -> (Asker, Arc<Mutex<Vec<Question>>>) {
    let seen: Arc<Mutex<Vec<Question>>> = Arc::default();
    let log = seen.clone();
    let ask: Asker = Arc::new(move |q: Question| {
        log.lock().unwrap().push(q.clone());
        let said = answer.clone().or_else(|| match &q.choices[0].outcome {
            Outcome::Value(v) => Some(v.clone()),
            Outcome::Error(_) => None,
        });
        async move { said.map(Answer::Value) }.boxed()
    });
    (ask, seen)
}

#[tokio::test]
async fn a_lone_program_is_questioned_and_a_correction_rules_it_out() {
    // Four samples of one program: it agrees with nobody, so it cannot
    // publish, and nothing is disputed.
    let (url, fake) = serve(Script {
        spec: spec(),
        by_temperature: temps([RIGHT; 4]),
        repair: Some(RIGHT_TOO.into()),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    // Without a person: the draft's open questions ask to confirm its
    // answers, one choice each.
    let out = app
        .generate_skill("local", request(examples()), four())
        .await
        .unwrap();
    assert!(!out.published && out.skill.is_some());
    assert!(!out.questions.is_empty() && out.questions.len() <= 3);
    assert!(out.questions.iter().all(|q| q.choices.len() == 1));
    // A person who says the first answer is wrong: no program passes the
    // correction, and the repair prompt shows it.
    let (ask, seen) = person(Some(json!(12345.0)));
    let opts = GenerateOptions {
        ask: Some(ask),
        ..four()
    };
    let out = app
        .generate_skill("local", request(examples()), opts)
        .await
        .unwrap();
    let asked = seen.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "{asked:?}");
    let q = &asked[0];
    assert_eq!(q.choices.len(), 1);
    assert_eq!(q.choices[0].programs, 1);
    assert!(out.skill.is_none(), "{:?}", out.reasons);
    // The answer is reported with the outcome, and why nothing was kept.
    assert_eq!(out.asked.len(), 1);
    assert_eq!(out.asked[0].answer, Some(Answer::Value(json!(12345.0))));
    assert!(
        out.reasons[0].starts_with("you answered 1 question(s)"),
        "{:?}",
        out.reasons
    );
    let prompts = fake.prompts.lock().unwrap();
    assert!(
        prompts.iter().any(|p| p.contains("12345")),
        "the correction is in no repair prompt"
    );
}

#[tokio::test]
async fn confirmed_answers_become_examples_of_the_draft() {
    let (url, _) = serve(Script {
        spec: spec(),
        by_temperature: temps([RIGHT; 4]),
        ..Default::default()
    })
    .await;
    let app = app_with(&url).await;
    let (ask, seen) = person(None);
    let opts = GenerateOptions {
        ask: Some(ask),
        ..four()
    };
    let out = app
        .generate_skill("local", request(examples()), opts)
        .await
        .unwrap();
    // As many as a request may ask, each a different input.
    let asked = seen.lock().unwrap().clone();
    assert_eq!(asked.len(), 3);
    assert!(asked.windows(2).all(|w| w[0].input != w[1].input));
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, RIGHT);
    for q in &asked {
        assert!(
            stored.manifest.examples.iter().any(|e| e.input == q.input),
            "{q:?}"
        );
    }
    // Confirmations do not make a lone program publishable.
    assert!(!out.published);
}
