//! Keys hidden in encodings and containers: base64 (Kubernetes secrets), UTF-16 files, zip,
//! tar and gzip archives, nested ones, and hostile or broken archives.

use std::io::{Cursor, Write};

use keyhound::decode::base64::encode as base64;

use crate::harness::{FakeKeys, TestEnv};

fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
    units.flat_map(|unit| if little_endian { unit.to_le_bytes() } else { unit.to_be_bytes() }).collect()
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(zip::CompressionMethod::Deflated, entries)
}

/// A zip of `entries`, each compressed with `method`.
pub fn zip_with(method: zip::CompressionMethod, entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn gzip(name: Option<&str>, bytes: &[u8]) -> Vec<u8> {
    let mut builder = flate2::GzBuilder::new();
    if let Some(name) = name {
        builder = builder.filename(name);
    }
    let mut encoder = builder.write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

fn env_line(key: &str) -> String {
    format!("DEBUG=1\nOPENAI_API_KEY={key}\n")
}

/// (path, line, column, decoded) of each finding.
fn locations(findings: &[serde_json::Value]) -> Vec<(String, u64, u64, Option<String>)> {
    findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["decoded"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn kubernetes_secret_in_base64_is_found_at_the_encoded_value() {
    let env = TestEnv::new();
    let key = FakeKeys::new(21).project_key();
    let encoded = base64(key.as_bytes());
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: openai\ndata:\n  OPENAI_API_KEY: {encoded}\n  REGION: ZXUtd2VzdC0x\n"
    );
    env.write("k8s/secret.yaml", &manifest);
    let run = env.run(&["scan", "--format", "json"]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(locations(&findings), [("k8s/secret.yaml".into(), 6, 19, Some("base64".into()))]);
    assert_eq!(findings[0]["end_column"], 19 + encoded.len() as u64);
    assert_eq!(findings[0]["secret"], format!("sk-proj-…{}", &key[key.len() - 4..]));
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    assert!(run.stderr.contains("decoded text"), "{}", run.stderr);

    let text = env.run(&["scan"]);
    assert!(
        text.stdout.contains("k8s/secret.yaml:6:19: OpenAI API key") && text.stdout.contains("decoded from: base64")
    );
    env.run(&["scan", "--no-decode"]).expect_code(0);
}

#[test]
fn base64_inside_base64_and_inline_allow_on_the_encoded_line() {
    let env = TestEnv::new();
    let key = FakeKeys::new(22).project_key();
    let twice = base64(base64(format!("{{\"api_key\": \"{key}\"}}").as_bytes()).as_bytes());
    env.write("config.json", format!("{{\n  \"blob\": \"{twice}\"\n}}\n"));
    env.write("allowed.yaml", format!("token: {}  # keyhound:allow\n", base64(key.as_bytes())));
    let run = env.run(&["scan", "--format", "json"]);
    run.expect_code(1);
    // The value starts at column 12; the key's own characters start 20 further in: at
    // decoded byte 13 of the inner text, which is base64 character 16 of the middle text,
    // which is character 20 of the outer one.
    assert_eq!(locations(&run.findings()), [("config.json".into(), 2, 32, Some("base64+base64".into()))]);
    assert!(run.stderr.contains("1 finding suppressed (1 by keyhound:allow comment)"), "{}", run.stderr);
}

#[test]
fn utf16_files_in_both_byte_orders_with_and_without_bom_keep_their_lines() {
    let env = TestEnv::new();
    let key = FakeKeys::new(23).project_key();
    let text = format!("# exported settings\r\n\r\n  OPENAI_API_KEY=\"{key}\"\r\n");
    env.write("le-bom.reg", utf16(&text, true, true));
    env.write("le.txt", utf16(&text, true, false));
    env.write("be-bom.txt", utf16(&text, false, true));
    env.write("be.txt", utf16(&text, false, false));
    let run = env.run(&["scan", "--format", "json"]);
    run.expect_code(1);
    let found = locations(&run.findings());
    let expected: Vec<_> =
        [("be-bom.txt", "utf-16be"), ("be.txt", "utf-16be"), ("le-bom.reg", "utf-16le"), ("le.txt", "utf-16le")]
            .iter()
            .map(|(path, encoding)| (path.to_string(), 3, 19, Some(encoding.to_string())))
            .collect();
    assert_eq!(found, expected);
    env.run(&["scan", "--no-decode"]).expect_code(0);
}

#[test]
fn nested_zips_report_member_paths_and_lines() {
    let env = TestEnv::new();
    let mut keys = FakeKeys::new(24);
    let (outer_key, inner_key) = (keys.project_key(), keys.project_key());
    let properties = format!("# app\nopenai.key={inner_key}\n");
    let jar =
        zip(&[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"), ("config/app.properties", properties.as_bytes())]);
    let bundle =
        zip(&[("README", b"nothing here"), ("inner/.env", env_line(&outer_key).as_bytes()), ("lib/app.jar", &jar)]);
    env.write("dist/bundle.zip", &bundle);
    let run = env.run(&["scan", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(
        locations(&run.findings()),
        [
            ("dist/bundle.zip!inner/.env".into(), 2, 16, None),
            ("dist/bundle.zip!lib/app.jar!config/app.properties".into(), 2, 12, None),
        ]
    );
    assert!(run.stderr.contains("also scanned 5 archive members"), "{}", run.stderr);

    let shallow = env.run(&["scan", "--format", "json", "--archive-depth", "1"]);
    shallow.expect_code(1);
    assert_eq!(shallow.findings().len(), 1);
    assert!(shallow.stderr.contains("dist/bundle.zip!lib/app.jar: zip archive nested deeper than --archive-depth 1"));
    // Deflated members hold no key in their raw bytes.
    env.run(&["scan", "--no-archives"]).expect_code(0);
}

#[test]
fn gzipped_log_and_tar_gz_members_are_scanned() {
    let env = TestEnv::new();
    let mut keys = FakeKeys::new(25);
    let (log_key, tar_key) = (keys.project_key(), keys.project_key());
    let log = format!("2024-05-01 start\n2024-05-01 using key {log_key}\n");
    env.write("logs/app.log.gz", gzip(Some("app.log"), log.as_bytes()));
    env.write("logs/unnamed.log.gz", gzip(None, log.as_bytes()));
    let release = tar(&[("release/README", b"hello"), ("release/conf/.env", env_line(&tar_key).as_bytes())]);
    env.write("release.tar.gz", gzip(None, &release));
    env.write("release.tar", &release);
    let run = env.run(&["scan", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(
        locations(&run.findings()),
        [
            ("logs/app.log.gz!app.log".into(), 2, 22, None),
            ("logs/unnamed.log.gz!unnamed.log".into(), 2, 22, None),
            ("release.tar!release/conf/.env".into(), 2, 16, None),
            ("release.tar.gz!release/conf/.env".into(), 2, 16, None),
        ]
    );
}

#[test]
fn zip_bomb_is_reported_and_skipped_without_stopping_the_scan() {
    let env = TestEnv::new();
    let key = FakeKeys::new(26).project_key();
    let zeros = vec![0u8; 24 << 20];
    let bomb = zip(&[("first/.env", env_line(&key).as_bytes()), ("zeros.bin", &zeros), ("after.txt", b"x")]);
    assert!(bomb.len() < 200 << 10, "the bomb is small: {} bytes", bomb.len());
    env.write("bomb.zip", &bomb);
    env.write("gz-bomb.bin.gz", gzip(Some("zeros.bin"), &zeros));
    env.write(".env", env_line(&FakeKeys::new(27).project_key()));
    let run = env.run(&["scan", "--format", "json", "--max-file-size", "64MiB"]);
    run.expect_code(1);
    assert_eq!(
        locations(&run.findings()).iter().map(|l| l.0.as_str()).collect::<Vec<_>>(),
        [".env", "bomb.zip!first/.env"]
    );
    assert!(run.stderr.contains("bomb.zip: \"zeros.bin\" expands more than 100:1 (a zip bomb?)"), "{}", run.stderr);
    assert!(run.stderr.contains("gz-bomb.bin.gz: \"zeros.bin\" expands more than 100:1"), "{}", run.stderr);

    // A higher ratio lets the member through, and the byte budget then stops it.
    let budget =
        env.run(&["scan", "--archive-max-ratio", "100000", "--archive-max-bytes", "8MiB", "--max-file-size", "64MiB"]);
    budget.expect_code(1);
    assert!(budget.stderr.contains("decompressed-size limit (8388608 bytes) reached"), "{}", budget.stderr);
    // Without the size flag the member is simply too large, as a file would be.
    let large = env.run(&["scan", "--archive-max-ratio", "100000"]);
    assert!(large.stderr.contains("bomb.zip!zeros.bin (too large (24.0 MiB))"), "{}", large.stderr);
}

#[test]
fn truncated_archives_are_warnings_not_errors() {
    let env = TestEnv::new();
    let key = FakeKeys::new(28).project_key();
    let padding = (0..64).map(|i| format!("line {i} of a long readme\n")).collect::<String>();
    let release = tar(&[("conf/.env", env_line(&key).as_bytes()), ("README", padding.as_bytes())]);
    let tgz = gzip(None, &release);
    env.write("cut.tar.gz", &tgz[..tgz.len() * 2 / 3]);
    let archive = zip(&[("a.txt", padding.as_bytes())]);
    env.write("cut.zip", &archive[..archive.len() / 2]);
    env.write("garbage.zip", b"PK\x03\x04 this is not really a zip file");
    let run = env.run(&["scan", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(locations(&run.findings()), [("cut.tar.gz!conf/.env".into(), 2, 16, None)]);
    for name in ["cut.tar.gz", "cut.zip", "garbage.zip"] {
        assert!(run.stderr.contains(&format!("warning: {name}: malformed or truncated")), "{name}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("keyhound: error"), "{}", run.stderr);
}

#[test]
fn history_scan_decodes_and_opens_archives_in_old_blobs() {
    let env = TestEnv::git_repo();
    let mut keys = FakeKeys::new(29);
    let (yaml_key, zip_key) = (keys.project_key(), keys.project_key());
    env.write("secret.yaml", format!("data:\n  OPENAI_API_KEY: {}\n", base64(yaml_key.as_bytes())));
    env.write("dist/app.zip", zip(&[("conf/.env", env_line(&zip_key).as_bytes())]));
    env.commit_all("add deployment files");
    std::fs::remove_file(env.path().join("secret.yaml")).unwrap();
    std::fs::remove_file(env.path().join("dist/app.zip")).unwrap();
    env.commit_all("remove them");
    let run = env.run(&["history", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(
        locations(&run.findings()),
        [("dist/app.zip!conf/.env".into(), 2, 16, None), ("secret.yaml".into(), 2, 19, Some("base64".into()))]
    );
    env.run(&["history", "--no-decode", "--no-archives"]).expect_code(0);
}
