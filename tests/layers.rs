//! The layout's rules, checked from the source: every module imports only
//! modules on a lower floor (front ends → app → learn/store →
//! sandbox/skills/llm), and no two files of one module import each other
//! in a circle. A new module, or an import that runs back up, fails here
//! with the file and the line.
//!
//! It reads `crate::` and `super::` paths as text, outside comments and
//! `#[cfg(test)]` code; what it misses, rustc's privacy does not excuse.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every top-level module and its floor; a module may import only
/// modules on lower floors.
const FLOORS: &[(&str, u8)] = &[
    // Helpers with no knowledge of skills.
    ("text", 0),
    ("lru", 0),
    ("slots", 0),
    ("python_imports", 0),
    ("python_methods", 0),
    // The error taxonomy; which interpreter code runs on.
    ("fault", 1),
    ("runtime", 1),
    // Pinned wheels from PyPI (the model, the data runtime).
    ("pip", 1),
    // The pure model, the sandbox, the model clients.
    ("skills", 2),
    ("llm", 2),
    ("sandbox", 2),
    ("trace", 2),
    ("limits", 3),
    ("quota", 4),
    ("search", 4),
    // What persists, what verifies, and the agent (an MCP client with a
    // model: it knows neither the app nor the server).
    ("store", 5),
    ("metrics", 5),
    ("learn", 5),
    ("agent", 5),
    ("config", 6),
    // Long work clients poll (the store's rows, run here).
    ("tasks", 6),
    // The core.
    ("app", 7),
    // Built on the core.
    ("practice", 8),
    // Front ends.
    ("mcp", 9),
    ("api", 10),
    ("bench", 11),
    ("cli", 12),
];

struct Source {
    /// `src/app/run.rs` is `["app", "run"]`; `src/app/mod.rs` is `["app"]`.
    module: Vec<String>,
    path: PathBuf,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap();
                let mut module: Vec<String> = rel
                    .with_extension("")
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|m| m == "mod") {
                    module.pop();
                }
                if matches!(module.as_slice(), [m] if m == "lib" || m == "main") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                out.push(Source { module, path, text });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The code of a file: no comments, nothing from `#[cfg(test)]` on.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.split(" //").next().unwrap_or(l)))
}

/// The paths a line names after `prefix` (`crate::` or `super::`), with
/// `{a::X, b}` groups expanded one level.
fn paths_after(line: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.push(segments(item.trim()));
            }
        } else {
            out.push(segments(rest));
        }
    }
    out.into_iter().filter(|p| !p.is_empty()).collect()
}

fn segments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in text.split("::") {
        let ident: String = part
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() || ident.chars().next().is_some_and(char::is_uppercase) {
            break;
        }
        let whole = part == ident;
        out.push(ident);
        if !whole {
            break;
        }
    }
    out
}

#[test]
fn modules_import_only_lower_floors() {
    let floors: BTreeMap<&str, u8> = FLOORS.iter().copied().collect();
    let mut wrong = Vec::new();
    for src in sources() {
        let top = src.module[0].as_str();
        let Some(&floor) = floors.get(top) else {
            wrong.push(format!(
                "src/{top}: a module FLOORS in tests/layers.rs does not place"
            ));
            continue;
        };
        for (n, line) in code_lines(&src.text) {
            for path in paths_after(line, "crate::") {
                let to = path[0].as_str();
                if to == top {
                    continue;
                }
                match floors.get(to) {
                    Some(&f) if f < floor => {}
                    Some(&f) => wrong.push(format!(
                        "{}:{n}: {top} (floor {floor}) imports {to} (floor {f})",
                        src.path.display()
                    )),
                    None => {}
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run back up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn files_of_a_module_import_no_circle() {
    let all = sources();
    let known: BTreeSet<Vec<String>> = all.iter().map(|s| s.module.clone()).collect();
    // The file a path names: the longest known module it starts with.
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|m| known.contains(m))
    };
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for src in &all {
        let parent = &src.module[..src.module.len() - 1];
        for (_, line) in code_lines(&src.text) {
            let mut targets: Vec<Vec<String>> = paths_after(line, "crate::");
            for p in paths_after(line, "super::") {
                let mut full = parent.to_vec();
                full.extend(p);
                targets.push(full);
            }
            // `child::X` in the file that declares `mod child;`.
            for child in known
                .iter()
                .filter(|m| m.len() == src.module.len() + 1 && m.starts_with(&src.module))
            {
                let name = &child[child.len() - 1];
                for p in paths_after(line, &format!("{name}::")) {
                    let mut full = child.clone();
                    full.extend(p);
                    targets.push(full);
                }
            }
            for t in targets {
                let Some(to) = resolve(&t) else { continue };
                // A child reading its parent (`super::App`) is how Rust
                // modules are made, not a tie; a parent using its child
                // (`pub use child::X`) is one, so a circle through a
                // `mod.rs` is found.
                if to == src.module || src.module.starts_with(&to) {
                    continue;
                }
                edges.entry(src.module.clone()).or_default().insert(to);
            }
        }
    }
    // Depth-first search for a circle.
    fn visit(
        at: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(i) = stack.iter().position(|m| m == at) {
            return Some(stack[i..].to_vec());
        }
        if done.contains(at) {
            return None;
        }
        stack.push(at.clone());
        for next in edges.get(at).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, stack, done) {
                return Some(circle);
            }
        }
        stack.pop();
        done.insert(at.clone());
        None
    }
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        if let Some(circle) = visit(start, &edges, &mut Vec::new(), &mut done) {
            let names: Vec<String> = circle.iter().map(|m| m.join("::")).collect();
            panic!(
                "files import each other in a circle: {}",
                names.join(" -> ")
            );
        }
    }
}

#[test]
fn the_check_reads_paths_as_written() {
    assert_eq!(
        paths_after("use crate::{app::App, store::StoreError};", "crate::"),
        [vec!["app".to_owned()], vec!["store".to_owned()]]
    );
    assert_eq!(
        paths_after("let x = crate::text::truncate(s, 3);", "crate::"),
        [vec!["text".to_owned(), "truncate".to_owned()]]
    );
    assert_eq!(
        paths_after("use super::events::{Event, Events};", "super::"),
        [vec!["events".to_owned()]]
    );
}
