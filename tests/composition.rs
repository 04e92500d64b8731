//! Skills built on skills: a prerequisite pinned by hash is importable in
//! the sandbox as `skills.<name>`, a new version of it changes no dependant
//! until the dependant is republished, and the edges are in the store.

use autolearn::app::{AddError, App, DependencyError, RunError};
use autolearn::sandbox::{Dependency, Determinism, ErrorKind, ResourceLimits, SkillCode};
use autolearn::skills::{Example, Provenance, Requirement, SkillManifest};
use autolearn::store::SkillStore;
use serde_json::{Value, json};

use crate::util::sandbox;

const NORMALIZE: &str = "def normalize(email):\n    \"\"\"Lowercase and strip.\"\"\"\n    return email.strip().lower()\n";

fn dep(name: &str, source: &str, entry: &str) -> Dependency {
    Dependency {
        name: name.into(),
        source: source.into(),
        entry: entry.into(),
    }
}

async fn run_with_deps(source: &str, deps: &[Dependency]) -> Result<Value, ErrorKind> {
    let code = SkillCode {
        name: "dedupe",
        source,
        entry: "f",
        deps,
        runtime: autolearn::runtime::Runtime::Core,
    };
    sandbox()
        .run(
            code,
            r#"{"emails": [" A@x.com", "a@X.com ", "b@y.org"]}"#,
            &ResourceLimits::default(),
            Determinism::Seeded(0),
        )
        .await
        .map(|o| serde_json::from_str(&o.json).unwrap())
        .map_err(|e| e.kind())
}

#[tokio::test]
async fn a_prerequisite_is_importable_in_every_form() {
    let deps = [dep("crm_norm", NORMALIZE, "normalize")];
    let forms = [
        "from skills.crm_norm import normalize\ndef f(emails):\n    return sorted({normalize(e) for e in emails})\n",
        // The entry is also bound under the skill's own name.
        "from skills.crm_norm import crm_norm\ndef f(emails):\n    return sorted({crm_norm(e) for e in emails})\n",
        "from skills import crm_norm\ndef f(emails):\n    return sorted({crm_norm.normalize(e) for e in emails})\n",
        "import skills.crm_norm\ndef f(emails):\n    return sorted({skills.crm_norm.normalize(e) for e in emails})\n",
    ];
    for source in forms {
        assert_eq!(
            run_with_deps(source, &deps).await,
            Ok(json!(["a@x.com", "b@y.org"])),
            "{source}"
        );
    }
}

#[tokio::test]
async fn only_the_given_prerequisites_exist_and_their_own_prerequisites_load() {
    let uses = "from skills.crm_norm import normalize\ndef f(emails):\n    return [normalize(e) for e in emails]\n";
    assert_eq!(
        run_with_deps(uses, &[]).await,
        Err(ErrorKind::ForbiddenImport)
    );
    // A prerequisite that itself builds on another: the host passes the
    // closure, and the chain loads.
    let inner = "from skills.crm_norm import normalize\ndef unique(emails):\n    return sorted({normalize(e) for e in emails})\n";
    let chain = [
        dep("crm_unique", inner, "unique"),
        dep("crm_norm", NORMALIZE, "normalize"),
    ];
    let outer =
        "from skills.crm_unique import unique\ndef f(emails):\n    return len(unique(emails))\n";
    assert_eq!(run_with_deps(outer, &chain).await, Ok(json!(2)));
    // A prerequisite whose entry is missing fails the dependant clearly.
    let broken = [dep(
        "crm_norm",
        "def other(x):\n    return x\n",
        "normalize",
    )];
    assert_eq!(
        run_with_deps(uses, &broken).await,
        Err(ErrorKind::MissingEntry)
    );
}

#[tokio::test]
async fn the_static_check_allows_imports_of_prerequisites_only() {
    let source = "from skills.crm_norm import normalize\nfrom skills import crm_other\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return normalize(x)\n";
    let deps = [dep("crm_norm", NORMALIZE, "normalize")];
    let findings = sandbox()
        .check(
            SkillCode {
                name: "t",
                source,
                entry: "f",
                deps: &deps,
                runtime: autolearn::runtime::Runtime::Core,
            },
            &ResourceLimits::default(),
        )
        .await
        .unwrap();
    let s001: Vec<u32> = findings
        .iter()
        .filter(|f| f.code == "S001")
        .map(|f| f.line)
        .collect();
    assert_eq!(s001, vec![2], "{findings:?}");
}

