//! Run one Python function in the sandbox and print its JSON result.
//!
//! Run with: `make artifact && cargo run --example run_skill -- 'def f(x): return x * 2' f '{"x": 21}'`

use autolearn::sandbox::{Determinism, ResourceLimits, Sandbox, SandboxConfig, SkillCode};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let source = args
        .next()
        .unwrap_or_else(|| "def f(x):\n    return x * 2\n".into());
    let entry = args.next().unwrap_or_else(|| "f".into());
    let input = args.next().unwrap_or_else(|| r#"{"x": 21}"#.into());

    let root = env!("CARGO_MANIFEST_DIR");
    let config = SandboxConfig::new(
        format!("{root}/target/python-wasm/runtime.wasm"),
        format!("{root}/target/python-wasm/cache"),
    );
    let sandbox = Sandbox::new(&config)?;
    eprintln!("artifact loaded in {:?}", sandbox.artifact().load_time);
    let code = SkillCode {
        deps: &[],
        name: "example",
        source: &source,
        entry: &entry,
        runtime: autolearn::runtime::Runtime::Core,
    };
    match sandbox
        .run(code, &input, &ResourceLimits::default(), Determinism::Live)
        .await
    {
        Ok(out) => println!("{} (fuel {}, {:?})", out.json, out.fuel_used, out.elapsed),
        Err(e) => println!("{}", e.to_json()),
    }
    Ok(())
}
