//! `keyhound respond`: the real binary against a mock of OpenAI's administration and usage
//! APIs and GitHub's credential revocation API on 127.0.0.1.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};

use crate::harness::{run_bounded, FakeKeys, Run, TestEnv, HANG};
use crate::mock_provider::{Mock, Reply, Request};

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The fake keys: found ones, one the organization does not have, and the admin key (a
/// canary: it must appear in no output).
struct Keys {
    project: String,
    admin: String,
    foreign: String,
    github: String,
    anthropic: String,
    admin_in_use: String,
}

fn keys() -> Keys {
    let mut fake = FakeKeys::new(1717);
    Keys {
        project: fake.project_key(),
        admin: fake.openai("sk-admin-", 58, 58),
        foreign: fake.project_key(),
        github: format!("ghp_{}", fake.segment(36, ALPHANUMERIC)),
        anthropic: format!("sk-ant-api03-{}AA", fake.segment(93, ALPHANUMERIC)),
        admin_in_use: fake.openai("sk-admin-", 58, 58),
    }
}

/// The way the admin API shows a key: its first 8 characters, `...`, its last 4.
fn redacted(key: &str) -> String {
    format!("{}...{}", &key[..8], &key[key.len() - 4..])
}

/// Pages of `items` (but the `deleted` ones) two at a time, after the `after` query
/// parameter, as OpenAI's lists do.
fn list_page(items: &[Value], deleted: &HashSet<String>, request: &Request) -> Reply {
    let items: Vec<Value> =
        items.iter().filter(|item| !deleted.contains(item["id"].as_str().unwrap())).cloned().collect();
    let start = match request.query("after") {
        Some(after) => items.iter().position(|item| item["id"] == after).map_or(items.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<Value> = items.iter().skip(start).take(2).cloned().collect();
    let has_more = start + page.len() < items.len();
    let last_id = page.last().map(|item| item["id"].clone()).unwrap_or(Value::Null);
    Reply::json(
        200,
        json!({"object": "list", "data": page, "first_id": null, "last_id": last_id, "has_more": has_more}),
    )
}

fn project_key(id: &str, key: &str, owner: Value) -> Value {
    json!({"object": "organization.project.api_key", "id": id, "name": format!("{id} name"),
           "redacted_value": redacted(key), "created_at": 1_700_000_000, "last_used_at": 1_714_700_000, "owner": owner})
}

/// The organization: three projects (over two pages); `proj_b` holds the found project key
/// among others (over two pages); one admin key is the found one. With `twin`, `proj_c`
/// holds a key the API shows as the found project key is shown.
fn organization(keys: &Keys, twin: bool) -> impl Fn(&Request, &HashSet<String>) -> Option<Reply> {
    let projects: Vec<Value> = ["proj_a", "proj_b", "proj_c"]
        .iter()
        .map(|id| json!({"object": "organization.project", "id": id, "name": format!("{id} name"), "status": "active"}))
        .collect();
    let user = json!({"type": "user", "user": {"id": "user_1", "name": "Ann", "email": "ann@example.com"}});
    let account = json!({"type": "service_account", "service_account": {"id": "svc_1", "name": "ci-bot"}});
    let in_b = vec![
        project_key("key_b1", &keys.foreign.replace("sk-proj-", "sk-svcacct-"), account.clone()),
        project_key("key_b2", "sk-proj-0000000000000000000000000000", user.clone()),
        project_key("key_live", &keys.project, account),
    ];
    let in_c = if twin { vec![project_key("key_twin", &keys.project, user.clone())] } else { Vec::new() };
    let admin_keys = vec![
        json!({"object": "organization.admin_api_key", "id": "key_admin_in_use", "name": "ops",
               "redacted_value": redacted(&keys.admin_in_use), "created_at": 1_700_000_000, "last_used_at": null,
               "owner": {"type": "user", "object": "organization.user", "id": "user_1", "name": "Ann"}}),
        json!({"object": "organization.admin_api_key", "id": "key_gone", "name": "old admin",
               "redacted_value": redacted(&keys.admin), "created_at": 1_700_000_000, "last_used_at": 1_714_600_000,
               "owner": {"type": "user", "object": "organization.user", "id": "user_1", "name": "Ann"}}),
    ];
    move |request, deleted| {
        let listed = match request.path() {
            "/v1/organization/projects" => &projects,
            "/v1/organization/projects/proj_b/api_keys" => &in_b,
            "/v1/organization/projects/proj_c/api_keys" => &in_c,
            "/v1/organization/projects/proj_a/api_keys" => &Vec::new(),
            "/v1/organization/admin_api_keys" => &admin_keys,
            _ => return None,
        };
        Some(list_page(listed, deleted, request))
    }
}

/// Two pages of usage for `key_live`: two requests on the day of the leak, one two days later.
fn usage(request: &Request) -> Reply {
    let day = 1_714_521_600;
    let bucket = |start: i64, requests: u64| {
        json!({"object": "bucket", "start_time": start, "end_time": start + 86_400, "results": [
            {"object": "organization.usage.completions.result", "api_key_id": "key_live",
             "num_model_requests": requests, "input_tokens": 100 * requests, "output_tokens": 10 * requests}]})
    };
    match request.query("page") {
        None => Reply::json(
            200,
            json!({"object": "page", "data": [bucket(day, 2), bucket(day + 86_400, 0)],
                                        "has_more": true, "next_page": "page_2"}),
        ),
        Some(_) => Reply::json(
            200,
            json!({"object": "page", "data": [bucket(day + 2 * 86_400, 1)],
                                           "has_more": false, "next_page": null}),
        ),
    }
}

/// A mock of all three APIs: deletes answer 429 (`Retry-After: 1`) once, then 200 for
/// `key_live` (which is then gone from the listing) and 404 for `key_gone`; GitHub accepts
/// revocations.
fn apis(keys: &Keys) -> Mock {
    apis_of(organization(keys, false))
}

fn apis_of(organization: impl Fn(&Request, &HashSet<String>) -> Option<Reply> + Send + Sync + 'static) -> Mock {
    let deletes = AtomicUsize::new(0);
    let deleted = Mutex::new(HashSet::new());
    Mock::start(move |request| {
        if let Some(reply) = organization(request, &deleted.lock().unwrap()) {
            return reply;
        }
        match (request.method.as_str(), request.path()) {
            ("GET", "/v1/organization/usage/completions") => usage(request),
            ("DELETE", _) if deletes.fetch_add(1, Ordering::SeqCst) == 0 => {
                Reply::json(429, json!({"error": {"code": "rate_limit_exceeded"}})).with_header("retry-after", "1")
            }
            ("DELETE", "/v1/organization/projects/proj_b/api_keys/key_live") => {
                deleted.lock().unwrap().insert("key_live".to_string());
                Reply::json(
                    200,
                    json!({"object": "organization.project.api_key.deleted", "id": "key_live", "deleted": true}),
                )
            }
            ("DELETE", "/v1/organization/admin_api_keys/key_gone") => {
                Reply::json(404, json!({"error": {"message": "not found"}}))
            }
            ("POST", "/credentials/revoke") => Reply::json(202, json!({})),
            _ => Reply::json(418, json!({"error": "unexpected request"})),
        }
    })
}

/// A repository whose one commit (dated 2024-05-01 by the harness) holds `files`.
fn repository(files: &[(&str, &str)]) -> TestEnv {
    let env = TestEnv::git_repo();
    for (path, key) in files {
        env.write(path, format!("KEY = \"{key}\"\n"));
    }
    env.commit_all("add keys");
    env
}

/// `keyhound respond --format json ARGS` against `mock`, with the admin key set unless
/// `admin` is false; no output may hold any key.
fn respond(env: &TestEnv, mock: &Mock, keys: &Keys, admin: bool, args: &[&str]) -> (Run, Value) {
    let base = mock.base_url();
    let mut command: Command = env.keyhound();
    command.args(["respond", "--format", "json", "--admin-base-url", &base, "--github-base-url", &base]).args(args);
    command.env_remove("OPENAI_ADMIN_KEY");
    if admin {
        command.env("OPENAI_ADMIN_KEY", &keys.admin_in_use);
    }
    let run = run_bounded(&mut command);
    let all = [&keys.project, &keys.admin, &keys.foreign, &keys.github, &keys.anthropic, &keys.admin_in_use];
    for key in all {
        assert!(
            !run.stdout.contains(key.as_str()) && !run.stderr.contains(key.as_str()),
            "a key leaked:\n{}",
            run.stderr
        );
    }
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|_| panic!("stdout is not JSON:\n{}\nstderr:\n{}", run.stdout, run.stderr));
    (run, report)
}

/// The report entry of the key found in `path`.
fn key_in<'a>(report: &'a Value, path: &str) -> &'a Value {
    let keys = report["keys"].as_array().expect("keys");
    keys.iter().find(|key| key["found_in"][0]["path"] == path).unwrap_or_else(|| panic!("no key in {path}: {report:#}"))
}

