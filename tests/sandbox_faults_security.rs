//! Exceptions built to break the harness that reports them: a `__str__` or
//! `__repr__` that raises, a metaclass whose `__name__` raises, a
//! `__traceback__` or `__class__` property, cause loops, notes that cannot
//! be read, `BaseException`s raised while formatting. Each one must end as
//! the skill's own error kind (never `crash`), with a bounded message and
//! no backtrace of the runtime's internals, on every export that reports
//! faults: a skill call, a code cell, and the verifier's test run.

use autolearn::sandbox::{CallError, Determinism, ErrorKind, ResourceLimits, SkillCode, TestCase};

use crate::util::On;

crate::on_both_runtimes!(
    an_exception_whose_str_raises_is_an_exception,
    system_exit_with_an_unreprable_code_is_an_exit,
    system_exit_whose_code_property_raises_is_an_exit,
    a_metaclass_whose_name_raises_leaves_the_kind_intact,
    a_traceback_property_that_raises_is_an_exception,
    a_class_property_that_raises_is_an_exception,
    a_cause_loop_is_an_exception,
    a_deep_cause_chain_is_an_exception,
    base_exceptions_raised_while_formatting_stay_the_skills,
    notes_that_cannot_be_read_are_an_exception,
    a_str_returning_a_hostile_str_subclass_is_an_exception,
    a_huge_message_is_cut,
    an_unformattable_exception_at_import_time_is_an_exception,
    a_code_cell_raising_an_unformattable_exception_is_an_exception,
    the_verifier_reports_an_unformattable_exception_as_a_failed_case,
);

/// What no answer may show: the runtime's own frames and wasm internals.
fn assert_no_internals(e: &CallError) {
    let text = e.to_json().to_string();
    for leak in ["wasm backtrace", "harness.py", "componentize", "0x"] {
        assert!(!text.contains(leak), "{leak:?} leaked in {text}");
    }
    assert!(text.len() < 40_000, "unbounded error: {} bytes", text.len());
}

async fn expect_skill_fault(on: On, source: &str, kind: ErrorKind) -> CallError {
    let e = on.expect_kind(source, "{}", kind).await;
    assert_no_internals(&e);
    e
}

const STR_RAISES: &str =
    "class E(Exception):\n    def __str__(self):\n        raise ValueError('no')\n";

async fn an_exception_whose_str_raises_is_an_exception(on: On) {
    let src = format!("{STR_RAISES}def f():\n    raise E()\n");
    let e = expect_skill_fault(on, &src, ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "E");
}

async fn system_exit_with_an_unreprable_code_is_an_exit(on: On) {
    let src = "class R:\n    def __repr__(self):\n        raise ValueError('no')\n    def __str__(self):\n        raise ValueError('no')\ndef f():\n    raise SystemExit(R())\n";
    expect_skill_fault(on, src, ErrorKind::Exit).await;
}

async fn system_exit_whose_code_property_raises_is_an_exit(on: On) {
    let src = "class X(SystemExit):\n    @property\n    def code(self):\n        raise ValueError('no')\ndef f():\n    raise X(1)\n";
    expect_skill_fault(on, src, ErrorKind::Exit).await;
}

async fn a_metaclass_whose_name_raises_leaves_the_kind_intact(on: On) {
    let src = "class M(type):\n    @property\n    def __name__(cls):\n        raise ValueError('no')\nclass E(Exception, metaclass=M):\n    pass\ndef f():\n    raise E('boom')\n";
    let e = expect_skill_fault(on, src, ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "E", "the real type name");
}

async fn a_traceback_property_that_raises_is_an_exception(on: On) {
    let src = "class E(Exception):\n    @property\n    def __traceback__(self):\n        raise ValueError('no')\n    @__traceback__.setter\n    def __traceback__(self, v):\n        pass\ndef f():\n    raise E('x')\n";
    expect_skill_fault(on, src, ErrorKind::Exception).await;
}

