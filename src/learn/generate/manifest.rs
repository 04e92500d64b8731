//! What a generated skill's manifest declares beyond its code: the result
//! type, and the building blocks it pins.

use serde_json::{Value, json};

use super::BuildingBlock;
use crate::learn::agree::Outcome;
use crate::skills::Requirement;

/// The result type, declared only when the spec named one and every value
/// the winner gave (`winner[i]` on input `i`) has it.
pub(super) fn output_schema(ty: Option<&str>, winner: &[Outcome]) -> Option<Value> {
    ty.filter(|ty| {
        winner.iter().all(|o| match o {
            Outcome::Value(v) => json_type_is(v, ty),
            Outcome::Error(_) => true,
        })
    })
    .map(|ty| json!({"type": ty}))
}

/// The building blocks `source` imports (`skills.<name>`, or `<name>` in
/// a `from skills import` line): a skill pins what it uses, nothing more.
pub(super) fn pins(blocks: &[BuildingBlock], source: &str) -> Vec<Requirement> {
    blocks
        .iter()
        .filter(|b| {
            let name = &b.requirement.name;
            source.lines().any(|line| {
                let line = line.trim_start();
                line.contains(&format!("skills.{name}"))
                    || (line.starts_with("from skills import")
                        && line
                            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .any(|w| w == name))
            })
        })
        .map(|b| b.requirement.clone())
        .collect()
}

fn json_type_is(v: &Value, ty: &str) -> bool {
    match ty {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}