#[test]
fn a_dry_run_identifies_keys_over_every_page_and_reads_usage_since_the_leak() {
    let keys = keys();
    let mock = apis(&keys);
    let env = repository(&[("app.py", &keys.project), ("admin.py", &keys.admin), ("other.py", &keys.foreign)]);
    let (run, report) = respond(&env, &mock, &keys, true, &["--history"]);
    run.expect_code(1);
    assert_eq!(report["mode"], "dry-run");
    let live = key_in(&report, "app.py");
    assert_eq!(live["leaked_at"], "2024-05-01T12:00:00+00:00");
    let identity = &live["identity"];
    assert_eq!((identity["status"].as_str(), identity["kind"].as_str()), (Some("matched"), Some("project-key")));
    assert_eq!((identity["project_id"].as_str(), identity["id"].as_str()), (Some("proj_b"), Some("key_live")));
    assert_eq!(identity["owner"], "service account ci-bot");
    assert_eq!(
        live["usage"],
        json!({"since": 1_714_521_600, "days_used": 2, "requests": 3, "tokens": 330,
                                     "last_day": 1_714_521_600 + 2 * 86_400})
    );
    assert_eq!(live["action"]["kind"], "delete-openai-key");
    assert_eq!(live["outcome"]["result"], "not-run");
    let admin = key_in(&report, "admin.py");
    assert_eq!(
        (admin["identity"]["kind"].as_str(), admin["identity"]["owner"].as_str()),
        (Some("admin-key"), Some("Ann"))
    );
    let foreign = key_in(&report, "other.py");
    assert_eq!(foreign["identity"]["status"], "no-match");
    assert_eq!(foreign["action"]["kind"], "refused");

    let requests = mock.requests();
    assert!(requests.iter().all(|r| r.method == "GET"), "a dry run only reads");
    for request in &requests {
        let bearer = format!("Bearer {}", keys.admin_in_use);
        assert_eq!(request.header("authorization"), Some(bearer.as_str()), "{}", request.target);
        assert!(request.header("user-agent").is_some_and(|agent| agent.starts_with("keyhound/")));
    }
    let targets: Vec<&str> = requests.iter().map(|r| r.target.as_str()).collect();
    for expected in [
        "/v1/organization/projects?limit=100",
        "/v1/organization/projects?limit=100&after=proj_b",
        "/v1/organization/projects/proj_b/api_keys?owner_project_access=any&limit=100",
        "/v1/organization/projects/proj_b/api_keys?owner_project_access=any&limit=100&after=key_b2",
        "/v1/organization/admin_api_keys?limit=100",
        "/v1/organization/usage/completions?start_time=1714521600&bucket_width=1d&limit=31&group_by=api_key_id&api_key_ids=key_live",
        "/v1/organization/usage/completions?start_time=1714521600&bucket_width=1d&limit=31&group_by=api_key_id&api_key_ids=key_live&page=page_2",
    ] {
        assert!(targets.contains(&expected), "no request for {expected}: {targets:#?}");
    }
    let usage_requests = targets.iter().filter(|t| t.starts_with("/v1/organization/usage/")).count();
    assert_eq!(usage_requests, 4, "usage of the two identified keys, two pages each");
}

