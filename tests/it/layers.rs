//! The crate's shape, checked: data walks one way. Reads `src/**/*.rs` for
//! `crate::` paths (in `use` lines, brace groups and inline paths) and fails on an
//! upward import or a cycle between top-level modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which top-level modules each may never import.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "roster",
        &[
            "store", "delivery", "service", "http", "commands", "app", "planner",
        ],
    ),
    (
        "calendar",
        &[
            "store", "delivery", "service", "http", "commands", "app", "planner", "rules",
            "roster", "ledger",
        ],
    ),
    (
        "rules",
        &[
            "store", "delivery", "service", "http", "commands", "app", "planner",
        ],
    ),
    (
        "ledger",
        &["store", "delivery", "service", "http", "commands", "app"],
    ),
    (
        "planner",
        &["store", "delivery", "service", "http", "commands", "app"],
    ),
    (
        "links",
        &[
            "store", "delivery", "service", "http", "commands", "app", "planner", "rules",
            "roster", "ledger", "config",
        ],
    ),
    ("store", &["delivery", "service", "http", "commands", "app"]),
    (
        "config",
        &["delivery", "service", "http", "commands", "app", "store"],
    ),
    ("delivery", &["service", "http", "commands", "app"]),
    ("service", &["http", "commands", "app"]),
    ("http", &["commands", "app"]),
    ("app", &["commands"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to: `src/store/outbox.rs` → `store`,
/// `src/app.rs` → `app`.
fn owner(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Top-level modules named by `crate::…` in `text`, including each item of a
/// `crate::{a, b::c}` group. Line comments are skipped.
fn imports(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: split at commas outside nested braces.
            let mut depth = 0;
            let mut start = 0;
            for (j, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(head(&group[start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(head(&group[start..j]));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(head(rest));
        }
    }
    out.remove("");
    out
}

fn head(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn graph() -> BTreeMap<String, BTreeSet<(String, String)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for f in files {
        let from = owner(&src, &f);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let rel = f.strip_prefix(&src).unwrap().display().to_string();
        for to in imports(&text) {
            if to != from {
                g.entry(from.clone()).or_default().insert((to, rel.clone()));
            }
        }
    }
    g
}

#[test]
fn the_parser_sees_groups_and_inline_paths() {
    let found = imports(
        "use crate::{roster::{Person, Staff}, store::Store};\n\
         // use crate::app;\n\
         fn f() { crate::mask::phone(\"1\"); }",
    );
    let want: BTreeSet<String> = ["roster", "store", "mask"].map(String::from).into();
    assert_eq!(found, want);
}

#[test]
fn no_module_imports_a_higher_one() {
    let g = graph();
    let mut wrong = Vec::new();
    for (from, banned) in FORBIDDEN {
        for (to, file) in g.get(*from).into_iter().flatten() {
            if banned.contains(&to.as_str()) {
                wrong.push(format!("src/{file}: {from} imports {to}"));
            }
        }
    }
    for (from, edges) in &g {
        for (to, file) in edges {
            if to == "commands" {
                wrong.push(format!(
                    "src/{file}: {from} imports commands (only main.rs may)"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}

#[test]
fn no_cycle_between_top_level_modules() {
    let g = graph();
    let edges: BTreeMap<&str, BTreeSet<&str>> = g
        .iter()
        .map(|(k, v)| (k.as_str(), v.iter().map(|(t, _)| t.as_str()).collect()))
        .collect();
    // Depth-first search for a back edge.
    fn visit<'a>(
        n: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = path.iter().position(|p| *p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n);
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n);
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n);
        None
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        if let Some(c) = visit(n, &edges, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", c.join(" → "));
        }
    }
}
