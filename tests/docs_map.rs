//! `docs/ARCHITECTURE.md` is the map of the code, kept true in the same commit as the code:
//! every repository path it names (from a top-level directory of this repository) exists.

use std::path::Path;

/// The backticked spans of a Markdown text.
fn code_spans(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

#[test]
fn every_path_the_architecture_map_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("the map");
    let tops = [
        "api/", "e2sm/", "ffi/", "xapp/", "rapp/", "src/", "bench/", "tests/", "docs/", "config/",
        "deploy/", ".ci/",
    ];
    let mut named = 0;
    let mut missing = Vec::new();
    for span in code_spans(&map) {
        // `path::item` names an item of that file; `<name>` is a placeholder, not a path.
        let path = span.split("::").next().unwrap_or(span);
        if path.contains(char::is_whitespace)
            || path.contains('<')
            || !tops.iter().any(|t| path.starts_with(t))
        {
            continue;
        }
        named += 1;
        if !root.join(path).exists() {
            missing.push(path.to_owned());
        }
    }
    assert!(
        named > 50,
        "only {named} paths found: is the map still there?"
    );
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}
