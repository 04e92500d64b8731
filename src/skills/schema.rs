//! Input schemas: validating a call's input on the host before it reaches
//! wasm, and inferring a schema from examples when a skill has none.
//!
//! Schemas come from strangers, and validation runs on the host, so both
//! compiling and validating are bounded. Before a schema is compiled,
//! [`check_complexity`] measures it with every `$ref` expanded, the way a
//! validator walks it: nested `anyOf`s of references grow exponentially
//! from a kilobyte of text, and are refused here in bounded time. `pattern`
//! uses the `regex` crate, which matches in linear time (no backtracking,
//! so no catastrophic patterns; look-around is refused at compile time).
//! `format` is an annotation only, never evaluated. Only local references
//! (`#`, `#/...`) are resolved: nothing is fetched. About 400 lines, the
//! complexity bound's walk being most of them.

use serde_json::{Map, Value, json};

/// Largest schema, serialized, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 64 << 10;
/// Deepest nesting of a schema's JSON.
pub const MAX_SCHEMA_DEPTH: usize = 32;
/// Most `$ref`s in one schema document.
pub const MAX_SCHEMA_REFS: usize = 64;
/// Most schema nodes reachable with every `$ref` expanded (cycles cut):
/// what bounds the validator's memory and its work per input node.
pub const MAX_SCHEMA_NODES: usize = 5_000;
/// Compiled size cap of one `pattern`.
const MAX_PATTERN_BYTES: usize = 1 << 20;

/// A schema that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum SchemaError {
    /// Not valid JSON Schema.
    #[error("invalid JSON Schema: {0}")]
    Invalid(String),
    /// The input schema must describe an object (keyword arguments).
    #[error("the input schema must have \"type\": \"object\"")]
    NotObject,
    /// Over one of the complexity bounds.
    #[error("the schema is too complex: {0}")]
    TooComplex(String),
    /// Uses something the host does not resolve.
    #[error("unsupported in a skill schema: {0}")]
    Unsupported(String),
}

/// A compiled JSON Schema.
pub struct InputValidator(jsonschema::Validator);

impl InputValidator {
    /// Check `schema`'s complexity, then compile it.
    pub fn new(schema: &Value) -> Result<Self, SchemaError> {
        check_complexity(schema)?;
        jsonschema::options()
            .with_pattern_options(
                jsonschema::PatternOptions::regex()
                    .size_limit(MAX_PATTERN_BYTES)
                    .dfa_size_limit(MAX_PATTERN_BYTES),
            )
            .should_validate_formats(false)
            .build(schema)
            .map(Self)
            .map_err(|e| SchemaError::Invalid(e.to_string()))
    }