#[test]
fn a_key_matching_two_entries_or_none_is_never_acted_on() {
    let keys = keys();
    let mock = apis_of(organization(&keys, true));
    // key_b1 shows `sk-svcac...` and the foreign key's tail: another head, so no match.
    let env = repository(&[("app.py", &keys.project), ("other.py", &keys.foreign)]);
    let (run, report) = respond(&env, &mock, &keys, true, &["--history", "--revoke", "--yes"]);
    run.expect_code(1);
    let twin = key_in(&report, "app.py");
    assert_eq!(twin["identity"], json!({"status": "ambiguous", "entries": 2}));
    assert_eq!(twin["action"]["kind"], "refused");
    assert_eq!(twin["usage"], Value::Null, "usage is read for an identified key only");
    let foreign = key_in(&report, "other.py");
    assert_eq!(foreign["identity"]["status"], "no-match");
    assert_eq!(foreign["outcome"]["result"], "not-run");
    assert!(mock.requests().iter().all(|r| r.method == "GET"), "nothing deleted");
}

#[test]
fn revocation_deletes_openai_keys_revokes_github_tokens_and_a_second_run_is_harmless() {
    let keys = keys();
    let mock = apis(&keys);
    let env = repository(&[("app.py", &keys.project), ("admin.py", &keys.admin), ("gh.py", &keys.github)]);
    let (run, report) = respond(&env, &mock, &keys, true, &["--history", "--revoke", "--yes"]);
    run.expect_code(0);
    assert_eq!(report["mode"], "revoke");
    assert_eq!(key_in(&report, "app.py")["outcome"]["result"], "revoked");
    assert_eq!(key_in(&report, "admin.py")["outcome"]["result"], "already-revoked");
    assert_eq!(key_in(&report, "gh.py")["outcome"]["result"], "revoked");
    let requests = mock.requests();
    let deletes: Vec<&str> = requests.iter().filter(|r| r.method == "DELETE").map(|r| r.target.as_str()).collect();
    // The first delete met a 429 with Retry-After and was made again.
    assert_eq!(deletes.len(), 3, "{deletes:?}");
    assert_eq!(deletes.iter().filter(|t| t.ends_with("/key_live")).count(), 2);
    assert_eq!(*deletes.last().unwrap(), "/v1/organization/admin_api_keys/key_gone", "admin keys go last");
    let revocations: Vec<&Request> = requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(revocations.len(), 1);
    let revocation = revocations[0];
    assert_eq!(revocation.target, "/credentials/revoke");
    assert_eq!(serde_json::from_str::<Value>(&revocation.body).unwrap(), json!({"credentials": [keys.github]}));
    assert_eq!(revocation.header("authorization"), None, "GitHub refuses authenticated revocations");
    assert_eq!(revocation.header("accept"), Some("application/vnd.github+json"));
    for request in requests.iter().filter(|r| r.method != "POST") {
        assert!(!request.body.contains(&keys.project) && !request.target.contains(&keys.project[8..]));
    }

    // Again: the deleted key is no longer listed, so it is not identified and nothing is
    // deleted twice; GitHub takes the revocation again.
    let (run, report) = respond(&env, &mock, &keys, true, &["--history", "--revoke", "--yes"]);
    run.expect_code(1);
    assert_eq!(key_in(&report, "app.py")["identity"]["status"], "no-match");
    assert_eq!(key_in(&report, "gh.py")["outcome"]["result"], "revoked");
    let again = &mock.requests()[requests.len()..];
    let deletes: Vec<&str> = again.iter().filter(|r| r.method == "DELETE").map(|r| r.target.as_str()).collect();
    assert_eq!(deletes, ["/v1/organization/admin_api_keys/key_gone"], "only the key still listed");
}

