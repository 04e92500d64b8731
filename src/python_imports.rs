//! The imports model-written Python forgot.
//!
//! Small models use `re.sub(...)`, `Counter(...)` or `datetime.strptime(...)`
//! without importing them, and a `NameError` then throws away a program
//! that is otherwise right. Adding the import is mechanical, so both the
//! generation pipeline and the agent add it instead of asking the model
//! again.

/// Standard modules a small model uses without importing them.
const MODULES: [&str; 20] = [
    "re",
    "math",
    "json",
    "statistics",
    "datetime",
    "decimal",
    "fractions",
    "collections",
    "itertools",
    "functools",
    "heapq",
    "bisect",
    "string",
    "textwrap",
    "unicodedata",
    "csv",
    "io",
    "hashlib",
    "base64",
    "difflib",
];
/// Methods of the `datetime` class a model calls as `datetime.NAME(...)`.
const DATETIME_CLASS_METHODS: [&str; 7] = [
    "strptime",
    "now",
    "today",
    "fromisoformat",
    "fromtimestamp",
    "utcnow",
    "combine",
];
/// Names a small model uses without importing them, and their module.
const NAMES: [(&str, &str); 8] = [
    ("Counter", "collections"),
    ("defaultdict", "collections"),
    ("OrderedDict", "collections"),
    ("deque", "collections"),
    ("Decimal", "decimal"),
    ("Fraction", "fractions"),
    ("timedelta", "datetime"),
    ("reduce", "functools"),
];

/// Conventional aliases a model uses without importing them (on the data
/// runtime; on core the import fails as clearly as the name would).
const ALIASES: [(&str, &str); 2] = [("pd", "pandas"), ("np", "numpy")];

/// `code` with the imports it forgot: a module used as `re.sub(...)`, or
/// a name such as `Counter(...)`, that nothing imports or defines. The
/// commonest way a small model's otherwise right function fails.
pub fn with_imports(code: &str) -> String {
    let used = |name: &str, after: char| {
        code.match_indices(name).any(|(i, _)| {
            let before = code[..i].chars().next_back();
            let next = code[i + name.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && next == Some(after)
        })
    };
    let bound = |name: &str| {
        code.lines().any(|l| {
            let l = l.trim_start();
            (l.starts_with("import ") || l.starts_with("from "))
                && l.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w == name)
                || l.starts_with(&format!("def {name}("))
                || l.starts_with(&format!("class {name}"))
                || l.starts_with(&format!("{name} ="))
        })
    };
    let mut header = String::new();
    // `datetime.strptime(...)` means the class, not the module: importing
    // the module would fail the call.
    let class_datetime = !bound("datetime")
        && DATETIME_CLASS_METHODS
            .iter()
            .any(|m| code.contains(&format!("datetime.{m}(")))
        && !["datetime.datetime", "datetime.date(", "datetime.timedelta"]
            .iter()
            .any(|m| code.contains(m));
    if class_datetime {
        header.push_str("from datetime import datetime\n");
    }
    for m in MODULES {
        if used(m, '.') && !bound(m) && !(class_datetime && m == "datetime") {
            header.push_str(&format!("import {m}\n"));
        }
    }
    for (name, module) in NAMES {
        if (used(name, '(') || used(name, '.')) && !bound(name) {
            header.push_str(&format!("from {module} import {name}\n"));
        }
    }
    for (alias, module) in ALIASES {
        if used(alias, '.') && !bound(alias) {
            header.push_str(&format!("import {module} as {alias}\n"));
        }
    }
    if header.is_empty() {
        code.to_owned()
    } else {
        header + code
    }
}

#[cfg(test)]
mod tests {
    use super::with_imports;

    #[test]
    fn forgotten_imports_are_added_and_present_ones_left() {
        let code =
            "def f(s):\n    c = Counter(s.split())\n    return re.sub(r'a', 'b', s), math.pi\n";
        assert_eq!(
            with_imports(code),
            format!("import re\nimport math\nfrom collections import Counter\n{code}")
        );
        let fine = "import re\nfrom collections import Counter\n\ndef f(s):\n    return re.sub('a', 'b', s), Counter(s)\n";
        assert_eq!(with_imports(fine), fine);
        // A method or attribute of the same name is not a module.
        let method = "def f(s):\n    return s.re.x, obj.math.y, my_json.z\n";
        assert_eq!(with_imports(method), method);
    }

    #[test]
    fn datetime_used_as_the_class_imports_the_class() {
        let code = "d = datetime.strptime(s, '%Y-%m-%d')\n";
        assert_eq!(
            with_imports(code),
            format!("from datetime import datetime\n{code}")
        );
        let module = "d = datetime.date(2026, 1, 1)\n";
        assert_eq!(with_imports(module), format!("import datetime\n{module}"));
    }

    #[test]
    fn the_conventional_pandas_and_numpy_aliases_are_imported() {
        let code = "df = pd.DataFrame(rows)\nnp.mean(df['x'])\n";
        assert_eq!(
            with_imports(code),
            format!("import pandas as pd\nimport numpy as np\n{code}")
        );
        let fine = "import pandas as pd\npd.DataFrame(rows)\n";
        assert_eq!(with_imports(fine), fine);
        // A column or attribute named pd is not the alias.
        let attribute = "x = row.pd.y\n";
        assert_eq!(with_imports(attribute), attribute);
    }
}