    /// Every way `value` breaks the schema, one line each, or `Ok`.
    /// Each line is cut to a few hundred bytes: validator messages quote
    /// the offending value, which may be megabytes.
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        if self.0.is_valid(value) {
            return Ok(());
        }
        let errors: Vec<String> = self
            .0
            .iter_errors(value)
            .take(5)
            .map(|e| {
                let at = e.instance_path.to_string();
                let line = if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                };
                crate::text::truncate(&line, crate::text::MAX_QUOTE_BYTES)
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Refuse a schema over any of the bounds above, in time proportional to
/// [`MAX_SCHEMA_NODES`] at most.
pub fn check_complexity(schema: &Value) -> Result<(), SchemaError> {
    let bytes = serde_json::to_string(schema).map_or(usize::MAX, |s| s.len());
    if bytes > MAX_SCHEMA_BYTES {
        return Err(SchemaError::TooComplex(format!(
            "{bytes} bytes, over the {MAX_SCHEMA_BYTES} byte limit"
        )));
    }
    let mut refs = 0;
    scan(schema, 0, true, &mut refs)?;
    let mut walk = Expansion {
        root: schema,
        nodes: 0,
        open: Vec::new(),
    };
    walk.visit(schema)
}

/// Depth, `$ref` count and the references the host cannot resolve, in the
/// document as written.
fn scan(v: &Value, depth: usize, root: bool, refs: &mut usize) -> Result<(), SchemaError> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(SchemaError::TooComplex(format!(
            "nested deeper than {MAX_SCHEMA_DEPTH} levels"
        )));
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("$ref" | "$dynamicRef" | "$recursiveRef", Value::String(r)) => {
                        *refs += 1;
                        if *refs > MAX_SCHEMA_REFS {
                            return Err(SchemaError::TooComplex(format!(
                                "more than {MAX_SCHEMA_REFS} references"
                            )));
                        }
                        if !(r == "#" || r.starts_with("#/")) {
                            return Err(SchemaError::Unsupported(format!(
                                "reference {r:?}: only local references (\"#/...\") are resolved"
                            )));
                        }
                    }
                    ("$id" | "id", Value::String(_)) if !root => {
                        return Err(SchemaError::Unsupported(
                            "a nested \"$id\" (one schema document per skill)".into(),
                        ));
                    }
                    _ => {}
                }
                // `properties` and friends hold names, not schemas, at the
                // next level; `$id` there is a property name, not a keyword.
                scan(child, depth + 1, false, refs)?;
            }
        }
        Value::Array(items) => {
            for child in items {
                scan(child, depth + 1, false, refs)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Counts nodes the way a validator reaches them: through every `$ref`,
/// re-expanded at each use, with reference cycles cut.
struct Expansion<'a> {
    root: &'a Value,
    nodes: usize,
    /// References being expanded (the current path), to cut cycles.
    open: Vec<&'a str>,
}

impl<'a> Expansion<'a> {
    fn visit(&mut self, v: &'a Value) -> Result<(), SchemaError> {
        self.nodes += 1;
        if self.nodes > MAX_SCHEMA_NODES {
            return Err(SchemaError::TooComplex(format!(
                "more than {MAX_SCHEMA_NODES} nodes with its references expanded"
            )));
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if let ("$ref" | "$dynamicRef" | "$recursiveRef", Value::String(r)) =
                        (k.as_str(), child)
                    {
                        self.follow(r)?;
                    } else {
                        self.visit(child)?;
                    }
                }
            }
            Value::Array(items) => {
                for child in items {
                    self.visit(child)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn follow(&mut self, reference: &'a str) -> Result<(), SchemaError> {
        if self.open.contains(&reference) {
            return Ok(());
        }
        let pointer = percent_decode(reference.trim_start_matches('#'));
        let target = self.root.pointer(&pointer).ok_or_else(|| {
            SchemaError::Invalid(format!("reference {reference:?} points at nothing"))
        })?;
        self.open.push(reference);
        let result = self.visit(target);
        self.open.pop();
        result
    }
}

/// `%XX` escapes in a URI fragment (JSON pointers in `$ref`s use them).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A schema for the inputs seen in `inputs`: each key's JSON type, and the
/// keys present in every input as `required`. With no inputs, any object.
pub fn infer_input_schema<'a>(inputs: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut properties: Map<String, Value> = Map::new();
    let mut required: Option<Vec<String>> = None;
    for input in inputs {
        let Some(obj) = input.as_object() else {
            continue;
        };
        for (key, value) in obj {
            let ty = json_type(value);
            match properties.get_mut(key) {
                None => {
                    properties.insert(key.clone(), json!({ "type": ty }));
                }
                Some(existing) => widen(existing, ty),
            }
        }
        let keys: Vec<String> = obj.keys().cloned().collect();
        required = Some(match required {
            None => keys,
            Some(r) => r.into_iter().filter(|k| obj.contains_key(k)).collect(),
        });
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if let Some(r) = required.filter(|r| !r.is_empty()) {
        schema["required"] = json!(r);
    }
    schema
}

/// The JSON Schema type of `v` (`integer` for whole numbers).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Merge a newly seen type into a property's schema.
fn widen(prop: &mut Value, ty: &str) {
    let current: Vec<String> = match &prop["type"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => return,
    };
    if current
        .iter()
        .any(|t| t == ty || (t == "number" && ty == "integer"))
    {
        return;
    }
    let mut types: Vec<String> = current
        .into_iter()
        .filter(|t| !(t == "integer" && ty == "number"))
        .collect();
    types.push(ty.to_owned());
    prop["type"] = if types.len() == 1 {
        json!(types[0])
    } else {
        json!(types)
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn infers_types_and_required_keys() {
        let a = json!({"text": "hi", "n": 1});
        let b = json!({"text": "yo", "n": 2.5, "flag": true});
        let s = infer_input_schema([&a, &b]);
        assert_eq!(s["properties"]["text"]["type"], "string");
        assert_eq!(s["properties"]["n"]["type"], "number");
        assert_eq!(s["properties"]["flag"]["type"], "boolean");
        assert_eq!(s["required"], json!(["n", "text"]));
    }

    #[test]
    fn validator_reports_where_input_is_wrong() {
        let v = InputValidator::new(
            &json!({"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}),
        )
        .unwrap();
        assert!(v.validate(&json!({"x": 3})).is_ok());
        let err = v.validate(&json!({"x": "three"})).unwrap_err();
        assert!(err.contains("/x"), "{err}");
        assert!(v.validate(&json!({})).unwrap_err().contains("required"));
    }

    /// Each level doubles the expanded size: `anyOf` of two references to
    /// the level below.
    fn ref_bomb(levels: usize) -> Value {
        let mut defs = Map::new();
        defs.insert("l0".into(), json!({"type": "string"}));
        for i in 1..=levels {
            let below = format!("#/$defs/l{}", i - 1);
            defs.insert(
                format!("l{i}"),
                json!({"anyOf": [{"$ref": below}, {"items": {"$ref": below}}]}),
            );
        }
        json!({"type": "object", "$defs": defs, "properties": {"x": {"$ref": format!("#/$defs/l{levels}")}}})
    }

    #[test]
    fn reference_bombs_are_refused_before_compiling() {
        assert!(InputValidator::new(&ref_bomb(4)).is_ok());
        let started = std::time::Instant::now();
        let err = InputValidator::new(&ref_bomb(30)).err().unwrap();
        assert!(matches!(err, SchemaError::TooComplex(_)), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }

    #[test]
    fn recursive_schemas_are_fine() {
        let tree = json!({"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}});
        let v = InputValidator::new(&tree).unwrap();
        assert!(v.validate(&json!({"children": [{"children": []}]})).is_ok());
    }

    #[test]
    fn deep_remote_and_dangling_references_are_refused() {
        let mut deep = json!({"type": "string"});
        for _ in 0..40 {
            deep = json!({"anyOf": [deep]});
        }
        assert!(matches!(
            InputValidator::new(&deep),
            Err(SchemaError::TooComplex(_))
        ));
        let remote = json!({"$ref": "https://example.com/s.json"});
        assert!(matches!(
            InputValidator::new(&remote),
            Err(SchemaError::Unsupported(_))
        ));
        let dangling = json!({"$ref": "#/$defs/nope"});
        assert!(matches!(
            InputValidator::new(&dangling),
            Err(SchemaError::Invalid(_))
        ));
    }

    #[test]
    fn patterns_match_in_linear_time() {
        let v = InputValidator::new(&json!({"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}})).unwrap();
        let evil = format!("{}!", "a".repeat(100_000));
        let started = std::time::Instant::now();
        assert!(v.validate(&json!({"s": evil})).is_err());
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        // Backreferences need backtracking: refused, not compiled.
        assert!(InputValidator::new(&json!({"pattern": "(a)\\1"})).is_err());
    }

    #[test]
    fn invalid_schema_is_rejected() {
        assert!(InputValidator::new(&json!({"type": 12})).is_err());
    }
}
