//! Drafts a person settles: a follow-up that answers a generated draft's
//! questions, and a person's review of a draft ("correct" publishes it,
//! "wrong" retires it), driven by the local fake of the OpenAI API.

use std::sync::atomic::Ordering;

use autolearn::app::{App, GenerateSkillError, Review, ReviewError};
use autolearn::learn::agree::Outcome;
use autolearn::learn::generate::{Answer, GenerateOptions, GenerateRequest, Question, Settled};
use autolearn::skills::{Example, SkillId, Status};
use autolearn::store::SkillStore;
use serde_json::json;

use crate::fake_llm::{Script, serve, temps};

const RIGHT: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price * (1 - discount / 100), 2)\n";
const RIGHT_TOO: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price - price * discount / 100, 2)\n";
const RIGHT_THREE: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price * (100 - discount) / 100, 2)\n";
const WRONG: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price - discount, 2)\n";
const CLAMPED: &str = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    d = max(0, min(100, discount))\n    return round(price * (1 - d / 100), 2)\n";

fn request() -> GenerateRequest {
    GenerateRequest {
        request: "Apply a percentage discount to a price".into(),
        examples: vec![
            Example {
                input: json!({"price": 100, "discount": 10}),
                output: json!(90.0),
            },
            Example {
                input: json!({"price": 80, "discount": 25}),
                output: json!(60.0),
            },
        ],
        name: Some("net_price".into()),
        ..Default::default()
    }
}

fn four() -> GenerateOptions {
    GenerateOptions {
        candidates: 4,
        ..Default::default()
    }
}

/// Two programs that pass the examples and split on out-of-range
/// discounts: too little evidence to publish, so a draft with questions.
async fn split_draft() -> (App, crate::fake_llm::Fake, serde_json::Value, Vec<Question>) {
    let (url, fake) = serve(Script {
        by_temperature: temps([RIGHT, CLAMPED, RIGHT, CLAMPED]),
        ..Default::default()
    })
    .await;
    let app = crate::fake_llm::app_on(&url, SkillStore::in_memory().await.unwrap()).await;
    let out = app
        .generate_skill("local", request(), four())
        .await
        .unwrap();
    assert!(!out.published, "{:?} {:?}", out.trust, out.reasons);
    assert!(!out.questions.is_empty(), "{:?}", out.reasons);
    assert!(
        out.reasons.iter().any(|r| r.contains("draft")),
        "{:?}",
        out.reasons
    );
    (app, fake, out.skill.unwrap(), out.questions)
}

/// The clamping program's answer: the choice that stays within 0 and the
/// price (the other one leaves it on an out-of-range discount).
fn clamped_answer(q: &Question) -> Settled {
    let price = q.input["price"].as_f64().unwrap_or(0.0).abs();
    let answer = q
        .choices
        .iter()
        .find_map(|c| match &c.outcome {
            Outcome::Value(v) => v
                .as_f64()
                .filter(|x| (0.0..=price).contains(x))
                .map(|_| Answer::Value(v.clone())),
            Outcome::Error(_) => None,
        })
        .unwrap_or(Answer::Invalid);
    Settled {
        input: q.input.clone(),
        answer,
    }
}

#[tokio::test]
async fn answers_to_a_drafts_questions_settle_it_without_a_model_call() {
    let (app, fake, draft, questions) = split_draft().await;
    let id: SkillId = draft["id"].as_str().unwrap().parse().unwrap();
    // The person says out-of-range discounts are clamped: the minority's
    // answer on every disputed input.
    let answers: Vec<Settled> = questions.iter().map(clamped_answer).collect();
    let calls = fake.calls.load(Ordering::SeqCst);
    let out = app
        .settle_draft(None, "local", &id, answers.clone(), four())
        .await
        .unwrap();
    // The programs of the first run decided again: no model call.
    assert_eq!(fake.calls.load(Ordering::SeqCst), calls);
    assert_eq!(out.llm_calls, 0);
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, CLAMPED);
    for a in &answers {
        if let Answer::Value(v) = &a.answer {
            assert!(
                stored
                    .manifest
                    .examples
                    .iter()
                    .any(|e| e.input == a.input && e.output == *v),
                "{:?} not among {:?}",
                a,
                stored.manifest.examples
            );
        }
    }
    // Each answer is in the learnings log, naming the draft it settled.
    let log = app.learnings().recent("local", 200).await.unwrap();
    let answered: Vec<_> = log.iter().filter(|l| l.kind == "question").collect();
    assert_eq!(answered.len(), answers.len(), "{log:?}");
    assert!(
        answered
            .iter()
            .all(|l| l.detail["draft"] == draft["id"] && l.detail["input"].is_object())
    );
    // A settled draft's questions are not asked again, and the draft it
    // settled is settled for good.
    for q in &out.questions {
        assert!(answers.iter().all(|a| a.input != q.input), "{q:?}");
    }
    let again = app.settle_draft(None, "local", &id, answers, four()).await;
    assert!(
        matches!(again, Err(GenerateSkillError::UnknownDraft(_))),
        "{:?}",
        again.map(|o| o.published)
    );
}

