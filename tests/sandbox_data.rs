//! The data runtime (numpy and pandas) on its own terms: results as plain
//! JSON, and what is new there for a hostile skill (native code in numpy
//! and pandas, huge allocations through numpy, pandas reading "files",
//! threads, a crash inside a native extension). The hostile suites that
//! both runtimes share run on both (`on_core::` and `on_data::`).

use autolearn::runtime::Runtime;
use autolearn::sandbox::{ErrorKind, ResourceLimits, Sandbox, SandboxConfig, SkillCode};
use autolearn::skills::SkillManifest;
use serde_json::{Value, json};

use crate::sandbox_escape_security::{LOAD_BUILTIN, OS_GLOBALS, with};
use crate::util::On;

const DATA: On = On(Runtime::Data);

async fn value(source: &str, input: Value) -> Value {
    let out = DATA
        .run(source, &input.to_string())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    serde_json::from_str(&out.json).unwrap()
}

#[tokio::test]
async fn a_pandas_groupby_over_a_thousand_rows() {
    let rows: Vec<Value> = (0..1000)
        .map(|i| {
            let region = ["north", "south", "east"][i % 3];
            json!({"region": region, "amount": i})
        })
        .collect();
    let src = "import pandas as pd\n\ndef f(rows):\n    df = pd.DataFrame(rows)\n    return df.groupby('region')['amount'].sum()\n";
    let got = value(src, json!({ "rows": rows })).await;
    let mut want = serde_json::Map::new();
    for (region, start) in [("north", 0), ("south", 1), ("east", 2)] {
        want.insert(
            region.into(),
            json!((start..1000).step_by(3).sum::<usize>()),
        );
    }
    assert_eq!(got, Value::Object(want));
}

#[tokio::test]
async fn numpy_and_pandas_values_become_plain_json() {
    let src = r#"
import numpy as np
import pandas as pd

def f():
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, None]})
    return {
        "scalar": np.int64(7),
        "float": np.float32(0.5),
        "array": np.arange(3),
        "matrix": np.eye(2, dtype=int),
        "records": frame,
        "indexed": frame.set_index("a"),
        "series": pd.Series([1, 2]),
        "keyed": pd.Series({"x": 1.5, "y": float("nan")}),
        "when": pd.Timestamp("2026-12-07T10:00:00"),
        "missing": pd.NaT,
        "bool": np.bool_(True),
    }
"#;
    let got = value(src, json!({})).await;
    assert_eq!(
        got,
        json!({
            "scalar": 7,
            "float": 0.5,
            "array": [0, 1, 2],
            "matrix": [[1, 0], [0, 1]],
            "records": [{"a": 1, "b": 0.5}, {"a": 2, "b": null}],
            "indexed": [{"a": 1, "b": 0.5}, {"a": 2, "b": null}],
            "series": [1, 2],
            "keyed": {"x": 1.5, "y": null},
            "when": "2026-12-07T10:00:00",
            "missing": null,
            "bool": true,
        })
    );
}

#[tokio::test]
async fn the_core_runtime_has_no_pandas() {
    let src = "import pandas as pd\ndef f():\n    return 1\n";
    On(Runtime::Core)
        .expect_kind(src, "{}", ErrorKind::ForbiddenImport)
        .await;
}

#[tokio::test]
async fn a_huge_numpy_allocation_is_a_memory_error() {
    // 800 MB, past the call's 256 MiB cap.
    let src = "import numpy as np\ndef f():\n    return float(np.empty((10**8,)).sum())\n";
    DATA.expect_kind(src, "{}", ErrorKind::MemoryLimit).await;
    // 8 GB does not fit a 32-bit address space: numpy says so itself.
    let src = "import numpy as np\ndef f():\n    return float(np.empty((10**9,)).sum())\n";
    let e = DATA.expect_kind(src, "{}", ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "ValueError", "{e:?}");
}

#[tokio::test]
async fn numpy_growing_past_the_cap_is_a_memory_error() {
    let src = "import numpy as np\ndef f():\n    parts = []\n    while True:\n        parts.append(np.ones(10**7))\n";
    DATA.expect_kind(src, "{}", ErrorKind::MemoryLimit).await;
}

#[tokio::test]
async fn pandas_reading_a_host_file_finds_nothing() {
    let src = "import pandas as pd\ndef f():\n    return pd.read_csv('/etc/passwd').shape[0]\n";
    let e = DATA.expect_kind(src, "{}", ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "FileNotFoundError", "{e:?}");
}

