//! Embeds every `rules/*.toml` file into the binary, so the built-in rules are data that
//! ships with it and new rule files need no code change. Each is parsed here and embedded as
//! JSON: reading JSON at start-up costs a fraction of parsing TOML, and every keyhound process
//! (a pre-commit hook most of all) reads the built-in rules. A built-in rule file that is not
//! valid TOML fails the build, naming the file.

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

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut source = String::from("/// Built-in rule files: (file name, the file as JSON), sorted by name.\n");
    source.push_str("pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().expect("a file has a name").to_string_lossy();
        let json = out.join(format!("{name}.json"));
        fs::write(&json, as_json(path)).expect("OUT_DIR is writable");
        source.push_str(&format!("    ({name:?}, include_str!({:?})),\n", json.display().to_string()));
    }
    source.push_str("];\n");
    fs::write(out.join("builtin_rules.rs"), source).expect("OUT_DIR is writable");
}

/// The rule file at `path` as JSON, the same document value for value.
fn as_json(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::to_string(&value).expect("a TOML document is plain data")
}
