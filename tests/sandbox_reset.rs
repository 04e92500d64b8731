//! A fresh instance per call means a pristine memory per call, however the
//! previous call on the same pool slot scribbled over it. The reset is the
//! vendored wasmtime's `PAGEMAP_SCAN` path where the kernel has it, which
//! resets only the pages a call wrote: this checks that it misses none,
//! with writes scattered over the whole interpreter heap (far more separate
//! regions than one scan returns).

use autolearn::sandbox::{Determinism, ResourceLimits, Sandbox, SandboxConfig, SkillCode};

use crate::util::{On, artifact, cache_dir};

/// The snapshot's stdlib modules, imported and listed.
macro_rules! modules {
    () => {
        r#"
import base64, bisect, calendar, collections, colorsys, copy, csv, dataclasses
import datetime, decimal, difflib, enum, fractions, functools, hashlib, heapq
import html, io, ipaddress, itertools, json, math, numbers, operator, pprint
import random, re, statistics, string, struct, textwrap, time, typing
import unicodedata, zlib

MODULES = [base64, bisect, calendar, collections, colorsys, copy, csv,
    dataclasses, datetime, decimal, difflib, enum, fractions, functools, hashlib,
    heapq, html, io, ipaddress, itertools, json, math, numbers, operator, pprint,
    random, re, statistics, string, struct, textwrap, time, typing, unicodedata,
    zlib]

"#
    };
}

/// Marks every function and class of every stdlib module the snapshot
/// holds (objects spread over the whole heap), fills fresh memory, and
/// says how many objects it marked.
const SCRIBBLE: &str = concat!(
    modules!(),
    r#"
def f(seed):
    marked = 0
    for m in MODULES:
        m.scribbled = seed
        for name in list(vars(m)):
            obj = getattr(m, name)
            if isinstance(obj, type(f)) or (isinstance(obj, type) and obj.__module__ == m.__name__):
                try:
                    obj.scribbled = seed
                    marked += 1
                except (AttributeError, TypeError):
                    pass
    junk = [bytearray([seed % 256]) * 4096 for _ in range(4096)]
    return {"marked": marked, "junk": len(junk)}
"#
);

/// Finds any mark a previous call left.
const PROBE: &str = concat!(
    modules!(),
    r#"
def f():
    left = []
    for m in MODULES:
        if hasattr(m, "scribbled"):
            left.append(m.__name__)
        for name in list(vars(m)):
            if hasattr(getattr(m, name), "scribbled"):
                left.append(m.__name__ + "." + name)
    return left
"#
);

crate::on_both_runtimes!(a_call_finds_no_trace_of_the_previous_one_on_the_same_slot);

/// On the data runtime, numpy's and pandas' modules are scribbled too:
/// their objects sit all over a heap of a hundred megabytes.
const DATA_MODULES: &str = "import numpy, pandas, pandas.core.frame, pandas.core.groupby.groupby\n\
MODULES += [numpy, pandas, pandas.core.frame, pandas.core.groupby.groupby]\n";

async fn a_call_finds_no_trace_of_the_previous_one_on_the_same_slot(on: On) {
    if on.is_data() {
        crate::util::data_ready();
    }
    let extra = if on.is_data() { DATA_MODULES } else { "" };
    let (scribble, probe) = (
        SCRIBBLE.replacen("\ndef f(", &format!("\n{extra}def f("), 1),
        PROBE.replacen("\ndef f(", &format!("\n{extra}def f("), 1),
    );
    // One slot, so every call reuses the memory the one before it dirtied.
    let sandbox = Sandbox::new(&SandboxConfig {
        max_concurrency: 1,
        ..SandboxConfig::new(artifact(), cache_dir())
    })
    .unwrap();
    let limits = ResourceLimits::default();
    for seed in 1..=3 {
        let out = sandbox
            .run(
                SkillCode::new("scribble", &scribble, "f").on(on.0),
                &format!(r#"{{"seed": {seed}}}"#),
                &limits,
                Determinism::Live,
            )
            .await
            .unwrap();
        let report: serde_json::Value = serde_json::from_str(&out.json).unwrap();
        assert!(
            report["marked"].as_u64().unwrap() > 500,
            "the scribble should reach objects all over the heap: {report}"
        );
        let probe = sandbox
            .run(
                SkillCode::new("probe", &probe, "f").on(on.0),
                "{}",
                &limits,
                Determinism::Live,
            )
            .await
            .unwrap();
        assert_eq!(probe.json, "[]", "call {seed} left state behind");
    }
}
