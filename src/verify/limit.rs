//! Politeness per host: at most N requests in flight to one origin, and request starts
//! spaced at least an interval apart, whatever the number of worker threads.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Concurrency and rate limits, shared by all workers.
#[derive(Debug)]
pub(crate) struct HostLimits {
    per_host: usize,
    interval: Duration,
    hosts: Mutex<HashMap<String, Slot>>,
    released: Condvar,
}

#[derive(Debug)]
struct Slot {
    active: usize,
    next_start: Instant,
}

/// Leave to send one request to a host; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    limits: &'a HostLimits,
    host: String,
}

impl HostLimits {
    /// At most `per_host` (at least 1) requests at once per host, starts `interval` apart.
    pub(crate) fn new(per_host: usize, interval: Duration) -> Self {
        HostLimits { per_host: per_host.max(1), interval, hosts: Mutex::default(), released: Condvar::new() }
    }

    /// Waits for a free place and for the host's next start time.
    pub(crate) fn acquire(&self, host: &str) -> Permit<'_> {
        let mut hosts = self.hosts.lock().expect("no thread panics while holding the lock");
        while hosts.get(host).is_some_and(|slot| slot.active >= self.per_host) {
            hosts = self.released.wait(hosts).expect("no thread panics while holding the lock");
        }
        let now = Instant::now();
        let slot = hosts.entry(host.to_string()).or_insert(Slot { active: 0, next_start: now });
        let start = slot.next_start.max(now);
        slot.next_start = start + self.interval;
        slot.active += 1;
        drop(hosts);
        std::thread::sleep(start - now);
        Permit { limits: self, host: host.to_string() }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut hosts = self.limits.hosts.lock().expect("no thread panics while holding the lock");
        if let Some(slot) = hosts.get_mut(&self.host) {
            slot.active -= 1;
        }
        self.limits.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn never_more_than_the_limit_in_flight_and_starts_are_spaced() {
        let limits = HostLimits::new(2, Duration::from_millis(5));
        let (active, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..6 {
                scope.spawn(|| {
                    let _permit = limits.acquire("a");
                    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    active.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        // Six starts 5 ms apart take at least 25 ms, whatever the scheduling.
        assert!(started.elapsed() >= Duration::from_millis(25));
    }

    #[test]
    fn hosts_do_not_wait_for_each_other() {
        let limits = HostLimits::new(1, Duration::ZERO);
        let _a = limits.acquire("a");
        let _b = limits.acquire("b");
    }
}