/// Three programs that agree and a clamping one that passes the examples
/// too: trust enough to publish, but they return different values for
/// out-of-range discounts. Where the person can answer later, that waits
/// for them; where nobody can, the evidence decides.
#[tokio::test]
async fn a_trusted_skill_whose_programs_return_different_values_waits_for_the_persons_answers() {
    let mut by_temperature = temps([WRONG, RIGHT, CLAMPED, RIGHT_TOO]);
    by_temperature.insert("0.4".into(), RIGHT_THREE.into());
    let (url, fake) = serve(Script {
        by_temperature,
        ..Default::default()
    })
    .await;
    let five = GenerateOptions {
        candidates: 5,
        ..Default::default()
    };
    let nobody = crate::fake_llm::app_on(&url, SkillStore::in_memory().await.unwrap()).await;
    let out = nobody
        .generate_skill("local", request(), five.clone())
        .await
        .unwrap();
    assert!(out.published && !out.awaiting_answers, "{:?}", out.reasons);

    let app = crate::fake_llm::app_on(&url, SkillStore::in_memory().await.unwrap()).await;
    let later = GenerateOptions {
        answers_later: true,
        ..five
    };
    let out = app
        .generate_skill("local", request(), later.clone())
        .await
        .unwrap();
    assert!(!out.published && out.awaiting_answers, "{:?}", out.reasons);
    assert!(out.trust.unwrap() >= 70.0, "{:?}", out.trust);
    assert!(
        out.reasons[0].contains("until you answer"),
        "{:?}",
        out.reasons
    );
    assert!(
        out.questions.iter().any(Question::disputes_value),
        "{:?}",
        out.questions
    );
    let draft = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(draft.status, Status::Draft);
    let log = app.learnings().recent("local", 200).await.unwrap();
    assert!(
        log.iter()
            .any(|l| l.kind == "decision" && l.detail["held_for_answers"] == json!(true)),
        "{log:?}"
    );

    // The person sides with the three: the clamping program is out, and
    // the skill is published without another model call.
    let answers: Vec<Settled> = out
        .questions
        .iter()
        .map(|q| Settled {
            input: q.input.clone(),
            answer: match &q.choices[0].outcome {
                Outcome::Value(v) => Answer::Value(v.clone()),
                Outcome::Error(_) => Answer::Invalid,
            },
        })
        .collect();
    let calls = fake.calls.load(Ordering::SeqCst);
    let settled = app
        .settle_draft(None, "local", &draft.id, answers, later)
        .await
        .unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), calls);
    assert!(
        settled.published && !settled.awaiting_answers,
        "{:?} {:?}",
        settled.trust,
        settled.reasons
    );
    let published = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(published.status, Status::Published);
    assert_ne!(published.manifest.source, CLAMPED);
}

#[tokio::test]
async fn an_unknown_draft_says_how_to_go_on() {
    let (app, _fake, _draft, questions) = split_draft().await;
    let other: SkillId = "ab".repeat(32).parse().unwrap();
    let err = app
        .settle_draft(
            None,
            "local",
            &other,
            vec![Settled {
                input: questions[0].input.clone(),
                answer: Answer::Invalid,
            }],
            four(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GenerateSkillError::UnknownDraft(_)), "{err}");
    assert!(
        err.to_string().contains("call generate_skill again"),
        "{err}"
    );
    // Another tenant cannot settle this tenant's draft.
    let draft = app.skills().get("local", "net_price").await.unwrap();
    let err = app
        .settle_draft(None, "other", &draft.id, vec![], four())
        .await
        .unwrap_err();
    assert!(matches!(err, GenerateSkillError::UnknownDraft(_)), "{err}");
}

