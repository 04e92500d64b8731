//! Each limit ends a call with its own typed error, and the host survives.

use std::time::Duration;

use autolearn::sandbox::{CallError, ErrorKind, ResourceLimits};

use crate::util::On;

crate::on_both_runtimes!(
    an_infinite_loop_runs_out_of_fuel,
    a_loop_at_import_time_runs_out_of_fuel,
    the_deadline_stops_a_loop_that_has_fuel_to_spare,
    a_sleep_parked_in_the_host_is_stopped_at_the_deadline,
    a_large_allocation_is_a_memory_error,
    gradual_growth_hits_the_memory_cap,
    a_smaller_memory_cap_is_enforced_per_call,
    a_memory_cap_above_the_engine_maximum_is_refused,
    deep_recursion_is_a_recursion_error_with_the_line,
    a_stdout_flood_is_cut_off,
    a_stderr_flood_is_cut_off,
    printing_within_the_cap_is_captured,
    a_huge_result_is_refused,
    a_set_is_not_json,
    nan_is_not_json,
    an_arbitrary_object_is_not_json,
    a_syntax_error_names_its_line,
    a_missing_entry_function_is_reported,
    input_that_does_not_fit_the_signature_is_bad_input,
    input_that_is_not_an_object_is_bad_input,
    an_exception_shows_the_skills_own_source_line,
    fuel_used_is_reported,
);

async fn an_infinite_loop_runs_out_of_fuel(on: On) {
    let e = on
        .expect_kind(
            "def f():\n    while True:\n        pass\n",
            "{}",
            ErrorKind::OutOfFuel,
        )
        .await;
    assert!(matches!(
        e,
        CallError::OutOfFuel {
            limit: 2_000_000_000
        }
    ));
}

async fn a_loop_at_import_time_runs_out_of_fuel(on: On) {
    on.expect_kind(
        "while True:\n    pass\ndef f():\n    return 1\n",
        "{}",
        ErrorKind::OutOfFuel,
    )
    .await;
}

async fn the_deadline_stops_a_loop_that_has_fuel_to_spare(on: On) {
    let limits = ResourceLimits {
        fuel: u64::MAX / 2,
        deadline: Duration::from_millis(200),
        ..Default::default()
    };
    let e = on
        .run_with(
            "def f():\n    while True:\n        pass\n",
            "f",
            "{}",
            &limits,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Timeout { .. }), "{e:?}");
    on.assert_healthy().await;
}

async fn a_sleep_parked_in_the_host_is_stopped_at_the_deadline(on: On) {
    // The epoch interrupt cannot reach a call blocked in a host future;
    // the async timeout must. Without it this call would hold its slot
    // for the whole hour.
    let limits = ResourceLimits {
        deadline: Duration::from_millis(300),
        ..Default::default()
    };
    let e = on
        .run_with(
            "import time\ndef f():\n    time.sleep(3600)\n",
            "f",
            "{}",
            &limits,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    on.assert_healthy().await;
}

async fn a_large_allocation_is_a_memory_error(on: On) {
    on.expect_kind(
        "def f():\n    return len(bytearray(2**30))\n",
        "{}",
        ErrorKind::MemoryLimit,
    )
    .await;
}

async fn gradual_growth_hits_the_memory_cap(on: On) {
    on.expect_kind(
        "def f():\n    s = ['x' * 1000]\n    while True:\n        s.append(s[-1] + 'y' * 100000)\n",
        "{}",
        ErrorKind::MemoryLimit,
    )
    .await;
}

async fn a_smaller_memory_cap_is_enforced_per_call(on: On) {
    let limits = ResourceLimits {
        memory_bytes: 96 << 20,
        ..Default::default()
    };
    let e = on
        .run_with(
            "def f():\n    return len(bytearray(120 * 2**20))\n",
            "f",
            "{}",
            &limits,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MemoryLimit);
    // The same allocation fits under the default cap.
    assert_eq!(
        on.run("def f():\n    return len(bytearray(120 * 2**20))\n", "{}")
            .await
            .unwrap()
            .json,
        "125829120"
    );
}

async fn a_memory_cap_above_the_engine_maximum_is_refused(on: On) {
    let limits = ResourceLimits {
        memory_bytes: 64 << 30,
        ..Default::default()
    };
    let e = on
        .run_with("def f():\n    return 1\n", "f", "{}", &limits)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Host);
}

async fn deep_recursion_is_a_recursion_error_with_the_line(on: On) {
    let e = on
        .expect_kind(
            "def f(n=0):\n    return f(n + 1)\n",
            "{}",
            ErrorKind::Recursion,
        )
        .await;
    assert_eq!(e.to_json()["line"], 2);
}

async fn a_stdout_flood_is_cut_off(on: On) {
    let e = on
        .expect_kind(
            "def f():\n    while True:\n        print('x' * 1000)\n",
            "{}",
            ErrorKind::OutputLimit,
        )
        .await;
    assert!(
        matches!(
            e,
            CallError::OutputLimit {
                stream: "stdout",
                ..
            }
        ),
        "{e:?}"
    );
}

