//! An HTTP/1.1 stand-in on 127.0.0.1 for the providers' APIs: every request is recorded whole
//! (method, path and query, headers, body) and answered by the test's handler, and the peak
//! number of connections open at once is counted. Each answer closes its connection, so
//! connections are requests. The scripted providers of `--verify` tests and the administration
//! APIs of `respond` tests are handlers on it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long a hanging answer stalls before closing: longer than any test's client timeout,
/// short enough that no thread outlives the tests by much.
const HANG: Duration = Duration::from_secs(3);

/// A request the mock received.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, `DELETE`.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Every header, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Request {
    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }
}

/// An answer: status, JSON body, extra headers; or none at all.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
    hang: bool,
}

impl Reply {
    /// A JSON answer (`body`: a `serde_json::Value` or the text of one).
    pub fn json(status: u16, body: impl std::fmt::Display) -> Self {
        Reply { status, body: body.to_string(), headers: Vec::new(), hang: false }
    }

    /// No answer at all until well after the client gave up.
    pub fn hang() -> Self {
        Reply { hang: true, ..Reply::json(200, "{}") }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// The running mock; dropping it stops accepting connections.
pub struct Mock {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// What the connection threads share.
struct Shared {
    handler: Box<Handler>,
    requests: Mutex<Vec<Request>>,
    active: AtomicUsize,
    peak: AtomicUsize,
    stop: AtomicBool,
}

impl Mock {
    /// Starts a mock answering each request with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
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
        Mock { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The most connections that were open at once.
    pub fn peak_connections(&self) -> usize {
        self.shared.peak.load(Ordering::SeqCst)
    }
}

impl Drop for Mock {
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
        let _ = stream.write_all(render(&reply).as_bytes());
    }
}

/// Records `request`, then asks the handler (which may take its time); `None` after a hang.
fn reply_to(request: Request, shared: &Shared) -> Option<Reply> {
    shared.requests.lock().unwrap().push(request.clone());
    let reply = (shared.handler)(&request);
    if reply.hang {
        thread::sleep(HANG);
        return None;
    }
    Some(reply)
}

fn render(reply: &Reply) -> String {
    let extra: String = reply.headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    format!(
        "HTTP/1.1 {} Mock\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{}",
        reply.status,
        reply.body.len(),
        reply.body
    )
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let Some((name, value)) = line.trim_end().split_once(':') else { break };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, target, headers, body: String::from_utf8_lossy(&body).into_owned() })
}