#[tokio::test]
async fn pandas_reads_text_it_is_given() {
    let src = "import io\nimport pandas as pd\ndef f(text):\n    return pd.read_csv(io.StringIO(text))['n'].sum()\n";
    let got = value(src, json!({"text": "n\n1\n2\n3\n"})).await;
    assert_eq!(got, json!(6));
}

#[tokio::test]
async fn the_standard_library_is_the_only_thing_visible_and_it_is_read_only() {
    let listed = value(
        &with(OS_GLOBALS, "    return _os()['listdir']('/usr/local/lib')"),
        json!({}),
    )
    .await;
    assert_eq!(listed, json!(["python315.zip"]));
    let src = with(
        OS_GLOBALS,
        "    fd = _os()['open']('/usr/local/lib/x', 0o101)\n    return fd",
    );
    DATA.expect_kind(&src, "{}", ErrorKind::Exception).await;
    let src = with(
        OS_GLOBALS,
        "    fd = _os()['open']('/usr/local/lib/python315.zip', 1)\n    return fd",
    );
    DATA.expect_kind(&src, "{}", ErrorKind::Exception).await;
}

#[tokio::test]
async fn threads_cannot_start() {
    let src =
        "import threading\ndef f():\n    threading.Thread(target=print).start()\n    return 1\n";
    // `threading` is not among the modules a skill may import.
    DATA.expect_kind(src, "{}", ErrorKind::ForbiddenImport)
        .await;
    // Around the guard, straight to the C module: WASI has no threads.
    let src = with(
        LOAD_BUILTIN,
        "    return _load('_thread').start_new_thread(print, ())",
    );
    let e = DATA.expect_kind(&src, "{}", ErrorKind::Exception).await;
    assert!(e.to_string().contains("thread"), "{e:?}");
}

#[tokio::test]
async fn a_crash_inside_numpy_ends_the_call_not_the_host() {
    // A view whose strides point far past the buffer: numpy's C code reads
    // outside linear memory, and wasm traps.
    let src = "import numpy as np\ndef f():\n    a = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(4,), strides=(2**30,))\n    return float(a.sum())\n";
    DATA.expect_kind(src, "{}", ErrorKind::Crash).await;
}

#[tokio::test]
async fn pandas_options_set_in_one_call_are_gone_in_the_next() {
    let set = "import pandas as pd\ndef f():\n    pd.set_option('display.max_rows', 3)\n    return pd.get_option('display.max_rows')\n";
    assert_eq!(value(set, json!({})).await, json!(3));
    let get = "import pandas as pd\ndef f():\n    return pd.get_option('display.max_rows')\n";
    assert_eq!(value(get, json!({})).await, json!(60));
}