#[test]
fn revoking_needs_a_yes_when_nobody_can_be_asked() {
    let keys = keys();
    let mock = apis(&keys);
    let env = repository(&[("app.py", &keys.project), ("gh.py", &keys.github)]);
    let base = mock.base_url();
    let mut command = env.keyhound();
    command.args(["respond", "--history", "--revoke", "--admin-base-url", &base, "--github-base-url", &base]);
    command.env("OPENAI_ADMIN_KEY", &keys.admin_in_use);
    let run = run_bounded(&mut command);
    run.expect_code(2);
    assert!(run.stderr.contains("standard input is not a terminal: add --yes"), "{}", run.stderr);
    assert!(mock.requests().iter().all(|r| r.method == "GET"), "nothing revoked");
}

/// `keyhound respond --history --revoke` on a terminal (util-linux `script` gives it one),
/// answering the prompt with `answer`; `None` where `script` is missing.
fn on_a_terminal(env: &TestEnv, mock: &Mock, keys: &Keys, answer: &str) -> Option<Run> {
    let base = mock.base_url();
    let command = format!(
        "'{}' respond --history --revoke --admin-base-url {base} --github-base-url {base}",
        env!("CARGO_BIN_EXE_keyhound")
    );
    let mut script = Command::new("script");
    script.args(["-qec", &command, "/dev/null"]).current_dir(env.path());
    script.env("GIT_CONFIG_NOSYSTEM", "1").env("OPENAI_ADMIN_KEY", &keys.admin_in_use);
    let mut child = script.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().ok()?;
    child.stdin.take().expect("piped").write_all(answer.as_bytes()).expect("answer written");
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).expect("terminal output read");
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for script") {
            break status;
        }
        assert!(started.elapsed() < HANG, "keyhound on a terminal did not finish");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let output = reader.join().expect("reader");
    Some(Run { code: status.code().unwrap_or(-1), stdout: output, stderr: String::new() })
}

