//! Hostile skills, written the way an attacker would probe: straight
//! imports first, then the classic escapes around Python-level guards
//! (`__subclasses__` walks to `os` globals, re-loading builtin modules), so
//! that each case reaches the WASI layer itself and shows it holds.
//! Every case asserts the exact error kind and that the next call works.

use autolearn::sandbox::ErrorKind;

use crate::util::{assert_healthy, expect_kind, run};

/// Reach the real `os` module's globals around the import guard.
const OS_GLOBALS: &str = "
def _os():
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == '_wrap_close':
            return c.__init__.__globals__
    raise RuntimeError('no os')
";

/// Load a builtin C module around the import guard.
const LOAD_BUILTIN: &str = "
def _load(name):
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == 'BuiltinImporter':
            return c.load_module(name)
    raise RuntimeError('no importer')
";

fn with(prelude: &str, body: &str) -> String {
    format!("{prelude}\ndef f():\n{body}\n")
}

#[tokio::test]
async fn reading_a_host_file_finds_no_filesystem() {
    let e = expect_kind(
        "def f():\n    return open('/etc/passwd').read()\n",
        "{}",
        ErrorKind::Exception,
    )
    .await;
    assert_eq!(e.to_json()["error_type"], "FileNotFoundError");
}

#[tokio::test]
async fn reading_through_io_open_finds_no_filesystem() {
    let e = expect_kind(
        "import io\ndef f():\n    return io.open('/etc/hostname', 'rb').read().decode()\n",
        "{}",
        ErrorKind::Exception,
    )
    .await;
    assert_eq!(e.to_json()["error_type"], "FileNotFoundError");
}

#[tokio::test]
async fn writing_a_file_leaves_nothing_on_the_host() {
    let target = std::env::temp_dir().join("autolearn-escape-probe.txt");
    let _ = std::fs::remove_file(&target);
    let src = format!(
        "def f():\n    with open({:?}, 'w') as fh:\n        fh.write('pwned')\n    return 'written'\n",
        target.display().to_string()
    );
    expect_kind(&src, "{}", ErrorKind::Exception).await;
    assert!(!target.exists(), "the skill wrote to the host filesystem");
}

#[tokio::test]
async fn listing_the_root_through_real_os_fails() {
    let src = with(OS_GLOBALS, "    return _os()['listdir']('/')");
    let e = expect_kind(&src, "{}", ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "FileNotFoundError");
}

#[tokio::test]
async fn relative_paths_and_cwd_are_empty_too() {
    let src = with(OS_GLOBALS, "    return _os()['listdir']('.')");
    expect_kind(&src, "{}", ErrorKind::Exception).await;
}

#[tokio::test]
async fn the_environment_is_empty() {
    let src = with(OS_GLOBALS, "    return dict(_os()['environ'])");
    let out = run(&src, "{}").await.unwrap();
    assert_eq!(out.json, "{}", "host environment leaked into the sandbox");
}

