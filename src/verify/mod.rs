//! Opt-in live verification (`--verify`): asks each distinct secret's provider whether the
//! key still works, with a read-only call that costs nothing, and records the answer per
//! fingerprint, and gives the order to list the findings in: live keys first.
//!
//! Safety: requests go only to the provider's fixed HTTPS host unless an explicit override
//! says otherwise ([`options`]); at most [`VerifyOptions::concurrency`] keys are checked at
//! once, with per-host concurrency and spacing ([`limit`]); every request has a timeout;
//! transient failures (429 rate limits, 5xx, timeouts) are retried a bounded number of times
//! with exponential backoff and then reported `unknown`. The key is sent in a header only and
//! never written to a log, an error or a report detail.
//!
//! Never on by default, never from a config file, and refused by `staged` and the hooks.

mod classify;
pub(crate) mod limit;
pub(crate) mod options;
pub(crate) mod probe;
pub(crate) mod providers;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

pub(crate) use options::VerifyOptions;

use crate::finding::Finding;
use classify::Verdict;
use limit::HostLimits;
use probe::Client;
use providers::Check;

/// What the provider said about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum State {
    /// The key works: revoke it now.
    Live,
    /// The provider recognised the key but refused this call (IP allow-list, missing
    /// permission): it is live, revoke it.
    Restricted,
    /// The key is live but its account has no credit left: revoke it before credit is added.
    OutOfCredit,
    /// Rejected as invalid: revoked, or never a real key.
    Invalid,
    /// No answer after the retries, or an answer that says nothing about the key.
    Unknown,
    /// keyhound cannot check this rule's secrets.
    Unsupported,
}

impl State {
    /// True when the key works, even if restricted or out of credit.
    pub(crate) fn is_live(self) -> bool {
        matches!(self, State::Live | State::Restricted | State::OutOfCredit)
    }

    /// The wire name (`out-of-credit`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Live => "live",
            State::Restricted => "restricted",
            State::OutOfCredit => "out-of-credit",
            State::Invalid => "invalid",
            State::Unknown => "unknown",
            State::Unsupported => "unsupported",
        }
    }
}

/// The verification of one distinct secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Verification {
    /// What the provider said.
    pub state: State,
    /// The provider asked (`null` when unsupported).
    pub provider: Option<&'static str>,
    /// Why: the HTTP status and error code, or the transport failure. Never provider text.
    pub detail: String,
}

/// Verifications by finding fingerprint.
pub(crate) type Verifications = BTreeMap<String, Verification>;

/// What verifying a list of findings found out.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The providers' answers.
    pub verifications: Verifications,
    /// The order to report the findings in, as indexes into them: live keys first, the rest
    /// in their order.
    pub live_first: Vec<usize>,
}

/// Verifies every distinct secret of `findings`, which it leaves as they are, and says in
/// which order to report them.
pub(crate) fn verify(findings: &[Finding], options: &VerifyOptions) -> Verified {
    let verifications = verify_findings(findings, options);
    let is_live = |finding: &Finding| verifications.get(&finding.fingerprint).is_some_and(|v| v.state.is_live());
    let mut live_first: Vec<usize> = (0..findings.len()).collect();
    live_first.sort_by_key(|&index| !is_live(&findings[index]));
    Verified { verifications, live_first }
}

/// Verifies each distinct secret (by fingerprint) once, however many findings hold it.
pub(crate) fn verify_findings(findings: &[Finding], options: &VerifyOptions) -> Verifications {
    let mut distinct: BTreeMap<&str, &Finding> = BTreeMap::new();
    for finding in findings {
        distinct.entry(&finding.fingerprint).or_insert(finding);
    }
    let mut verifications = Verifications::new();
    let mut jobs = Vec::new();
    for (fingerprint, finding) in distinct {
        match providers::check_for(&finding.rule_id) {
            Some(check) => jobs.push(Job { fingerprint, check, secret: &finding.secret }),
            None => {
                let detail = format!("no verifier for rule {}", finding.rule_id);
                verifications.insert(
                    fingerprint.to_string(),
                    Verification { state: State::Unsupported, provider: None, detail },
                );
            }
        }
    }
    let results = run_jobs(&jobs, options);
    verifications.extend(jobs.iter().zip(results).map(|(job, result)| (job.fingerprint.to_string(), result)));
    verifications
}

/// One distinct secret to check.
struct Job<'a> {
    fingerprint: &'a str,
    check: &'static Check,
    secret: &'a str,
}

/// Runs the jobs on at most `options.concurrency` threads, this one included; results in job
/// order.
fn run_jobs(jobs: &[Job], options: &VerifyOptions) -> Vec<Verification> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let client = Client::new(options.timeout);
    let limits = HostLimits::new(options.per_host, options.per_host_interval);
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![None; jobs.len()]);
    let work = || {
        let mut index = next.fetch_add(1, Ordering::Relaxed);
        while let Some(job) = jobs.get(index) {
            let verification = check_with_retries(job, &client, &limits, options);
            results.lock().expect("no thread panics while holding the lock")[index] = Some(verification);
            index = next.fetch_add(1, Ordering::Relaxed);
        }
    };
    std::thread::scope(|scope| {
        // The calling thread works too, so a thread the system refuses only means fewer
        // checks at once, never a job left undone.
        for _ in 1..options.concurrency.clamp(1, jobs.len()) {
            if std::thread::Builder::new().spawn_scoped(scope, work).is_err() {
                break;
            }
        }
        work();
    });
    let results = results.into_inner().expect("worker threads have finished");
    results.into_iter().map(|result| result.expect("every job ran")).collect()
}

/// Asks about one key, retrying transient failures with backoff.
fn check_with_retries(job: &Job, client: &Client, limits: &HostLimits, options: &VerifyOptions) -> Verification {
    let provider = job.check.provider;
    let base = options.base_url_for(provider);
    let answer = retrying(options, limits, base.origin(), || match client.probe(job.check, &base, job.secret) {
        Verdict::Final(state, detail) => Attempt::Done((state, detail)),
        Verdict::Retry(reason, retry_after) => Attempt::Retry(reason, retry_after),
    });
    let (state, detail) = answer.unwrap_or_else(|detail| (State::Unknown, detail));
    Verification { state, provider: Some(provider.name), detail }
}

/// What one attempt of a request came to, for [`retrying`].
pub(crate) enum Attempt<T> {
    /// An answer worth keeping.
    Done(T),
    /// A transient failure (why, and the least pause the server asked for).
    Retry(String, Option<Duration>),
}

/// Makes up to `options.attempts` attempts, each holding a permit for `origin`, pausing
/// with backoff between them; after the last failure, says why and that it gave up.
pub(crate) fn retrying<T>(
    options: &VerifyOptions,
    limits: &HostLimits,
    origin: &str,
    mut attempt: impl FnMut() -> Attempt<T>,
) -> Result<T, String> {
    let attempts = options.attempts.max(1);
    let mut last = String::new();
    for number in 1..=attempts {
        let outcome = {
            let _permit = limits.acquire(origin);
            attempt()
        };
        match outcome {
            Attempt::Done(value) => return Ok(value),
            Attempt::Retry(reason, retry_after) => {
                last = reason;
                if number < attempts {
                    std::thread::sleep(options.backoff_after(number, retry_after));
                }
            }
        }
    }
    Err(format!("{last} (gave up after {attempts} attempts)"))
}

/// Counts of distinct secrets by state, in [`State`] order.
pub(crate) fn tally(verifications: &Verifications) -> BTreeMap<State, usize> {
    let mut counts = BTreeMap::new();
    for verification in verifications.values() {
        *counts.entry(verification.state).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests;