fn normalizer(suffix: &str) -> SkillManifest {
    SkillManifest {
        runtime: Default::default(),
        memoize: false,
        requires: Vec::new(),
        name: "crm_norm".into(),
        description: "Normalize an email.".into(),
        input_schema: json!({"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}),
        output_schema: None,
        source: format!(
            "def normalize(email):\n    \"\"\"Normalize.\"\"\"\n    return email.strip().lower() + {suffix:?}\n"
        ),
        entry: "normalize".into(),
        examples: vec![Example {
            input: json!({"email": " A@x.com"}),
            output: json!(format!("a@x.com{suffix}")),
        }],
    }
}

fn deduper(pin: &autolearn::skills::SkillId, expect: &str) -> SkillManifest {
    SkillManifest {
        runtime: Default::default(),
        memoize: false,
        requires: vec![Requirement {
            name: "crm_norm".into(),
            id: pin.clone(),
        }],
        name: "crm_dedupe".into(),
        description: "Distinct normalized emails.".into(),
        input_schema: json!({"type": "object", "properties": {"emails": {"type": "array"}}, "required": ["emails"]}),
        output_schema: None,
        source: "from skills.crm_norm import normalize\n\ndef dedupe(emails):\n    \"\"\"Distinct, sorted.\"\"\"\n    return sorted({normalize(e) for e in emails})\n".into(),
        entry: "dedupe".into(),
        examples: vec![Example {
            input: json!({"emails": ["A@x.com", "a@x.com"]}),
            output: json!([expect]),
        }],
    }
}

async fn open_app(db: &std::path::Path) -> App {
    crate::util::app_for(SkillStore::open(db).await.unwrap())
}

async fn dedupe(app: &App) -> Result<Value, RunError> {
    app.calls()
        .run(
            "local",
            "crm_dedupe",
            &json!({"emails": ["B@y.org ", "b@y.org"]}),
            ResourceLimits::default(),
            Determinism::Live,
        )
        .await
        .map(|r| r.value)
}

#[tokio::test]
async fn a_dependant_runs_its_pinned_prerequisite_until_it_is_republished() {
    let dir = crate::util::data_dir();
    let app = open_app(&dir.path().join("autolearn.db")).await;
    // A second handle on the same file, to read what the app stored.
    let store = SkillStore::open(&dir.path().join("autolearn.db"))
        .await
        .unwrap();
    let (v1, _) = app
        .skills()
        .add("local", normalizer(""), Provenance::Authored)
        .await
        .unwrap();
    let v1 = v1.skill().id.clone();
    app.skills()
        .add("local", deduper(&v1, "a@x.com"), Provenance::Authored)
        .await
        .unwrap();
    assert_eq!(dedupe(&app).await.unwrap(), json!(["b@y.org"]));

    // A new version of the prerequisite changes what it answers...
    let (v2, _) = app
        .skills()
        .add("local", normalizer("!"), Provenance::Authored)
        .await
        .unwrap();
    let v2 = v2.skill().id.clone();
    assert_ne!(v1, v2);
    // ...but not the dependant, which pins v1.
    assert_eq!(dedupe(&app).await.unwrap(), json!(["b@y.org"]));
    assert_eq!(
        store.dependents("local", "crm_norm").await.unwrap(),
        vec![("crm_dedupe".to_owned(), v1.clone())]
    );

    // Republished against v2, it changes, and its id differs: the pin is
    // part of the hash.
    let (d2, _) = app
        .skills()
        .add("local", deduper(&v2, "a@x.com!"), Provenance::Authored)
        .await
        .unwrap();
    assert_ne!(d2.skill().id, deduper(&v1, "a@x.com!").id());
    assert_eq!(dedupe(&app).await.unwrap(), json!(["b@y.org!"]));
    assert_eq!(
        store.dependents("local", "crm_norm").await.unwrap(),
        vec![("crm_dedupe".to_owned(), v2)]
    );
}

#[tokio::test]
async fn a_pin_to_nothing_or_to_another_tenant_is_refused() {
    let dir = crate::util::data_dir();
    let app = open_app(&dir.path().join("autolearn.db")).await;
    let (theirs, _) = app
        .skills()
        .add("other", normalizer(""), Provenance::Authored)
        .await
        .unwrap();
    // Another tenant's skill is not ours to build on, even by its hash.
    let err = app
        .skills()
        .add(
            "local",
            deduper(&theirs.skill().id, "a@x.com"),
            Provenance::Authored,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AddError::Dependency(DependencyError::Missing { .. })),
        "{err}"
    );
    // A pin to a version of another name is refused too.
    let (word, _) = app
        .skills()
        .add(
            "local",
            SkillManifest {
                runtime: Default::default(),
                name: "other_name".into(),
                ..normalizer("")
            },
            Provenance::Authored,
        )
        .await
        .unwrap();
    let err = app
        .skills()
        .add(
            "local",
            deduper(&word.skill().id, "a@x.com"),
            Provenance::Authored,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AddError::Dependency(_)), "{err}");
}
