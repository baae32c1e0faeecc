//! The providers' HTTP APIs on 127.0.0.1, for `--verify` tests: answers are scripted per key
//! (the last one repeats; an unknown key gets a 401), each given after a delay, on the shared
//! HTTP stand-in (`http_mock.rs`: every request recorded, peak connections counted).
//!
//! Shared by the end-to-end tests and the unit tests of `src/verify` (included by path), so
//! both test against the same imitation of the providers.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

// Each test crate uses part of it.
#[allow(dead_code)]
#[path = "http_mock.rs"]
mod http_mock;

pub use http_mock::{Mock, Reply, Request};

/// One scripted answer.
pub type Answer = Reply;

impl Reply {
    /// An OpenAI-style error: `{"error": {"message": ..., "code": CODE}}` (`null` for "").
    pub fn openai_error(status: u16, code: &str) -> Self {
        let code = if code.is_empty() { "null".to_string() } else { format!("\"{code}\"") };
        Reply::json(status, format!(r#"{{"error":{{"message":"provider text","type":"x","code":{code}}}}}"#))
    }
}

/// A request the mock received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Path and query.
    pub path: String,
    /// The key, from `Authorization: Bearer` or `x-api-key`.
    pub key: Option<String>,
    /// Every header, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    fn of(request: Request) -> Self {
        let key = key(&request);
        Recorded { path: request.target, key, headers: request.headers }
    }

    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The key a request carries, from `Authorization: Bearer` or `x-api-key`.
fn key(request: &Request) -> Option<String> {
    let bearer = request.header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    bearer.or_else(|| request.header("x-api-key")).map(str::to_string)
}

/// The running mock; dropping it stops accepting connections.
pub struct MockProvider(Mock);

impl MockProvider {
    /// Starts a mock answering each key with its answers in turn (the last one repeats),
    /// each after `delay`. Unknown keys get a 401.
    pub fn start(script: Vec<(String, Vec<Answer>)>, delay: Duration) -> Self {
        let script: HashMap<String, VecDeque<Answer>> =
            script.into_iter().map(|(key, answers)| (key, answers.into())).collect();
        let script = Mutex::new(script);
        MockProvider(Mock::start(move |request| {
            let answer = next_answer(&script, key(request).as_deref());
            thread::sleep(delay);
            answer
        }))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.0.base_url()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.0.requests().into_iter().map(Recorded::of).collect()
    }

    /// How many requests carried `key`.
    pub fn requests_for(&self, key: &str) -> usize {
        self.requests().iter().filter(|r| r.key.as_deref() == Some(key)).count()
    }

    /// The most connections that were open at once.
    pub fn peak_connections(&self) -> usize {
        self.0.peak_connections()
    }
}

fn next_answer(script: &Mutex<HashMap<String, VecDeque<Answer>>>, key: Option<&str>) -> Answer {
    let mut script = script.lock().unwrap();
    match key.and_then(|key| script.get_mut(key)) {
        Some(answers) if answers.len() > 1 => answers.pop_front().unwrap(),
        Some(answers) => answers.front().cloned().unwrap(),
        None => Answer::json(401, r#"{"error":{"message":"no such key"}}"#),
    }
}