async fn a_stderr_flood_is_cut_off(on: On) {
    let src = "def f():\n    for c in ().__class__.__base__.__subclasses__():\n        if c.__name__ == '_wrap_close':\n            w = c.__init__.__globals__['write']\n    while True:\n        w(2, b'e' * 4096)\n";
    let e = on.expect_kind(src, "{}", ErrorKind::OutputLimit).await;
    assert!(
        matches!(
            e,
            CallError::OutputLimit {
                stream: "stderr",
                ..
            }
        ),
        "{e:?}"
    );
}

async fn printing_within_the_cap_is_captured(on: On) {
    let out = on
        .run("def f():\n    print('hello')\n    return 1\n", "{}")
        .await
        .unwrap();
    assert_eq!(out.stdout, "hello\n");
}

async fn a_huge_result_is_refused(on: On) {
    let e = on
        .expect_kind(
            "def f():\n    return 'x' * (2 * 2**20)\n",
            "{}",
            ErrorKind::ResultTooLarge,
        )
        .await;
    assert!(matches!(
        e,
        CallError::ResultTooLarge {
            limit: 1_048_576,
            ..
        }
    ));
}

async fn a_set_is_not_json(on: On) {
    let e = on
        .expect_kind("def f():\n    return {1, 2}\n", "{}", ErrorKind::BadOutput)
        .await;
    assert!(e.to_string().contains("set"));
}

async fn nan_is_not_json(on: On) {
    on.expect_kind(
        "def f():\n    return float('nan')\n",
        "{}",
        ErrorKind::BadOutput,
    )
    .await;
}

async fn an_arbitrary_object_is_not_json(on: On) {
    on.expect_kind(
        "def f():\n    return object()\n",
        "{}",
        ErrorKind::BadOutput,
    )
    .await;
}

async fn a_syntax_error_names_its_line(on: On) {
    let e = on
        .expect_kind("def f():\n    return 1 +\n", "{}", ErrorKind::Syntax)
        .await;
    assert_eq!(e.to_json()["line"], 2);
}

async fn a_missing_entry_function_is_reported(on: On) {
    let e = on
        .expect_kind("def g():\n    return 1\n", "{}", ErrorKind::MissingEntry)
        .await;
    assert!(e.to_string().contains("'f'"));
}

async fn input_that_does_not_fit_the_signature_is_bad_input(on: On) {
    let e = on
        .expect_kind(
            "def f(x):\n    return x\n",
            r#"{"y": 1}"#,
            ErrorKind::BadInput,
        )
        .await;
    assert!(e.to_string().contains("x"), "{e}");
}

async fn input_that_is_not_an_object_is_bad_input(on: On) {
    on.expect_kind("def f(x):\n    return x\n", "[1, 2]", ErrorKind::BadInput)
        .await;
}

async fn an_exception_shows_the_skills_own_source_line(on: On) {
    let src = "def helper(d):\n    return d['missing']\n\ndef f():\n    return helper({})\n";
    let e = on.expect_kind(src, "{}", ErrorKind::Exception).await;
    let json = e.to_json();
    assert_eq!(json["error_type"], "KeyError");
    assert_eq!(json["line"], 2);
    let tb = json["traceback"].as_str().unwrap();
    assert!(
        tb.contains("return d['missing']"),
        "traceback lacks the source line:\n{tb}"
    );
    assert!(tb.contains("<skill:t>"), "{tb}");
    assert!(
        !tb.contains("harness"),
        "harness frames leaked into the traceback:\n{tb}"
    );
}

async fn fuel_used_is_reported(on: On) {
    let small = on
        .run("def f():\n    return 1\n", "{}")
        .await
        .unwrap()
        .fuel_used;
    let big = on
        .run(
            "def f():\n    return sum(i * i for i in range(200000))\n",
            "{}",
        )
        .await
        .unwrap()
        .fuel_used;
    assert!(small > 0 && big > small * 2, "fuel small={small} big={big}");
}

#[test]
fn sandboxes_loading_at_once_on_a_cold_cache_do_not_corrupt_it() {
    // Regression: concurrent precompiles in one process once shared a
    // temporary file, and a reader's mmap died with SIGBUS.
    let cold = crate::util::data_dir();
    let loaders: Vec<_> = (0..2)
        .map(|_| {
            let dir = cold.path().to_owned();
            std::thread::spawn(move || {
                let sb = autolearn::sandbox::Sandbox::new(&autolearn::sandbox::SandboxConfig::new(
                    crate::util::artifact(),
                    dir,
                ))
                .unwrap();
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let code = autolearn::sandbox::SkillCode {
                    deps: &[],
                    name: "t",
                    source: "def f():\n    return 7\n",
                    entry: "f",
                    runtime: autolearn::runtime::Runtime::Core,
                };
                rt.block_on(sb.run(
                    code,
                    "{}",
                    &ResourceLimits::default(),
                    autolearn::sandbox::Determinism::Live,
                ))
                .unwrap()
                .json
            })
        })
        .collect();
    for l in loaders {
        assert_eq!(l.join().expect("loader thread"), "7");
    }
}