#[tokio::test]
async fn a_person_publishes_a_draft_or_retires_it_and_the_log_says_which() {
    let (app, _fake, draft, _questions) = split_draft().await;
    let id: SkillId = draft["id"].as_str().unwrap().parse().unwrap();
    let call = |app: App| async move {
        app.calls()
            .run(
                "local",
                "net_price",
                &json!({"price": 50, "discount": 50}),
                Default::default(),
                Default::default(),
            )
            .await
    };
    assert!(call(app.clone()).await.is_err(), "a draft is no tool");

    // A review of a version the person did not see changes nothing.
    let stale: SkillId = "cd".repeat(32).parse().unwrap();
    let err = app
        .skills()
        .review("local", "net_price", Some(&stale), Review::Correct, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ReviewError::Changed { .. }), "{err}");
    // A note longer than the log keeps is refused, and changes nothing.
    let long = "x".repeat(autolearn::app::MAX_REVIEW_NOTE + 1);
    let err = app
        .skills()
        .review("local", "net_price", Some(&id), Review::Wrong, Some(&long))
        .await
        .unwrap_err();
    assert!(matches!(err, ReviewError::NoteTooLong(_)), "{err}");
    // Nor does another tenant's.
    assert!(
        app.skills()
            .review("other", "net_price", Some(&id), Review::Correct, None)
            .await
            .is_err()
    );

    let now = app
        .skills()
        .review(
            "local",
            "net_price",
            Some(&id),
            Review::Correct,
            Some("checked by hand"),
        )
        .await
        .unwrap();
    assert_eq!(now.status, Status::Published);
    assert_eq!(call(app.clone()).await.unwrap().value, json!(25.0));
    // Only a draft is reviewed.
    let err = app
        .skills()
        .review("local", "net_price", None, Review::Wrong, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ReviewError::NotDraft { .. }), "{err}");
    let notes = app.skills().notes("local", "net_price", 50).await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.kind == "review" && n.detail["verdict"] == "correct"),
        "{notes:?}"
    );
}

#[tokio::test]
async fn a_wrong_draft_never_becomes_a_tool() {
    let (app, _fake, draft, _questions) = split_draft().await;
    let id: SkillId = draft["id"].as_str().unwrap().parse().unwrap();
    let now = app
        .skills()
        .review(
            "local",
            "net_price",
            Some(&id),
            Review::Wrong,
            Some("clamping is wrong"),
        )
        .await
        .unwrap();
    assert_eq!(now.status, Status::Retired);
    assert!(app.skills().published("local").await.unwrap().is_empty());
    let notes = app.skills().notes("local", "net_price", 50).await.unwrap();
    let review = notes.iter().find(|n| n.kind == "review").unwrap();
    assert_eq!(review.detail["verdict"], "wrong");
    assert_eq!(review.detail["note"], "clamping is wrong");
    assert_eq!(review.detail["id"], id.as_str());
}

