//! Starting threads. A process or memory limit can make the operating system refuse a new
//! thread; that is an error the command reports (exit 2), never a panic, and never a thread
//! pool left waiting for a worker that does not exist.

use std::thread::{Scope, ScopedJoinHandle};

use crate::error::{Error, Result};

/// A pool of `count` worker threads.
pub fn pool(count: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new().num_threads(count).build().map_err(|e| Error::Threads {
        what: crate::wording::count(count, "worker thread", "worker threads"),
        reason: e.to_string(),
    })
}

/// Runs `work` on a new thread of `scope`; `what` names the thread in the error.
pub fn spawn_scoped<'scope, T: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    what: &str,
    work: impl FnOnce() -> T + Send + 'scope,
) -> Result<ScopedJoinHandle<'scope, T>> {
    std::thread::Builder::new()
        .spawn_scoped(scope, work)
        .map_err(|e| Error::Threads { what: what.to_string(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_start_and_report_their_work() {
        assert_eq!(pool(2).unwrap().install(rayon::current_num_threads), 2);
        let answer = std::thread::scope(|scope| spawn_scoped(scope, "a thread", || 42).unwrap().join().unwrap());
        assert_eq!(answer, 42);
    }
}
