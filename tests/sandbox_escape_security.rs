//! Hostile skills, written the way an attacker would probe: straight
//! imports first, then the classic escapes around Python-level guards
//! (`__subclasses__` walks to `os` globals, re-loading builtin modules), so
//! that each case reaches the WASI layer itself and shows it holds.
//! Every case asserts the exact error kind and that the next call works.

use autolearn::sandbox::ErrorKind;

use crate::util::On;

crate::on_both_runtimes!(
    reading_a_host_file_finds_no_filesystem,
    reading_through_io_open_finds_no_filesystem,
    writing_a_file_leaves_nothing_on_the_host,
    listing_the_root_through_real_os_fails,
    relative_paths_and_cwd_are_empty_too,
    the_environment_is_empty,
    import_socket_is_refused,
    a_raw_socket_via_the_builtin_module_is_denied_by_wasi,
    dns_lookups_are_denied,
    import_subprocess_is_refused,
    spawning_through_real_os_is_impossible,
    import_ctypes_is_refused,
    dunder_import_is_guarded_too,
    importlib_is_refused,
    a_missing_third_party_module_is_reported_as_such,
    sys_exit_is_an_exit_error,
    os_exit_through_real_os_is_an_exit_error_not_a_host_exit,
    state_set_in_one_call_is_gone_in_the_next,
    builtins_patched_in_one_call_are_clean_in_the_next,
    a_lone_surrogate_in_the_result_is_bad_output_not_a_crash,
    a_lone_surrogate_in_an_exception_message_survives,
    catching_base_exception_cannot_swallow_the_fuel_limit,
);

/// Reach the real `os` module's globals around the import guard.
pub(crate) const OS_GLOBALS: &str = "
def _os():
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == '_wrap_close':
            return c.__init__.__globals__
    raise RuntimeError('no os')
";

/// Load a builtin C module around the import guard (by spec: Python 3.15
/// has no `load_module`).
pub(crate) const LOAD_BUILTIN: &str = "
def _load(name):
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == 'BuiltinImporter':
            spec = c.find_spec(name)
            if spec is None:
                raise ModuleNotFoundError(name)
            m = c.create_module(spec)
            c.exec_module(m)
            return m
    raise RuntimeError('no importer')
";

pub(crate) fn with(prelude: &str, body: &str) -> String {
    format!("{prelude}\ndef f():\n{body}\n")
}

async fn reading_a_host_file_finds_no_filesystem(on: On) {
    let e = on
        .expect_kind(
            "def f():\n    return open('/etc/passwd').read()\n",
            "{}",
            ErrorKind::Exception,
        )
        .await;
    assert_eq!(e.to_json()["error_type"], "FileNotFoundError");
}

async fn reading_through_io_open_finds_no_filesystem(on: On) {
    let e = on
        .expect_kind(
            "import io\ndef f():\n    return io.open('/etc/hostname', 'rb').read().decode()\n",
            "{}",
            ErrorKind::Exception,
        )
        .await;
    assert_eq!(e.to_json()["error_type"], "FileNotFoundError");
}

async fn writing_a_file_leaves_nothing_on_the_host(on: On) {
    let target = std::env::temp_dir().join("autolearn-escape-probe.txt");
    let _ = std::fs::remove_file(&target);
    let src = format!(
        "def f():\n    with open({:?}, 'w') as fh:\n        fh.write('pwned')\n    return 'written'\n",
        target.display().to_string()
    );
    on.expect_kind(&src, "{}", ErrorKind::Exception).await;
    assert!(!target.exists(), "the skill wrote to the host filesystem");
}

async fn listing_the_root_through_real_os_fails(on: On) {
    let src = with(OS_GLOBALS, "    return _os()['listdir']('/')");
    let e = on.expect_kind(&src, "{}", ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "FileNotFoundError");
}

async fn relative_paths_and_cwd_are_empty_too(on: On) {
    let src = with(OS_GLOBALS, "    return _os()['listdir']('.')");
    on.expect_kind(&src, "{}", ErrorKind::Exception).await;
}

async fn the_environment_is_empty(on: On) {
    let src = with(OS_GLOBALS, "    return dict(_os()['environ'])");
    let out = on.run(&src, "{}").await.unwrap();
    assert_eq!(out.json, "{}", "host environment leaked into the sandbox");
}

async fn import_socket_is_refused(on: On) {
    let e = on
        .expect_kind(
            "import socket\ndef f():\n    return 1\n",
            "{}",
            ErrorKind::ForbiddenImport,
        )
        .await;
    assert!(e.to_string().contains("socket"));
}

async fn a_raw_socket_via_the_builtin_module_is_denied_by_wasi(on: On) {
    // `_socket` is compiled into CPython; only WASI stands in the way.
    let src = with(
        LOAD_BUILTIN,
        "    s = _load('_socket')\n    k = s.socket(s.AF_INET, s.SOCK_STREAM)\n    k.connect(('127.0.0.1', 22))\n    return 'connected'",
    );
    let e = on.expect_kind(&src, "{}", ErrorKind::Exception).await;
    // WASI preview 2 (core) has sockets and refuses them; preview 1 (data)
    // has no way to make one at all.
    let refused = if on.is_data() {
        "OSError"
    } else {
        "PermissionError"
    };
    assert_eq!(e.to_json()["error_type"], refused, "{e:?}");
}