#[test]
fn on_a_terminal_revocation_waits_for_a_typed_yes_after_listing_what_it_deletes() {
    let keys = keys();
    let mock = apis(&keys);
    let env = repository(&[("app.py", &keys.project), ("gh.py", &keys.github)]);
    let Some(declined) = on_a_terminal(&env, &mock, &keys, "no\n") else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    declined.expect_code(1);
    let prompt = [
        "keyhound will revoke 2 keys:",
        "sk-proj-…",
        "delete OpenAI project key \"key_live name\" (key_live) in project \"proj_b name\" (proj_b)",
        "ghp_…",
        "revoke it through GitHub's credential revocation API",
        "Type yes to revoke them:",
        "revocation not confirmed: nothing revoked",
    ];
    for expected in prompt {
        assert!(declined.stdout.contains(expected), "no {expected:?} in:\n{}", declined.stdout);
    }
    assert!(mock.requests().iter().all(|r| r.method == "GET"), "nothing revoked without a yes");
    let accepted = on_a_terminal(&env, &mock, &keys, "yes\n").expect("script ran before");
    accepted.expect_code(0);
    assert!(mock.requests().iter().any(|r| r.method == "DELETE") && mock.requests().iter().any(|r| r.method == "POST"));
    for run in [&declined, &accepted] {
        for key in [&keys.project, &keys.github, &keys.admin_in_use] {
            assert!(!run.stdout.contains(key.as_str()), "a key reached the terminal");
        }
    }
}

#[test]
fn without_an_admin_key_openai_keys_are_left_alone_and_others_get_their_steps() {
    let keys = keys();
    let mock = apis(&keys);
    let env = repository(&[("app.py", &keys.project), ("claude.py", &keys.anthropic)]);
    let (run, report) = respond(&env, &mock, &keys, false, &["--history", "--revoke", "--yes"]);
    run.expect_code(1);
    assert!(run.stderr.contains("note: OPENAI_ADMIN_KEY is not set"), "{}", run.stderr);
    assert!(mock.requests().is_empty(), "no call without the admin key: {:?}", mock.requests());
    let openai = key_in(&report, "app.py");
    assert_eq!(openai["identity"]["status"], "skipped");
    assert_eq!(openai["action"]["kind"], "refused");
    let anthropic = key_in(&report, "claude.py");
    assert_eq!(anthropic["action"]["kind"], "manual");
    assert!(anthropic["steps"].as_str().is_some_and(|steps| steps.contains("console.anthropic.com")), "{anthropic:#}");
}

#[test]
fn working_tree_keys_are_dated_by_the_commit_of_their_line() {
    let keys = keys();
    let mock = apis(&keys);
    let env = repository(&[("app.py", &keys.project)]);
    env.write("new.py", format!("KEY = \"{}\"\n", keys.foreign));
    let (run, report) = respond(&env, &mock, &keys, true, &[]);
    run.expect_code(1);
    assert_eq!(key_in(&report, "app.py")["leaked_at"], "2024-05-01T12:00:00+00:00");
    assert_eq!(key_in(&report, "new.py")["leaked_at"], Value::Null, "not committed");
}

#[cfg(unix)]
#[test]
fn the_purge_file_is_private_and_holds_one_literal_line_per_secret() {
    use std::os::unix::fs::PermissionsExt;
    let keys = keys();
    let mock = apis(&keys);
    let env = repository(&[("app.py", &keys.project), ("gh.py", &keys.github)]);
    let outside = TestEnv::new();
    let file = outside.path().join("replacements.txt");
    let (run, report) = respond(&env, &mock, &keys, false, &["--history", "--purge-file", file.to_str().unwrap()]);
    run.expect_code(1);
    let mut lines: Vec<String> = std::fs::read_to_string(&file).unwrap().lines().map(str::to_owned).collect();
    lines.sort();
    let mut expected =
        vec![format!("literal:{}==>***REMOVED***", keys.github), format!("literal:{}==>***REMOVED***", keys.project)];
    expected.sort();
    assert_eq!(lines, expected);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(report["purge"]["secrets"], 2);
    let steps = report["purge"]["steps"].as_array().unwrap();
    assert!(steps[0].as_str().unwrap().starts_with("revocation is what protects you"));
    assert!(steps.iter().any(|step| step.as_str().unwrap().contains("git filter-repo --replace-text")));
}
