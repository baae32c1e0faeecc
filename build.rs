//! Embeds every `rules/*.toml` file into the binary, so the built-in rules are data that
//! ships with it and new rule files need no code change.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let rules_dir = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());

    let mut files: Vec<PathBuf> = fs::read_dir(&rules_dir)
        .expect("rules/ directory exists")
        .map(|entry| entry.expect("rules/ entries are readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();

    let mut source = String::from("/// Built-in rule files: (file name, TOML text), sorted by name.\n");
    source.push_str("pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().expect("a file has a name").to_string_lossy();
        source.push_str(&format!("    ({name:?}, include_str!({:?})),\n", path.display().to_string()));
    }
    source.push_str("];\n");

    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_rules.rs");
    fs::write(out, source).expect("OUT_DIR is writable");
}
