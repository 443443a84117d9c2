//! The backend's layers point one way (`docs/architecture.md`): the store and the clients know
//! nothing of the flows or the configuration, the two clients know nothing of each other, and no
//! two top-level modules import each other through any path. This test reads `backend/src`,
//! collects every `crate::<module>` a top-level module names (in `use` lines, brace groups and
//! paths), and fails with the file and the forbidden import when one comes back.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// What each lower module must not import. The composition roots (`app`, `cli`, `config`,
/// `demo`, `check`, `testing`) may import anything below them.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("clock", &["config", "store", "queue", "netsuite", "woo", "sync", "monitor", "api", "app"]),
    ("secrets", &["config", "store", "queue", "netsuite", "woo", "sync", "monitor", "api", "app"]),
    ("remote", &["config", "store", "queue", "netsuite", "woo", "sync", "monitor", "api", "app"]),
    ("metrics", &["config", "netsuite", "woo", "sync", "monitor", "api", "app"]),
    ("store", &["config", "queue", "netsuite", "woo", "sync", "monitor", "api", "app", "demo"]),
    ("monitor", &["config", "queue", "netsuite", "woo", "sync", "api", "app", "demo"]),
    ("queue", &["config", "netsuite", "woo", "sync", "api", "app", "demo"]),
    ("netsuite", &["config", "woo", "sync", "api", "app", "demo", "check", "cli"]),
    ("woo", &["config", "netsuite", "sync", "api", "app", "demo", "check", "cli"]),
    ("sync", &["config", "api", "app", "demo", "check", "cli"]),
    ("api", &["config", "app", "demo", "check", "cli"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `woo/client.rs` → `woo`, `app.rs` → `app`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(SRC).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// Every top-level module named after `crate::` in `text` (comments removed).
fn crate_refs(text: &str) -> BTreeSet<String> {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let mut refs = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The top level of a brace group: `crate::{a::b, c, d::{e, f}}` → a, c, d.
            let (mut depth, mut item, mut items) = (1, String::new(), Vec::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => items.push(std::mem::take(&mut item)),
                    _ if depth == 1 => item.push(c),
                    _ => {}
                }
            }
            items.push(item);
            refs.extend(items.iter().map(|i| ident(i.trim())).filter(|i| !i.is_empty()));
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                refs.insert(name);
            }
        }
    }
    refs
}

/// module → module it imports → the files that do.
fn imports() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        for target in crate_refs(&std::fs::read_to_string(&file).unwrap()) {
            if target != module {
                let rel = file.strip_prefix(SRC).unwrap().display().to_string();
                graph.entry(module.clone()).or_default().entry(target).or_default().insert(rel);
            }
        }
    }
    graph
}

#[test]
fn the_reader_finds_imports_in_use_lines_brace_groups_and_paths() {
    let text = "use crate::{\n    monitor::{Exception, ExceptionKind},\n    queue::Queue, // crate::api\n    store,\n};\nlet x = crate::clock::system();";
    let found: Vec<String> = crate_refs(text).into_iter().collect();
    assert_eq!(found, ["clock", "monitor", "queue", "store"]);
}

#[test]
fn lower_layers_do_not_import_the_flows_the_configuration_or_each_other() {
    let graph = imports();
    let mut wrong = Vec::new();
    for (module, forbidden) in FORBIDDEN {
        for target in *forbidden {
            if let Some(files) = graph.get(*module).and_then(|g| g.get(*target)) {
                wrong.push(format!(
                    "{module} imports {target} in {}",
                    files.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "forbidden imports:\n  {}", wrong.join("\n  "));
    assert!(graph.contains_key("woo") && graph.contains_key("sync"), "the reader found the modules: {graph:?}");
}

#[test]
fn no_two_modules_import_each_other_through_any_path() {
    let graph = imports();
    // Depth-first search for a cycle; report the first one with its path.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).map(|g| g.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            if let Some(cycle) = visit(&next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            let hops: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    format!(
                        "{} → {} ({})",
                        w[0],
                        w[1],
                        graph[&w[0]][&w[1]].iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            panic!("import cycle:\n  {}", hops.join("\n  "));
        }
    }
}
