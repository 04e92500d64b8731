//! The consumer agent against a fake OpenAI API with recorded tool-calling
//! answers, over MCP (an in-process session, real rmcp on both ends): the
//! first run solves with run_python and crystallizes; the second calls the
//! skill with no run_python and no code-writing model call; the answers
//! match; new data takes the skill path too.

use std::sync::Arc;

use autolearn::agent::{self, AgentOptions, AgentReport, AgentStep, Host};
use autolearn::app::App;
use autolearn::llm::openai::{OpenAi, OpenAiConfig};
use autolearn::mcp::McpServer;
use serde_json::{Value, json};

use crate::fake_llm::{Script, demo_examples, demo_prompt, recorded_agent, serve, tool_call};

fn model(url: &str) -> OpenAi {
    OpenAi::new(OpenAiConfig {
        base_url: url.into(),
        base_url_given: true,
        ..OpenAiConfig::default()
    })
    .unwrap()
}

async fn app(url: &str) -> App {
    crate::util::app().await.with_llm(Arc::new(model(url)))
}

/// An app on the fake model at `url`, an MCP session with it, and the
/// model for the agent.
async fn connected(url: &str) -> (App, Host, OpenAi) {
    let app = app(url).await;
    let host = Host::over(McpServer::in_process(app.clone(), "local"))
        .await
        .unwrap();
    (app, host, model(url))
}

/// Whether a step has run yet in the conversation `body` carries.
fn has_run(body: &Value) -> bool {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["role"] == "tool")
}

fn example(id: &str) -> Value {
    demo_examples().into_iter().find(|e| e["id"] == id).unwrap()
}

