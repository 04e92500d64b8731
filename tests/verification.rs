//! The in-sandbox static check and the test runner with line coverage.

use autolearn::sandbox::{Determinism, ResourceLimits, SkillCode, TestCase};
use serde_json::json;

use crate::util::sandbox;

async fn codes(src: &str) -> Vec<String> {
    sandbox()
        .check(SkillCode::new("t", src, "f"), &ResourceLimits::default())
        .await
        .unwrap()
        .into_iter()
        .map(|f| {
            if f.code == "F821" {
                format!("F821 {}", f.message)
            } else {
                f.code
            }
        })
        .collect()
}

#[tokio::test]
async fn check_reports_syntax_errors_with_their_line() {
    let f = sandbox()
        .check(
            SkillCode::new("t", "def f(:\n    pass\n", "f"),
            &ResourceLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].code.as_str(), f[0].line), ("E999", 1));
}

#[tokio::test]
async fn check_finds_undefined_names_but_not_builtins_or_locals() {
    let src = "import math\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    y = len(str(x))\n    return math.floor(y) + undefined_thing\n";
    assert_eq!(
        codes(src).await,
        vec!["F821 undefined name 'undefined_thing'"]
    );
}

#[tokio::test]
async fn a_name_read_only_in_annotations_is_not_undefined_and_the_skill_runs() {
    // CPython 3.14 evaluates annotations lazily: `List` unimported is fine.
    let src = "def f(xs: List[int], n: Opt = None) -> List[int]:\n    \"\"\"Sort xs.\"\"\"\n    total: Number = 0\n    return sorted(xs)\n";
    assert_eq!(codes(src).await, Vec::<String>::new());
    let out = crate::util::run(src, r#"{"xs": [3, 1, 2]}"#).await.unwrap();
    assert_eq!(out.json, "[1, 2, 3]");
    // Read outside an annotation too, it is still reported.
    let src = "def f(xs: List[int]):\n    \"\"\"Doc.\"\"\"\n    return List(xs)\n";
    assert_eq!(codes(src).await, vec!["F821 undefined name 'List'"]);
}

#[tokio::test]
async fn check_flags_forbidden_constructs() {
    let src = "import os\n\ndef f():\n    \"\"\"Doc.\"\"\"\n    eval('1')\n    return ().__class__.__subclasses__()\n";
    let c = codes(src).await;
    assert!(c.contains(&"S001".to_string()), "{c:?}");
    assert!(c.contains(&"S002".to_string()), "{c:?}");
    assert!(c.contains(&"S003".to_string()), "{c:?}");
}

#[tokio::test]
async fn check_flags_module_attributes_that_lead_to_forbidden_modules() {
    for src in [
        "import dataclasses\n\ndef f():\n    \"\"\"Doc.\"\"\"\n    return dataclasses.sys.modules\n",
        "import json\n\ndef f():\n    \"\"\"Doc.\"\"\"\n    return json.decoder.re.os\n",
        "import typing\n\ndef f():\n    \"\"\"Doc.\"\"\"\n    return getattr(typing, 'sys')\n",
        "def f():\n    \"\"\"Doc.\"\"\"\n    return getattr((), '__class__')\n",
    ] {
        let c = codes(src).await;
        assert!(c.contains(&"S004".to_string()), "{src}: {c:?}");
    }
}

#[tokio::test]
async fn check_flags_a_loop_that_cannot_end_and_missing_docs() {
    let c = codes("def f():\n    while True:\n        pass\n").await;
    assert_eq!(c, vec!["D100", "W001"]);
}

#[tokio::test]
async fn clean_code_has_no_findings() {
    let src = "from collections import Counter\n\ndef top(words):\n    \"\"\"Most common word.\"\"\"\n    return Counter(words).most_common(1)[0][0]\n";
    let c = codes(src).await;
    assert!(c.is_empty(), "{c:?}");
}

#[tokio::test]
async fn tests_report_pass_fail_and_line_coverage() {
    let src = "def sign(x):\n    \"\"\"Sign of x.\"\"\"\n    if x > 0:\n        return 1\n    if x < 0:\n        return -1\n    return 0\n";
    let code = SkillCode {
        deps: &[],
        name: "sign",
        source: src,
        entry: "sign",
        runtime: autolearn::runtime::Runtime::Core,
    };
    let cases = vec![
        TestCase {
            input: json!({"x": 5}),
            expected: Some(json!(1)),
        },
        TestCase {
            input: json!({"x": -5}),
            expected: Some(json!(1)),
        },
    ];
    let r = sandbox()
        .test(
            code,
            &cases,
            &ResourceLimits::generous(),
            Determinism::Seeded(0),
        )
        .await
        .unwrap();
    assert_eq!((r.passed, r.failed), (1, 1));
    assert_eq!(r.cases[1]["output"], json!(-1));
    // `return 0` never ran; everything else did.
    assert_eq!(r.coverage.missed, vec![7]);
    assert!(
        r.coverage.percent > 80.0 && r.coverage.percent < 100.0,
        "{:?}",
        r.coverage
    );
}

#[tokio::test]
async fn a_failing_case_carries_its_error() {
    let code = SkillCode {
        deps: &[],
        name: "d",
        source: "def d(a, b):\n    return a / b\n",
        entry: "d",
        runtime: autolearn::runtime::Runtime::Core,
    };
    let cases = vec![TestCase {
        input: json!({"a": 1, "b": 0}),
        expected: None,
    }];
    let r = sandbox()
        .test(
            code,
            &cases,
            &ResourceLimits::generous(),
            Determinism::Seeded(0),
        )
        .await
        .unwrap();
    assert_eq!(r.failed, 1);
    assert_eq!(r.cases[0]["error"]["error_type"], "ZeroDivisionError");
}