#[tokio::test]
async fn a_data_manifest_names_its_runtime_and_a_core_one_does_not() {
    let core = SkillManifest {
        name: "t".into(),
        description: "d".into(),
        input_schema: json!({"type": "object"}),
        output_schema: None,
        source: "def t():\n    return 1\n".into(),
        entry: "t".into(),
        examples: vec![],
        requires: vec![],
        memoize: false,
        runtime: Runtime::Core,
    };
    let data = SkillManifest {
        runtime: Runtime::Data,
        ..core.clone()
    };
    assert!(!core.canonical_json().contains("runtime"));
    assert!(data.canonical_json().contains(r#""runtime":"data""#));
    assert_ne!(core.id(), data.id());
}

#[tokio::test]
async fn without_the_fetched_runtime_a_data_call_says_how_to_fetch_it() {
    let empty = crate::util::data_dir();
    let sandbox = Sandbox::new(&SandboxConfig {
        data_dir: empty.path().to_path_buf(),
        ..SandboxConfig::new(crate::util::artifact(), crate::util::cache_dir())
    })
    .unwrap();
    let code = SkillCode::new("t", "def f():\n    return 1\n", "f").on(Runtime::Data);
    let e = sandbox
        .run(
            code,
            "{}",
            &ResourceLimits::default(),
            autolearn::sandbox::Determinism::Live,
        )
        .await
        .expect_err("no data runtime");
    assert!(
        e.to_string().contains("autolearn runtime fetch data"),
        "{e}"
    );
    // The core runtime is unaffected.
    let core = SkillCode::new("t", "def f():\n    return 1\n", "f");
    let out = sandbox
        .run(
            core,
            "{}",
            &ResourceLimits::default(),
            autolearn::sandbox::Determinism::Live,
        )
        .await
        .unwrap();
    assert_eq!(out.json, "1");
}

/// Through the app, as every front end reaches it: a data skill is added
/// (verified on the data runtime), called by name, and a trace of pandas
/// cells crystallizes into a data skill that reproduces it.
#[tokio::test]
async fn a_data_skill_is_added_called_and_crystallized_through_the_app() {
    use autolearn::app::{Cell, Crystallize, Crystallized};
    use autolearn::sandbox::Determinism;
    use autolearn::skills::{Example, Provenance};
    use autolearn::trace::TraceRef;

    crate::util::data_ready();
    let app = crate::util::app().await;
    let manifest = SkillManifest {
        name: "region_totals".into(),
        description: "Total amount per region.".into(),
        input_schema: json!({"type": "object", "properties": {"rows": {"type": "array"}}, "required": ["rows"]}),
        output_schema: None,
        source: "import pandas as pd\n\ndef region_totals(rows):\n    \"\"\"Total amount per region.\"\"\"\n    return pd.DataFrame(rows).groupby('region')['amount'].sum()\n".into(),
        entry: "region_totals".into(),
        examples: vec![Example {
            input: json!({"rows": [{"region": "a", "amount": 1}, {"region": "a", "amount": 2}, {"region": "b", "amount": 5}]}),
            output: json!({"a": 3, "b": 5}),
        }],
        requires: vec![],
        memoize: false,
        runtime: Runtime::Data,
    };
    let added = app
        .skills()
        .add("local", manifest.clone(), Provenance::Authored)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let autolearn::store::Inserted::New(added) = added.0 else {
        panic!("a new skill");
    };
    assert_eq!(added.manifest.runtime, Runtime::Data);
    assert_eq!(added.status, autolearn::skills::Status::Published);
    let ran = app
        .calls()
        .run(
            "local",
            "region_totals",
            &json!({"rows": [{"region": "x", "amount": 2.5}, {"region": "x", "amount": 0.5}]}),
            ResourceLimits::default(),
            Determinism::Live,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ran.value, json!({"x": 3.0}));

    // The same source on the core runtime cannot pass its own example.
    let core = SkillManifest {
        name: "region_totals_core".into(),
        runtime: Runtime::Core,
        ..manifest
    };
    assert!(
        app.skills()
            .add("local", core, Provenance::Authored)
            .await
            .is_err()
    );

    let trace = TraceRef::Id("pandas-work".parse().unwrap());
    let rows = json!({"rows": [{"city": "Oslo", "sales": 3}, {"city": "Rome", "sales": 4}, {"city": "Oslo", "sales": 1}]});
    let step = app
        .traces()
        .run_python_as(
            "local",
            Cell {
                code: "import pandas as pd\nby_city = pd.DataFrame(rows).groupby('city')['sales'].sum().to_dict()\nby_city",
                inputs: &rows,
                runtime: Runtime::Data,
                answer: true,
            },
            ResourceLimits::default(),
            &trace,
        )
        .await
        .unwrap();
    let value = step.outcome.unwrap().value;
    assert_eq!(value, json!({"Oslo": 4, "Rome": 4}));
    let made = app
        .traces()
        .crystallize(
            "local",
            "sales per city",
            Crystallize::Trace(trace),
            Some(&value),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let Crystallized::Published(skill) = made else {
        panic!("expected a new skill, got {made:?}");
    };
    assert_eq!(skill.manifest.runtime, Runtime::Data);
    assert!(
        skill.manifest.source.contains("pandas"),
        "{}",
        skill.manifest.source
    );
}

/// Every slot of the pool can run a data call at once: a call whose code
/// raises a wasm exception (pandas does, inside) takes a GC heap from the
/// pool beside its memory. Two threads on two slots failed with "maximum
/// concurrent limit of 2 for memory stripe 0 reached" before the pool held
/// two memories per slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_slot_runs_a_data_call_at_once() {
    crate::util::data_ready();
    let sandbox = std::sync::Arc::new(
        Sandbox::new(&SandboxConfig {
            max_concurrency: 2,
            ..SandboxConfig::new(crate::util::artifact(), crate::util::cache_dir())
        })
        .unwrap(),
    );
    let src = "import pandas as pd\ndef f(rows):\n    return pd.DataFrame(rows).groupby('k')['v'].sum()\n";
    let input =
        json!({"rows": [{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "a", "v": 3}]}).to_string();
    let mut handles = Vec::new();
    for _ in 0..2 {
        let (sandbox, input) = (sandbox.clone(), input.clone());
        handles.push(tokio::spawn(async move {
            for _ in 0..25 {
                let code = SkillCode::new("t", src, "f").on(Runtime::Data);
                let out = sandbox
                    .run(
                        code,
                        &input,
                        &ResourceLimits::default(),
                        autolearn::sandbox::Determinism::Live,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(out.json, r#"{"a": 4, "b": 2}"#);
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
}
