//! At most N holders at once: the repositories an audit scans together, while more workers
//! than that wait on networks (a remote's refs) or take the datastore's answer, which costs
//! no scanning.

use std::sync::{Condvar, Mutex};

/// A fixed number of slots, taken and given back.
#[derive(Debug)]
pub(super) struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

/// A slot held; given back when dropped.
#[derive(Debug)]
pub(super) struct Slot<'a>(&'a Slots);

impl Slots {
    /// `count` slots (at least one).
    pub(super) fn new(count: usize) -> Self {
        Slots { free: Mutex::new(count.max(1)), freed: Condvar::new() }
    }

    /// A slot, once one is free.
    pub(super) fn take(&self) -> Slot<'_> {
        let free = self.free.lock().expect("no holder panics while holding the lock");
        let mut free = self.freed.wait_while(free, |free| *free == 0).expect("no holder panics while waiting");
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().expect("no holder panics while holding the lock") += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn no_more_than_the_count_hold_a_slot_at_once() {
        let slots = Slots::new(2);
        let (holding, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        let _slot = slots.take();
                        let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        holding.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(*slots.free.lock().unwrap(), 2, "every slot given back");
    }
}