/// The next event of `kind` for the chosen generation from a live feed.
async fn next_notice(
    feed: &mut tokio::sync::broadcast::Receiver<autolearn::app::TenantEvent>,
    generation: &str,
    kind: &str,
) -> serde_json::Value {
    loop {
        let e = tokio::time::timeout(std::time::Duration::from_secs(30), feed.recv())
            .await
            .expect("no event within 30 s")
            .unwrap();
        if let autolearn::app::Event::Generation(n) = &*e.event
            && n.0["generation"] == generation
            && n.0["type"] == kind
        {
            return n.0.clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_generation_streams_its_steps_and_the_persons_answer_decides() {
    let (url, _fake) = serve(Script {
        by_temperature: temps([RIGHT, CLAMPED, RIGHT, CLAMPED]),
        ..Default::default()
    })
    .await;
    let app = crate::fake_llm::app_on(&url, SkillStore::in_memory().await.unwrap()).await;
    let practice = autolearn::practice::Practice::shipped(app.clone()).unwrap();
    let base = crate::util::serve(practice, None).await;
    let mut feed = app.subscribe();
    let req = request();
    let (status, started) = crate::util::post(
        &format!("{base}/api/generations"),
        json!({"request": req.request, "examples": req.examples, "name": "net_price", "candidates": 4}),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let generation = started["generation"].as_str().unwrap().to_owned();

    // Steps stream in: each candidate with its code, then how it did.
    let candidate = next_notice(&mut feed, &generation, "generate_step").await;
    assert!(candidate["step"]["step"].is_string(), "{candidate}");
    let asked = next_notice(&mut feed, &generation, "generate_question").await;
    let question = &asked["question"];
    assert!(
        question["call"].as_str().unwrap().starts_with("net_price("),
        "{question}"
    );
    // The clamping program's answer, as the page shows the choices.
    let input = question["input"].clone();
    let price = input["price"].as_f64().unwrap_or(0.0).abs();
    let answer = question["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| {
            let v = &c["outcome"]["value"];
            v.as_f64()
                .filter(|x| (0.0..=price).contains(x))
                .map(|_| Answer::Value(v.clone()))
        })
        .unwrap_or(Answer::Invalid);

    // An answer to another input, or in a bad shape, settles nothing.
    let (status, _) = crate::util::post(
        &format!("{base}/api/generations/{generation}/answer"),
        json!({"input": {"price": 1, "discount": 1}, "output": 0.99}),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = crate::util::post(
        &format!("{base}/api/generations/{generation}/answer"),
        json!({"input": input, "output": 1, "invalid": true}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = crate::util::post(
        &format!("{base}/api/generations/gen-nope/answer"),
        json!({"input": input, "skip": true}),
    )
    .await;
    assert_eq!(status, 404);

    let body = match answer {
        Answer::Value(v) => json!({"input": input, "output": v}),
        Answer::Invalid => json!({"input": input, "invalid": true}),
    };
    let (status, ok) =
        crate::util::post(&format!("{base}/api/generations/{generation}/answer"), body).await;
    assert_eq!(status, 200, "{ok}");
    // Later questions are skipped.
    let done = loop {
        let e = tokio::time::timeout(std::time::Duration::from_secs(60), feed.recv())
            .await
            .expect("the generation did not end")
            .unwrap();
        let autolearn::app::Event::Generation(n) = &*e.event else {
            continue;
        };
        if n.0["generation"] != generation.as_str() {
            continue;
        }
        if n.0["type"] == "generate_question" {
            let input = n.0["question"]["input"].clone();
            crate::util::post(
                &format!("{base}/api/generations/{generation}/answer"),
                json!({"input": input, "skip": true}),
            )
            .await;
        }
        if n.0["type"] == "generate_done" {
            break n.0.clone();
        }
    };
    let outcome = &done["outcome"];
    assert_eq!(outcome["asked"][0]["question"]["input"], input, "{done}");
    let stored = app.skills().get("local", "net_price").await.unwrap();
    assert_eq!(stored.manifest.source, CLAMPED, "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_generations_are_bounded_per_tenant_and_bad_ones_refused_at_once() {
    let (url, _fake) = serve(Script {
        by_temperature: temps([RIGHT, CLAMPED, RIGHT, CLAMPED]),
        delay: std::time::Duration::from_secs(3),
        ..Default::default()
    })
    .await;
    let app = crate::fake_llm::app_on(&url, SkillStore::in_memory().await.unwrap()).await;
    let practice = autolearn::practice::Practice::shipped(app.clone()).unwrap();
    let base = crate::util::serve(practice, None).await;
    let start = format!("{base}/api/generations");
    let started = std::time::Instant::now();
    // Too large, empty, or in a bad shape: refused before anything runs.
    let huge = "x".repeat(64 * 1024);
    for body in [
        json!({"request": huge}),
        json!({"request": "  "}),
        json!({"request": "x", "evil": 1}),
    ] {
        let (status, e) = crate::util::post(&start, body).await;
        assert_eq!(status, 400, "{e}");
    }
    // Two at a time per tenant; a third waits its turn (429 with
    // Retry-After), and the server keeps serving.
    let body = json!({"request": "Apply a percentage discount to a price", "candidates": 2});
    assert_eq!(crate::util::post(&start, body.clone()).await.0, 202);
    assert_eq!(crate::util::post(&start, body.clone()).await.0, 202);
    let third = reqwest::Client::new()
        .post(&start)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 429);
    assert_eq!(third.headers()["retry-after"], "5");
    let (status, _) = crate::util::get(&format!("{base}/api/whoami")).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}