/// The person confirmed the answer up front (`autolearn agent --yes`).
fn confirmed() -> AgentOptions {
    AgentOptions {
        draft_until_confirmed: false,
        ..AgentOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_agent_crystallizes_waits_for_the_person_and_a_wrong_answer_never_becomes_a_tool()
{
    let (url, _) = serve(Script {
        agent: Some(recorded_agent()),
        ..Script::default()
    })
    .await;
    let (app, host, llm) = connected(&url).await;
    let sales = example("sales_report");
    let prompt = demo_prompt(&sales, false);
    let first = agent::run(&llm, &host, &prompt, &AgentOptions::default())
        .await
        .unwrap();
    let said = first.crystallized.clone().unwrap();
    assert_eq!(
        (said["published"].clone(), said["draft"].clone()),
        (json!(false), json!(true)),
        "{said}"
    );
    let name = said["skill"]["name"].as_str().unwrap().to_owned();
    let id = said["skill"]["id"].as_str().unwrap().to_owned();
    // A draft is no tool: the same prompt is worked out again.
    assert!(app.skills().published("local").await.unwrap().is_empty());
    let again = agent::run(&llm, &host, &prompt, &AgentOptions::default())
        .await
        .unwrap();
    assert_eq!(again.skill_used, None);

    // The person says the answer is wrong: it is retired, recorded, and
    // review_skill refuses to publish it afterwards.
    let wrong = host
        .call(
            "review_skill",
            json!({"name": name, "id": id, "verdict": "wrong", "note": "revenue is off"}),
        )
        .await
        .unwrap();
    assert!(!wrong.is_error, "{}", wrong.structured);
    assert_eq!(wrong.structured["skill"]["status"], "retired");
    let again = host
        .call("review_skill", json!({"name": name, "verdict": "correct"}))
        .await
        .unwrap();
    assert!(again.is_error, "{}", again.structured);
    assert_eq!(again.structured["error"]["kind"], "conflict");
    assert!(app.skills().published("local").await.unwrap().is_empty());
    let notes = app.skills().notes("local", &name, 20).await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.kind == "review" && n.detail["note"] == "revenue is off")
    );

    // A new run crystallizes a new draft; "correct" makes it a tool, and
    // the next run calls it.
    let third = agent::run(&llm, &host, &prompt, &AgentOptions::default())
        .await
        .unwrap();
    let said = third.crystallized.unwrap();
    assert_eq!(said["draft"], true, "{said}");
    let ok = host
        .call(
            "review_skill",
            json!({"name": said["skill"]["name"], "id": said["skill"]["id"], "verdict": "correct"}),
        )
        .await
        .unwrap();
    assert_eq!(
        ok.structured["skill"]["status"], "published",
        "{}",
        ok.structured
    );
    let fourth = agent::run(&llm, &host, &prompt, &AgentOptions::default())
        .await
        .unwrap();
    assert_eq!(fourth.skill_used.as_deref(), said["skill"]["name"].as_str());
    assert_eq!(fourth.answer, first.answer);
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_run_of_a_prompt_calls_the_skill_the_first_run_taught() {
    let (url, fake) = serve(Script {
        agent: Some(recorded_agent()),
        ..Script::default()
    })
    .await;
    let (_app, host, llm) = connected(&url).await;
    let sales = example("sales_report");
    let steps = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = steps.clone();
    let options = AgentOptions {
        observer: Some(Arc::new(move |s: &AgentStep| {
            seen.lock().unwrap().push(s.clone())
        })),
        ..confirmed()
    };

    let first = agent::run(&llm, &host, &demo_prompt(&sales, false), &options)
        .await
        .unwrap();
    assert_eq!(first.skill_used, None);
    // The agent's own step parses the CSV first; the model's two follow.
    assert_eq!(
        first.tools_called,
        [
            "search_skills",
            "run_python",
            "run_python",
            "run_python",
            "crystallize"
        ]
    );
    assert_eq!(
        first.answer["top_products"][0],
        json!({"product": "Gizmo", "revenue": 392.0})
    );
    assert_eq!(
        first.answer["revenue"][0],
        json!({"region": "APAC", "month": "2026-02", "revenue": 22.0})
    );
    assert_eq!(
        first.crystallized.as_ref().unwrap()["published"],
        true,
        "{:?}",
        first.crystallized
    );
    // 3 model turns: two steps and finish; no skill existed to judge.
    assert_eq!(first.llm_calls, 3);
    assert_eq!(first.llm_tokens, 3 * 340);
    let skill = first.crystallized.as_ref().unwrap()["skill"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    // The data never went to the model: only its first lines did.
    let offered_before = fake.offered.lock().unwrap().len();
    {
        let s = steps.lock().unwrap();
        assert!(
            matches!(&s[0], AgentStep::Task { attachments, .. } if attachments[0].contains("a str of 13 lines, starting:\n    date,region"))
        );
        assert!(
            s.iter().any(
                |x| matches!(x, AgentStep::Code { step: 2, code, .. } if code.contains("step1"))
            )
        );
        assert!(s.iter().any(|x| matches!(
            x,
            AgentStep::Output { step: 0, ok: true, output, .. }
                if output[0] == json!({"date": "2026-01-05", "region": "EU", "product": "Widget", "units": 10, "unit_price": 2.5})
        )));
        assert!(matches!(
            s.last(),
            Some(AgentStep::Answer {
                skill_used: None,
                ..
            })
        ));
    }

    let second = agent::run(&llm, &host, &demo_prompt(&sales, false), &options)
        .await
        .unwrap();
    assert_eq!(second.skill_used.as_deref(), Some(skill.as_str()));
    assert_eq!(second.tools_called, ["search_skills", "call_skill"]);
    assert_eq!(
        second.answer, first.answer,
        "the skill gives the same answer"
    );
    // The very request the skill was made from: no model call at all.
    assert_eq!(second.llm_calls, 0, "no judgement needed, no code written");
    assert_eq!(fake.offered.lock().unwrap().len(), offered_before);

    // New data, same task: the skill generalizes.
    let variant = agent::run(&llm, &host, &demo_prompt(&sales, true), &options)
        .await
        .unwrap();
    assert_eq!(variant.skill_used.as_deref(), Some(skill.as_str()));
    assert_eq!(
        variant.answer["top_products"][0],
        json!({"product": "Gizmo", "revenue": 391.5})
    );
    // The request in other words: the model judges, seeing the skill as a
    // tool and no run_python, and picks it.
    let reworded = format!(
        "{} Thanks!\n\n```csv\n{}```\n",
        sales["task"].as_str().unwrap(),
        sales["data"].as_str().unwrap()
    );
    let judged = agent::run(&llm, &host, &reworded, &options).await.unwrap();
    assert_eq!(judged.skill_used.as_deref(), Some(skill.as_str()));
    assert_eq!(judged.llm_calls, 1);
    assert_eq!(judged.answer, first.answer);
    let offered = fake.offered.lock().unwrap()[offered_before..].to_vec();
    assert_eq!(offered.len(), 1);
    assert!(offered[0].contains(&skill), "{offered:?}");
    assert!(
        !offered[0].contains(&"run_python".to_owned()),
        "{offered:?}"
    );
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_example_is_learned_and_reused_on_new_data() {
    let (url, _) = serve(Script {
        agent: Some(recorded_agent()),
        ..Script::default()
    })
    .await;
    let (_app, host, llm) = connected(&url).await;
    let options = confirmed();
    for example in demo_examples() {
        let first = agent::run(&llm, &host, &demo_prompt(&example, false), &options)
            .await
            .unwrap();
        assert!(first.skill_used.is_none(), "{}: {first:?}", example["id"]);
        assert_eq!(
            first.crystallized.as_ref().unwrap()["published"],
            true,
            "{}: {first:?}",
            example["id"]
        );
        let again = agent::run(&llm, &host, &demo_prompt(&example, false), &options)
            .await
            .unwrap();
        assert!(again.skill_used.is_some(), "{}: {again:?}", example["id"]);
        assert_eq!(again.answer, first.answer, "{}", example["id"]);
        let fresh = agent::run(&llm, &host, &demo_prompt(&example, true), &options)
            .await
            .unwrap();
        assert_eq!(fresh.skill_used, again.skill_used, "{}", example["id"]);
        assert_ne!(
            fresh.answer, first.answer,
            "{}: new data, new answer",
            example["id"]
        );
    }
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_is_parsed_for_the_model_and_its_script_habits_are_cleaned_up() {
    // The model writes what small models write: a function, the data pasted
    // over the input as an example, the answer printed; then a tool call
    // as a dict literal after an assignment.
    let (url, _) = serve(Script {
        agent: Some(Arc::new(|body: &Value| {
            let messages = body["messages"].as_array().unwrap();
            let system = messages[0]["content"].as_str().unwrap();
            assert!(system.contains("- `rows`: `data` parsed: a list of dicts"), "{system}");
            let results = messages.iter().filter(|m| m["role"] == "tool").count();
            match results {
                0 => tool_call(
                    "run_python",
                    json!({"code": "def total(rows):\n    return sum(r['units'] * r['price'] for r in rows)\n\n# Example usage\nrows = [{'units': 1, 'price': 1}]\nprint(total(rows))"}),
                ),
                1 => tool_call(
                    "run_python",
                    json!({"code": "top = max(rows, key=lambda r: r['units'])['sku']\n{\"arguments\": {}, \"tool\": \"finish\"}"}),
                ),
                _ => tool_call("finish", json!({})),
            }
        })),
        ..Script::default()
    })
    .await;
    let (_app, host, llm) = connected(&url).await;
    let prompt = "Total the revenue, then the best seller.\n\n```csv\nsku,units,price\nA-1,2,2.5\nB-2,4,1.25\n```";
    let options = AgentOptions {
        crystallize: false,
        ..AgentOptions::default()
    };
    let steps = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = steps.clone();
    let options = AgentOptions {
        observer: Some(Arc::new(move |s: &AgentStep| {
            seen.lock().unwrap().push(s.clone())
        })),
        ..options
    };
    let report = agent::run(&llm, &host, prompt, &options).await.unwrap();
    assert_eq!(report.answer, json!("B-2"));
    let outputs: Vec<Value> = steps
        .lock()
        .unwrap()
        .iter()
        .filter_map(|s| match s {
            AgentStep::Output {
                ok: true, output, ..
            } => Some(output.clone()),
            _ => None,
        })
        .collect();
    // The parsed rows, the total over them (not over the pasted example),
    // and the assignment's value.
    assert_eq!(
        outputs,
        [
            json!([{"sku": "A-1", "units": 2, "price": 2.5}, {"sku": "B-2", "units": 4, "price": 1.25}]),
            json!(10.0),
            json!("B-2")
        ]
    );
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_is_shown_to_the_model_and_a_silent_model_gives_up() {
    // The model's first step raises; it reads the error and fixes it.
    let (url, _) = serve(Script {
        agent: Some(Arc::new(|body: &Value| {
            let messages = body["messages"].as_array().unwrap();
            let results: Vec<&str> = messages
                .iter()
                .filter(|m| m["role"] == "tool")
                .filter_map(|m| m["content"].as_str())
                .collect();
            match results.as_slice() {
                [] => tool_call("run_python", json!({"code": "int(data) + 1"})),
                [e] if e.contains("ValueError") => {
                    tool_call("run_python", json!({"code": "len(data.split())"}))
                }
                _ => tool_call("finish", json!({})),
            }
        })),
        ..Script::default()
    })
    .await;
    let (_app, host, llm) = connected(&url).await;
    let prompt = "Count the words.\n\n```\none two three\n```";
    let options = AgentOptions {
        crystallize: false,
        ..AgentOptions::default()
    };
    let report = agent::run(&llm, &host, prompt, &options).await.unwrap();
    assert_eq!(report.answer, json!(3));
    assert_eq!(
        report.tools_called,
        ["search_skills", "run_python", "run_python"]
    );

    // A model that only ever says finish, with nothing run, gives up.
    let (url, _) = serve(Script {
        agent: Some(Arc::new(|_: &Value| tool_call("finish", json!({})))),
        ..Script::default()
    })
    .await;
    let err = agent::run(&model(&url), &host, prompt, &options)
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("no answer after 0 steps"),
        "{err}"
    );
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_ignores_the_data_is_not_crystallized() {
    // A weak model writes its answer as a constant; a constant is no skill.
    let (url, _) = serve(Script {
        agent: Some(Arc::new(|body: &Value| {
            let ran = has_run(body);
            if ran {
                tool_call("finish", json!({}))
            } else {
                tool_call("run_python", json!({"code": "{'words': 3}"}))
            }
        })),
        ..Script::default()
    })
    .await;
    let (app, host, llm) = connected(&url).await;
    let prompt = "Count the words.\n\n```\none two three\n```";
    let report = agent::run(&llm, &host, prompt, &AgentOptions::default())
        .await
        .unwrap();
    assert_eq!(report.answer, json!({"words": 3}));
    assert_eq!(report.tools_called, ["search_skills", "run_python"]);
    assert_eq!(report.crystallized.unwrap()["error"]["kind"], "not_sent");
    assert!(app.skills().published("local").await.unwrap().is_empty());
    host.close().await;
}

/// "Count the words" of three words, solved by the fake model at `url`
/// with `samples` candidates per step, the answer confirmed.
async fn count_words(url: &str, samples: usize) -> (App, Host, AgentReport) {
    let (app, host, llm) = connected(url).await;
    let prompt = "Count the words.\n\n```\none two three\n```";
    let options = AgentOptions {
        samples,
        ..confirmed()
    };
    let report = agent::run(&llm, &host, prompt, &options).await.unwrap();
    (app, host, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_candidate_runs_and_the_value_most_of_them_compute_is_the_step() {
    // The greedy sample runs but counts characters; two warmer samples,
    // written differently, both count words: their value is the step.
    let (url, _) = serve(Script {
        agent: Some(Arc::new(|body: &Value| {
            if has_run(body) {
                return tool_call("finish", json!({}));
            }
            let code = match body["temperature"].as_f64() {
                Some(t) if t > 0.7 => "len(data.split())",
                Some(t) if t > 0.0 => "words = data.split()\nlen(words)",
                _ => "len(data)",
            };
            tool_call("run_python", json!({"code": code}))
        })),
        ..Script::default()
    })
    .await;
    let (app, host, report) = count_words(&url, 3).await;
    assert_eq!(report.answer, json!(3));
    assert_eq!(
        report.tools_called,
        [
            "search_skills",
            "run_python",
            "run_python",
            "run_python",
            "crystallize"
        ]
    );
    let skill = app.skills().published("local").await.unwrap().remove(0);
    assert!(
        skill.manifest.source.contains("split()") && !skill.manifest.source.contains("len(data)\n"),
        "{}",
        skill.manifest.source
    );
    host.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_greedy_sample_gives_way_to_one_that_runs() {
    // The greedy sample fails; the warmer one works: the step is the one
    // that ran, and the failed try stays out of the skill.
    let (url, fake) = serve(Script {
        agent: Some(Arc::new(|body: &Value| {
            let ran = has_run(body);
            if ran {
                return tool_call("finish", json!({}));
            }
            match body["temperature"].as_f64() {
                Some(t) if t > 0.0 => tool_call("run_python", json!({"code": "len(data.split())"})),
                _ => tool_call("run_python", json!({"code": "len(data.split(]))"})),
            }
        })),
        ..Script::default()
    })
    .await;
    let (app, host, report) = count_words(&url, 2).await;
    assert_eq!(report.answer, json!(3));
    assert_eq!(
        report.tools_called,
        ["search_skills", "run_python", "run_python", "crystallize"]
    );
    assert_eq!(
        report.llm_calls, 4,
        "two samples for the step, two for finish"
    );
    assert_eq!(report.crystallized.as_ref().unwrap()["published"], true);
    let skill = app.skills().published("local").await.unwrap().remove(0);
    assert!(
        !skill.manifest.source.contains("split(]"),
        "{}",
        skill.manifest.source
    );
    assert_eq!(fake.offered.lock().unwrap().len(), 4);
    host.close().await;
}

/// On the data runtime the model is told pandas is there, its steps run
/// there (a Series is a step's value, as plain data), and what it
/// crystallizes is a data skill that answers new data on the skill path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_data_runtime_the_steps_use_pandas_and_teach_a_data_skill() {
    crate::util::data_ready();
    let (url, fake) = serve(Script {
        agent: Some(Arc::new(|body: &Value| {
            if has_run(body) {
                return tool_call("finish", json!({}));
            }
            // No import: the agent adds the conventional alias.
            tool_call(
                "run_python",
                json!({"code": "df = pd.DataFrame(rows)\ndf['revenue'] = df['units'] * df['unit_price']\ndf.groupby('product')['revenue'].sum().round(2).sort_values(ascending=False).head(3)"}),
            )
        })),
        ..Script::default()
    })
    .await;
    let (app, host, llm) = connected(&url).await;
    let options = AgentOptions {
        runtime: autolearn::runtime::Runtime::Data,
        ..confirmed()
    };
    let sales = example("sales_report");
    let first = agent::run(&llm, &host, &demo_prompt(&sales, false), &options)
        .await
        .unwrap();
    assert_eq!(
        first.answer,
        json!({"Gizmo": 392.0, "Gadget": 243.92, "Widget": 127.0})
    );
    assert!(
        fake.systems
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.contains("import pandas as pd")),
        "the model is told pandas is there"
    );
    assert_eq!(first.crystallized.as_ref().unwrap()["published"], true);
    let skill = app.skills().published("local").await.unwrap().remove(0);
    assert_eq!(skill.manifest.runtime, autolearn::runtime::Runtime::Data);

    let variant = agent::run(&llm, &host, &demo_prompt(&sales, true), &options)
        .await
        .unwrap();
    assert_eq!(
        variant.skill_used.as_deref(),
        Some(skill.manifest.name.as_str())
    );
    assert_eq!(variant.answer["Gizmo"], json!(391.5));
    host.close().await;
}