async fn dns_lookups_are_denied(on: On) {
    let src = with(
        LOAD_BUILTIN,
        "    s = _load('_socket')\n    return s.getaddrinfo('example.com', 80)",
    );
    on.expect_kind(&src, "{}", ErrorKind::Exception).await;
}

async fn import_subprocess_is_refused(on: On) {
    on.expect_kind(
        "import subprocess\ndef f():\n    return subprocess.run(['id']).returncode\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
}

async fn spawning_through_real_os_is_impossible(on: On) {
    let src = with(
        OS_GLOBALS,
        "    g = _os()\n    return g['system']('id') if 'system' in g else g['posix_spawn']",
    );
    let e = on.expect_kind(&src, "{}", ErrorKind::Exception).await;
    assert_eq!(e.to_json()["error_type"], "KeyError");
}

async fn import_ctypes_is_refused(on: On) {
    on.expect_kind(
        "import ctypes\ndef f():\n    return 1\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
}

async fn dunder_import_is_guarded_too(on: On) {
    on.expect_kind(
        "def f():\n    return __import__('os').getcwd()\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
}

async fn importlib_is_refused(on: On) {
    on.expect_kind(
        "import importlib\ndef f():\n    return 1\n",
        "{}",
        ErrorKind::ForbiddenImport,
    )
    .await;
}

async fn a_missing_third_party_module_is_reported_as_such(on: On) {
    // numpy is the data runtime's own; neither has requests.
    let module = if on.is_data() { "requests" } else { "numpy" };
    let e = on
        .expect_kind(
            &format!("import {module}\ndef f():\n    return 1\n"),
            "{}",
            ErrorKind::ForbiddenImport,
        )
        .await;
    assert!(e.to_string().contains(module));
}

async fn sys_exit_is_an_exit_error(on: On) {
    let e = on
        .expect_kind("def f():\n    raise SystemExit(3)\n", "{}", ErrorKind::Exit)
        .await;
    assert!(e.to_string().contains('3'));
}

async fn os_exit_through_real_os_is_an_exit_error_not_a_host_exit(on: On) {
    let src = with(OS_GLOBALS, "    _os()['_exit'](7)");
    on.expect_kind(&src, "{}", ErrorKind::Exit).await;
}

async fn state_set_in_one_call_is_gone_in_the_next(on: On) {
    // Poisoning `json.dumps` must not even forge this call's own output.
    let poison = "import json\ndef f():\n    json.LEAK = 'secret'\n    json.dumps = lambda *a, **k: 'poisoned'\n    return 'set'\n";
    assert_eq!(on.run(poison, "{}").await.unwrap().json, "\"set\"");
    let probe = "import json\ndef f():\n    return [hasattr(json, 'LEAK'), json.dumps([1])]\n";
    assert_eq!(on.run(probe, "{}").await.unwrap().json, "[false, \"[1]\"]");
}

async fn builtins_patched_in_one_call_are_clean_in_the_next(on: On) {
    // The real builtins, not the skill's copy.
    let src = with(
        OS_GLOBALS,
        "    b = _os()['__builtins__']\n    b['len'] = lambda x: 999\n    return b['len']([1])",
    );
    assert_eq!(on.run(&src, "{}").await.unwrap().json, "999");
    let probe = with(
        OS_GLOBALS,
        "    return [len([1, 2]), _os()['__builtins__']['len']([1, 2])]",
    );
    assert_eq!(on.run(&probe, "{}").await.unwrap().json, "[2, 2]");
}

async fn a_lone_surrogate_in_the_result_is_bad_output_not_a_crash(on: On) {
    on.expect_kind(
        "def f():\n    return '\\ud800'\n",
        "{}",
        ErrorKind::BadOutput,
    )
    .await;
}

async fn a_lone_surrogate_in_an_exception_message_survives(on: On) {
    let e = on
        .expect_kind(
            "def f():\n    raise ValueError('bad \\udc80 text')\n",
            "{}",
            ErrorKind::Exception,
        )
        .await;
    assert!(e.to_string().contains("bad"));
}

async fn catching_base_exception_cannot_swallow_the_fuel_limit(on: On) {
    let src = "def f():\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n";
    on.expect_kind(src, "{}", ErrorKind::OutOfFuel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_calls_running_at_once_each_get_their_own_error() {
    hostile_calls_at_once(On(autolearn::runtime::Runtime::Core)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_data_calls_running_at_once_each_get_their_own_error() {
    hostile_calls_at_once(On(autolearn::runtime::Runtime::Data)).await;
}

async fn hostile_calls_at_once(on: On) {
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
        handles.push(tokio::spawn(async move { (on.run(src, "{}").await, kind) }));
        handles.push(tokio::spawn(async move {
            (
                on.run("def f():\n    return sum(range(1000))\n", "{}")
                    .await,
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
    on.assert_healthy().await;
}
