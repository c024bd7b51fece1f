//! The codebase's shape, as ARCHITECTURE.md draws it: imports only down the layers, no import
//! circles between modules, `src/service/` grouped by capability with a short top, and no long
//! file without a reason at its top.
//!
//! Reads the sources (not the compiled crate): a module is a file (`a/b.rs` or `a/b/mod.rs`);
//! it imports every module a `crate::…`, `super::…` or `self::…` path in it names, test
//! modules left out. A module's own ancestors do not count (a child always sees its parent).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The text before the file's test module, without comments.
fn code_of(text: &str) -> String {
    let end = text.find("\n#[cfg(test)]").unwrap_or(text.len());
    text[..end]
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path a `crate::`, `super::` or `self::` path names, with `{…}` groups expanded.
fn paths_in(code: &str, here: &Module) -> Vec<Module> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .find(|s| {
                code_at(&bytes, i, s)
                    && (i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == ':'))
            })
            .copied();
        let Some(start) = starts else {
            i += 1;
            continue;
        };
        let mut base: Module = match start {
            "crate::" => Vec::new(),
            "self::" => here.clone(),
            _ => here[..here.len().saturating_sub(1)].to_vec(),
        };
        i += start.len();
        while code_at(&bytes, i, "super::") {
            base.pop();
            i += "super::".len();
        }
        let (paths, next) = read_path(&bytes, i, base);
        out.extend(paths);
        i = next;
    }
    out
}

fn code_at(chars: &[char], i: usize, s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(k, c)| chars.get(i + k) == Some(&c))
}

/// Reads `a::b::{c, d::e}` from `i`; returns the full paths and where it stopped.
fn read_path(chars: &[char], mut i: usize, mut prefix: Module) -> (Vec<Module>, usize) {
    loop {
        let start = i;
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        if i > start {
            prefix.push(chars[start..i].iter().collect());
        }
        if code_at(chars, i, "::{") {
            i += 3;
            let mut out = vec![prefix.clone()];
            loop {
                while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                    i += 1;
                }
                if i >= chars.len() || chars[i] == '}' {
                    return (out, i + 1);
                }
                let (inner, next) = read_path(chars, i, prefix.clone());
                out.extend(inner);
                i = next;
                // Skip `as name` and anything else up to the next item.
                while i < chars.len() && chars[i] != ',' && chars[i] != '}' {
                    i += 1;
                }
            }
        }
        if code_at(chars, i, "::") && chars.get(i + 2).is_some_and(|c| is_ident(*c)) {
            i += 2;
            continue;
        }
        return (vec![prefix], i);
    }
}

struct Tree {
    files: BTreeMap<Module, PathBuf>,
    imports: BTreeMap<Module, BTreeSet<Module>>,
}

fn tree() -> Tree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    source_files(&src, &mut all);
    let files: BTreeMap<Module, PathBuf> = all
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let mut imports = BTreeMap::new();
    for (module, file) in &files {
        let code = code_of(&std::fs::read_to_string(file).expect("read source"));
        let mut seen = BTreeSet::new();
        for path in paths_in(&code, module) {
            // The longest prefix that is a module file.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| files.contains_key(p));
            if let Some(target) = target {
                let ancestor = module.starts_with(&target);
                if &target != module && !ancestor {
                    seen.insert(target);
                }
            }
        }
        imports.insert(module.clone(), seen);
    }
    Tree { files, imports }
}

/// Strongly connected groups of more than one module (Tarjan).
fn circles(imports: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    struct State<'a> {
        imports: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.imports[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[w].min(s.low[v]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.index[w].min(s.low[v]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let mut s = State {
        imports,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in imports.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn no_module_imports_itself_round_a_loop() {
    let tree = tree();
    assert!(tree.files.len() > 100, "the source tree was read");
    assert_eq!(circles(&tree.imports), Vec::<Vec<String>>::new());
}

#[test]
fn the_circle_finder_finds_circles() {
    let m = |s: &str| -> Module { s.split("::").map(str::to_string).collect() };
    let mut imports = BTreeMap::new();
    imports.insert(m("a"), BTreeSet::from([m("b")]));
    imports.insert(m("b"), BTreeSet::from([m("c")]));
    imports.insert(m("c"), BTreeSet::from([m("a")]));
    imports.insert(m("d"), BTreeSet::from([m("a")]));
    assert_eq!(circles(&imports), vec![vec!["a", "b", "c"]]);
    // Paths are read through groups, `super` and `self`.
    let here = m("service::x::y");
    let found = paths_in(
        "use crate::a::{b::{c, d}, e as f};\nuse super::g;\nself::h::i();",
        &here,
    );
    for want in [
        "a::b::c",
        "a::b::d",
        "a::e",
        "service::x::g",
        "service::x::y::h::i",
    ] {
        assert!(found.contains(&m(want)), "{want} in {found:?}");
    }
}

#[test]
fn the_use_cases_are_grouped_by_capability() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/service");
    let entries: Vec<String> = std::fs::read_dir(&dir)
        .expect("read src/service")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        entries.len() <= 16,
        "src/service/ has {} entries: {entries:?}",
        entries.len()
    );
    for area in [
        "access",
        "keys",
        "issuance",
        "verify",
        "custody",
        "oversight",
        "redress",
        "certification",
        "interop",
        "ops",
    ] {
        assert!(
            dir.join(area).join("mod.rs").is_file(),
            "src/service/{area}/"
        );
    }
}

/// The layers of `src/lib.rs`, top first: a module imports only its own layer and those below.
const LAYERS: [&[&str]; 10] = [
    &["startup"],
    &["openapi"],
    &["routes", "web", "cli"],
    &["http"],
    &["pilot"],
    &["service"],
    &["error"],
    &["crypto", "db", "print"],
    &["config", "metrics", "qr"],
    &["domain"],
];

fn layer_of(module: &Module) -> Option<usize> {
    let top = module.first()?;
    LAYERS
        .iter()
        .position(|layer| layer.contains(&top.as_str()))
}

#[test]
fn every_import_goes_down_the_layers() {
    let tree = tree();
    let mut upward = Vec::new();
    for (module, imports) in &tree.imports {
        let Some(here) = layer_of(module) else {
            continue;
        };
        for target in imports {
            if layer_of(target).is_some_and(|there| there < here) {
                upward.push(format!("{} -> {}", module.join("::"), target.join("::")));
            }
        }
    }
    assert_eq!(upward, Vec::<String>::new());
}
#[test]
fn a_long_file_says_why_at_its_top() {
    let tree = tree();
    let mut long = Vec::new();
    for file in tree.files.values() {
        let text = std::fs::read_to_string(file).expect("read source");
        let code_lines = text
            .find("\n#[cfg(test)]")
            .map_or(text.as_str(), |end| &text[..end])
            .lines()
            .count();
        let says_why = text
            .lines()
            .take_while(|l| l.starts_with("//!") || l.starts_with("// "))
            .any(|l| l.contains("Longer than 400 lines"))
            || text.starts_with("// @generated");
        if code_lines > 400 && !says_why {
            long.push(format!("{} ({code_lines} lines)", file.display()));
        }
    }
    assert_eq!(long, Vec::<String>::new());
}
