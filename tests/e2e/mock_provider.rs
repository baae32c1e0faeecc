//! A stand-in for the providers' HTTP APIs on 127.0.0.1, for `--verify` tests: answers are
//! scripted per key, every request is recorded, and the peak number of connections open at
//! once is counted. Each answer closes its connection, so connections are requests.
//!
//! Shared by the end-to-end tests and the unit tests of `src/verify` (included by path), so
//! both test against the same imitation of the providers.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long a hanging answer stalls before closing: longer than any test's client timeout,
/// short enough that no thread outlives the tests by much.
const HANG: Duration = Duration::from_secs(3);

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Answer {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
    hang: bool,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Self {
        Answer { status, body: body.to_string(), headers: Vec::new(), hang: false }
    }

    /// An OpenAI-style error: `{"error": {"message": ..., "code": CODE}}` (`null` for "").
    pub fn openai_error(status: u16, code: &str) -> Self {
        let code = if code.is_empty() { "null".to_string() } else { format!("\"{code}\"") };
        Answer::json(status, &format!(r#"{{"error":{{"message":"provider text","type":"x","code":{code}}}}}"#))
    }

    /// No answer at all until well after the client gave up.
    pub fn hang() -> Self {
        Answer { hang: true, ..Answer::json(200, "{}") }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
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
    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<HashMap<String, VecDeque<Answer>>>,
    requests: Mutex<Vec<Recorded>>,
    active: AtomicUsize,
    peak: AtomicUsize,
    delay: Duration,
    stop: AtomicBool,
}

/// The running mock; dropping it stops accepting connections.
pub struct MockProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl MockProvider {
    /// Starts a mock answering each key with its answers in turn (the last one repeats),
    /// each after `delay`. Unknown keys get a 401.
    pub fn start(script: Vec<(String, Vec<Answer>)>, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let script = script.into_iter().map(|(key, answers)| (key, answers.into())).collect();
        let shared = Arc::new(Shared { script: Mutex::new(script), delay, ..Shared::default() });
        let accepting = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let shared = accepting.clone();
                    thread::spawn(move || serve(stream, &shared));
                }
            }
        });
        MockProvider { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many requests carried `key`.
    pub fn requests_for(&self, key: &str) -> usize {
        self.requests().iter().filter(|r| r.key.as_deref() == Some(key)).count()
    }

    /// The most connections that were open at once.
    pub fn peak_connections(&self) -> usize {
        self.shared.peak.load(Ordering::SeqCst)
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let open = shared.active.fetch_add(1, Ordering::SeqCst) + 1;
    shared.peak.fetch_max(open, Ordering::SeqCst);
    let reply = read_request(&stream).and_then(|request| reply_to(request, shared));
    // Closed before the answer is written: a client may open its next connection as soon as it
    // has read this answer, before this thread would otherwise count this one as closed.
    shared.active.fetch_sub(1, Ordering::SeqCst);
    if let Some(reply) = reply {
        let _ = stream.write_all(reply.as_bytes());
    }
}

/// Records `request` and waits; the rendered answer, or `None` after a hang.
fn reply_to(request: Recorded, shared: &Shared) -> Option<String> {
    let answer = next_answer(shared, request.key.as_deref());
    shared.requests.lock().unwrap().push(request);
    thread::sleep(shared.delay);
    if answer.hang {
        thread::sleep(HANG);
        return None;
    }
    Some(render(&answer))
}

fn read_request(stream: &TcpStream) -> Option<Recorded> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let Some((name, value)) = line.trim_end().split_once(':') else { break };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let bearer = header("authorization").and_then(|v| v.strip_prefix("Bearer ").map(str::to_string));
    let key = bearer.or_else(|| header("x-api-key"));
    Some(Recorded { path, key, headers })
}

fn next_answer(shared: &Shared, key: Option<&str>) -> Answer {
    let mut script = shared.script.lock().unwrap();
    match key.and_then(|key| script.get_mut(key)) {
        Some(answers) if answers.len() > 1 => answers.pop_front().unwrap(),
        Some(answers) => answers.front().cloned().unwrap(),
        None => Answer::json(401, r#"{"error":{"message":"no such key"}}"#),
    }
}

fn render(answer: &Answer) -> String {
    let extra: String = answer.headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    format!(
        "HTTP/1.1 {} Mock\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{}",
        answer.status,
        answer.body.len(),
        answer.body
    )
}
