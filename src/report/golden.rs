//! Golden-file tests: every format renders one fixed outcome, compared byte for byte with
//! `fixtures/golden/report.<format>`. Paths in the outcome are fixed relative paths (some
//! with characters each format must escape), and the tool version is replaced by `<VERSION>`,
//! so the files do not change with the machine or a release.
//!
//! After an intended change of output, regenerate the files and review the diff:
//!
//! ```sh
//! KEYHOUND_BLESS=1 cargo test --lib report::golden
//! git diff fixtures/golden
//! ```

use std::path::PathBuf;

use clap::ValueEnum;

use super::test_support::{finding, finding_in_commit, finding_in_tag_message};
use super::{write, Format, ReportOptions};
use crate::pipeline::ScanOutcome;
use crate::rules::RuleSet;
use crate::verify::Verifications;

fn outcome() -> ScanOutcome {
    let findings = vec![finding("app/.env", 3), finding_in_commit("src/odd dir/a,\"b\"<&>%:c.py", 12)];
    ScanOutcome { findings, ..ScanOutcome::default() }
}

fn render(format: Format) -> String {
    let mut out = Vec::new();
    write(format, &outcome(), &Verifications::new(), &RuleSet::builtin().unwrap(), &ReportOptions::default(), &mut out)
        .unwrap();
    let version = format!("\"{}\"", env!("CARGO_PKG_VERSION"));
    let text = String::from_utf8(out).unwrap().replace(&version, "\"<VERSION>\"");
    // GitLab's report says when the scan ran.
    let scan_time = regex::Regex::new(r#""\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d""#).unwrap();
    scan_time.replace_all(&text, "\"<TIME>\"").into_owned()
}

fn golden_path(format: Format) -> PathBuf {
    let name = format.to_possible_value().expect("every format has a name").get_name().to_string();
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden").join(format!("report.{name}"))
}

#[test]
fn every_format_matches_its_golden_file() {
    let bless = std::env::var_os("KEYHOUND_BLESS").is_some();
    let mut stale = Vec::new();
    for &format in Format::value_variants() {
        let actual = render(format);
        let path = golden_path(format);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            stale.push(format!("{}:\n{actual}", path.display()));
        }
    }
    assert!(stale.is_empty(), "output differs from golden files (KEYHOUND_BLESS=1 regenerates):\n{}", stale.join("\n"));
}

#[test]
fn no_format_prints_the_secret_by_default() {
    for &format in Format::value_variants() {
        assert!(!render(format).contains("FAKEfake"), "{format:?} leaks the secret");
    }
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/schemas/sarif-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let log: serde_json::Value = serde_json::from_str(&render(Format::Sarif)).unwrap();
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let messages = ScanOutcome { findings: vec![finding_in_tag_message("v1", 2)], ..ScanOutcome::default() };
    let mut out = Vec::new();
    let (rules, options) = (RuleSet::builtin().unwrap(), ReportOptions::default());
    write(Format::Sarif, &messages, &Verifications::new(), &rules, &options, &mut out).unwrap();
    let message_log: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&message_log).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "a key in a message: {}", errors.join("\n"));
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken), "the validator must reject an invalid level");
}
