//! When two results are the same. Python, which computes every result,
//! has one number tower (`1 == 1.0`), and JSON has one number type; only
//! serde_json tells `1` from `1.0`. An example that says `60.0` is met by
//! a function that returns `60`, exactly as the user's own `assert` would.

use serde_json::{Number, Value};

/// Whether `a` and `b` are equal as Python compares the decoded values:
/// numbers by exact value (`1 == 1.0`, but `2**53 + 1 != 2.0**53`),
/// everything else structurally. Booleans are not numbers here: JSON keeps
/// them apart, and so do the schemas.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => same_number(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

fn same_number(x: &Number, y: &Number) -> bool {
    match (exact_int(x), exact_int(y)) {
        (Some(p), Some(q)) => p == q,
        // A float that is not a whole number equals only the same float.
        (None, None) => x.as_f64() == y.as_f64(),
        _ => false,
    }
}

/// The number as an exact integer, if it is one (a whole float included).
fn exact_int(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(i128::from(u));
    }
    let f = n.as_f64()?;
    // Every float at or beyond 2^63 is a whole number, but i128 holds it
    // only up to 2^127; larger ones compare as floats.
    (f.fract() == 0.0 && f.abs() < 1.7e38).then_some(f as i128)
}

#[cfg(test)]
mod tests {
    use super::same_value;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value_as_in_python() {
        assert!(same_value(&json!(60), &json!(60.0)));
        assert!(same_value(
            &json!({"a": [0, 1.5]}),
            &json!({"a": [0.0, 1.5]})
        ));
        assert!(same_value(&json!(-3), &json!(-3.0)));
        assert!(!same_value(&json!(1), &json!(1.5)));
        assert!(!same_value(&json!(0.1), &json!(0.30000000000000004)));
        // 2**53 + 1 is not the float 2.0**53, though both round to it.
        assert!(!same_value(
            &json!(9_007_199_254_740_993_i64),
            &json!(9_007_199_254_740_992.0)
        ));
        assert!(same_value(&json!(u64::MAX), &json!(u64::MAX)));
    }

    #[test]
    fn other_types_stay_apart() {
        assert!(!same_value(&json!(true), &json!(1)));
        assert!(!same_value(&json!("1"), &json!(1)));
        assert!(!same_value(&json!(null), &json!(0)));
        assert!(!same_value(&json!([1]), &json!([1, 1])));
        assert!(!same_value(&json!({"a": 1}), &json!({"a": 1, "b": 1})));
        assert!(!same_value(&json!({"a": 1}), &json!({"b": 1})));
    }
}