async fn a_class_property_that_raises_is_an_exception(on: On) {
    let src = "class E(Exception):\n    @property\n    def __class__(self):\n        raise ValueError('no')\ndef f():\n    raise E('x')\n";
    expect_skill_fault(on, src, ErrorKind::Exception).await;
}

async fn a_cause_loop_is_an_exception(on: On) {
    let src = "def f():\n    a = ValueError('a')\n    b = KeyError('b')\n    a.__cause__ = b\n    b.__cause__ = a\n    a.__context__ = b\n    b.__context__ = a\n    raise a\n";
    let e = expect_skill_fault(on, src, ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "ValueError");
}

async fn a_deep_cause_chain_is_an_exception(on: On) {
    let src = "def f():\n    e = ValueError(0)\n    for i in range(100000):\n        n = ValueError(i)\n        n.__cause__ = e\n        e = n\n    raise e\n";
    expect_skill_fault(on, src, ErrorKind::Exception).await;
}

async fn base_exceptions_raised_while_formatting_stay_the_skills(on: On) {
    // `except Exception` in a formatter lets these through.
    for raised in ["SystemExit(1)", "KeyboardInterrupt()", "GeneratorExit()"] {
        let src = format!(
            "class E(Exception):\n    def __str__(self):\n        raise {raised}\n    __repr__ = __str__\ndef f():\n    raise E()\n"
        );
        let e = expect_skill_fault(on, &src, ErrorKind::Exception).await;
        assert_eq!(e.to_json()["error_type"], "E", "{raised}");
    }
}

async fn notes_that_cannot_be_read_are_an_exception(on: On) {
    let src = "class N:\n    def __iter__(self):\n        raise SystemExit(2)\n    def __len__(self):\n        raise SystemExit(2)\n    def __repr__(self):\n        raise SystemExit(2)\nclass E(Exception):\n    @property\n    def __notes__(self):\n        return N()\ndef f():\n    raise E('x')\n";
    expect_skill_fault(on, src, ErrorKind::Exception).await;
}

async fn a_str_returning_a_hostile_str_subclass_is_an_exception(on: On) {
    let src = "class S(str):\n    def __len__(self):\n        raise ValueError('no')\n    def encode(self, *a):\n        raise ValueError('no')\n    def __getitem__(self, i):\n        raise ValueError('no')\nclass E(Exception):\n    def __str__(self):\n        return S('hostile')\ndef f():\n    raise E()\n";
    expect_skill_fault(on, src, ErrorKind::Exception).await;
}

async fn a_huge_message_is_cut(on: On) {
    let src = "def f():\n    raise ValueError('x' * 10_000_000)\n";
    let e = expect_skill_fault(on, src, ErrorKind::Exception).await;
    assert!(e.to_string().len() < 20_000);
}

async fn an_unformattable_exception_at_import_time_is_an_exception(on: On) {
    let src = format!("{STR_RAISES}raise E()\ndef f():\n    return 1\n");
    expect_skill_fault(on, &src, ErrorKind::Exception).await;
}

async fn a_code_cell_raising_an_unformattable_exception_is_an_exception(on: On) {
    let code = format!("{STR_RAISES}raise E()\n");
    let e = on
        .sandbox()
        .exec(
            on.0,
            &code,
            "{}",
            &ResourceLimits::default(),
            Determinism::Live,
        )
        .await
        .expect_err("the cell raises");
    assert_eq!(e.kind(), ErrorKind::Exception, "{e:?}");
    assert_no_internals(&e);
    on.assert_healthy().await;
}

async fn the_verifier_reports_an_unformattable_exception_as_a_failed_case(on: On) {
    let source = format!("{STR_RAISES}def f(x):\n    raise E()\n");
    let cases: Vec<TestCase> =
        serde_json::from_value(serde_json::json!([{"input": {"x": 1}, "expected": 2}])).unwrap();
    let code = SkillCode::new("t", &source, "f").on(on.0);
    let report = on
        .sandbox()
        .test(code, &cases, &ResourceLimits::default(), Determinism::Live)
        .await
        .expect("a report, not a crash");
    assert_eq!((report.passed, report.failed), (0, 1));
    on.assert_healthy().await;
}