#[tokio::test]
async fn import_socket_is_refused() {
    let e = expect_kind(
        "import socket\ndef f():\n    return 1\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
    assert!(e.to_string().contains("socket"));
}

#[tokio::test]
async fn a_raw_socket_via_the_builtin_module_is_denied_by_wasi() {
    // `_socket` is compiled into CPython; only WASI stands in the way.
    let src = with(
        LOAD_BUILTIN,
        "    s = _load('_socket')\n    k = s.socket(s.AF_INET, s.SOCK_STREAM)\n    k.connect(('127.0.0.1', 22))\n    return 'connected'",
    );
    let e = expect_kind(&src, "{}", ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "PermissionError");
}

#[tokio::test]
async fn dns_lookups_are_denied() {
    let src = with(
        LOAD_BUILTIN,
        "    s = _load('_socket')\n    return s.getaddrinfo('example.com', 80)",
    );
    expect_kind(&src, "{}", ErrorKind::Exception).await;
}

#[tokio::test]
async fn import_subprocess_is_refused() {
    expect_kind(
        "import subprocess\ndef f():\n    return subprocess.run(['id']).returncode\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
}

#[tokio::test]
async fn spawning_through_real_os_is_impossible() {
    let src = with(
        OS_GLOBALS,
        "    g = _os()\n    return g['system']('id') if 'system' in g else g['posix_spawn']",
    );
    let e = expect_kind(&src, "{}", ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "KeyError");
}

#[tokio::test]
async fn import_ctypes_is_refused() {
    expect_kind(
        "import ctypes\ndef f():\n    return 1\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
}

#[tokio::test]
async fn dunder_import_is_guarded_too() {
    expect_kind(
        "def f():\n    return __import__('os').getcwd()\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
}

#[tokio::test]
async fn importlib_is_refused() {
    expect_kind(
        "import importlib\ndef f():\n    return 1\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
}

#[tokio::test]
async fn a_missing_third_party_module_is_reported_as_such() {
    let e = expect_kind(
        "import numpy\ndef f():\n    return 1\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
    assert!(e.to_string().contains("numpy"));
}

#[tokio::test]
async fn sys_exit_is_an_exit_error() {
    let e = expect_kind("def f():\n    raise SystemExit(3)\n", "{}", ErrorKind::Exit).await;
    assert!(e.to_string().contains('3'));
}

#[tokio::test]
async fn os_exit_through_real_os_is_an_exit_error_not_a_host_exit() {
    let src = with(OS_GLOBALS, "    _os()['_exit'](7)");
    expect_kind(&src, "{}", ErrorKind::Exit).await;
}

#[tokio::test]
async fn state_set_in_one_call_is_gone_in_the_next() {
    // Poisoning `json.dumps` must not even forge this call's own output.
    let poison = "import json\ndef f():\n    json.LEAK = 'secret'\n    json.dumps = lambda *a, **k: 'poisoned'\n    return 'set'\n";
    assert_eq!(run(poison, "{}").await.unwrap().json, "\"set\"");
    let probe = "import json\ndef f():\n    return [hasattr(json, 'LEAK'), json.dumps([1])]\n";
    assert_eq!(run(probe, "{}").await.unwrap().json, "[false, \"[1]\"]");
}

#[tokio::test]
async fn builtins_patched_in_one_call_are_clean_in_the_next() {
    // The real builtins, not the skill's copy.
    let src = with(
        OS_GLOBALS,
        "    b = _os()['__builtins__']\n    b['len'] = lambda x: 999\n    return b['len']([1])",
    );
    assert_eq!(run(&src, "{}").await.unwrap().json, "999");
    let probe = with(
        OS_GLOBALS,
        "    return [len([1, 2]), _os()['__builtins__']['len']([1, 2])]",
    );
    assert_eq!(run(&probe, "{}").await.unwrap().json, "[2, 2]");
}

#[tokio::test]
async fn a_lone_surrogate_in_the_result_is_bad_output_not_a_crash() {
    expect_kind(
        "def f():\n    return '\\ud800'\n",
        "{}",
        ErrorKind::BadOutput,
    )
    .await;
}

#[tokio::test]
async fn a_lone_surrogate_in_an_exception_message_survives() {
    let e = expect_kind(
        "def f():\n    raise ValueError('bad \\udc80 text')\n",
        "{}",
        ErrorKind::Exception,
    )
    .await;
    assert!(e.to_string().contains("bad"));
}

#[tokio::test]
async fn catching_base_exception_cannot_swallow_the_fuel_limit() {
    let src = "def f():\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n";
    expect_kind(src, "{}", ErrorKind::OutOfFuel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_calls_running_at_once_each_get_their_own_error() {
    let cases: Vec<(&str, ErrorKind)> = vec![
        ("def f():\n    while True: pass\n", ErrorKind::OutOfFuel),
        (
            "def f():\n    s = ['x' * 1000]\n    while True: s.append(s[-1] + 'y' * 100000)\n",
            ErrorKind::MemoryLimit,
        ),
        (
            "def f():\n    while True: print('flood' * 100)\n",
            ErrorKind::OutputLimit,
        ),
        ("def f():\n    return 1 / 0\n", ErrorKind::Exception),
        (
            "import socket\ndef f():\n    return 1\n",
            ErrorKind::ForbiddenImport,
        ),
        ("def f(n=0):\n    return f(n + 1)\n", ErrorKind::Recursion),
    ];
    let mut handles = Vec::new();
    for (src, kind) in cases {
        handles.push(tokio::spawn(async move { (run(src, "{}").await, kind) }));
        handles.push(tokio::spawn(async move {
            (
                run("def f():\n    return sum(range(1000))\n", "{}").await,
                ErrorKind::Host,
            )
        }));
    }
    for h in handles {
        let (result, kind) = h.await.unwrap();
        match (result, kind) {
            (Ok(out), ErrorKind::Host) => assert_eq!(out.json, "499500"),
            (Err(e), kind) => assert_eq!(e.kind(), kind, "{e:?}"),
            (Ok(out), kind) => panic!("expected {kind}, got {}", out.json),
        }
    }
    assert_healthy().await;
}
