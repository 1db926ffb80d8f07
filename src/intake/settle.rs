//! "Has this file stopped changing?": a pure tracker of each inbox file's size and modification
//! time, driven by a clock the caller passes in (so tests need no sleeps).
//!
//! A file is settled once the same size and mtime have been seen for the settle time. It says
//! nothing about whether the file is complete; that is a look at its content.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// What a file looked like at one look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub size: u64,
    pub mtime: SystemTime,
}

#[derive(Debug, Clone)]
struct Entry {
    look: Look,
    /// When the file was first seen looking like this.
    since: Instant,
    /// When the file was first found settled but incomplete, if it was.
    incomplete_since: Option<Instant>,
}

#[derive(Debug, Clone)]
pub struct SettleTracker {
    settle: Duration,
    entries: HashMap<PathBuf, Entry>,
}

impl SettleTracker {
    pub fn new(settle: Duration) -> SettleTracker {
        SettleTracker {
            settle,
            entries: HashMap::new(),
        }
    }

    /// Records a look at `path`; true once it has looked the same for the settle time.
    pub fn settled(&mut self, path: &Path, look: Look, now: Instant) -> bool {
        match self.entries.get_mut(path) {
            Some(entry) if entry.look == look => now.duration_since(entry.since) >= self.settle,
            Some(entry) => {
                *entry = Entry {
                    look,
                    since: now,
                    incomplete_since: None,
                };
                false
            }
            None => {
                self.entries.insert(
                    path.to_path_buf(),
                    Entry {
                        look,
                        since: now,
                        incomplete_since: None,
                    },
                );
                self.settle.is_zero()
            }
        }
    }

    /// Notes that a settled file is structurally incomplete; returns how long it has been so.
    pub fn incomplete_for(&mut self, path: &Path, now: Instant) -> Duration {
        match self.entries.get_mut(path) {
            Some(entry) => now.duration_since(*entry.incomplete_since.get_or_insert(now)),
            None => Duration::ZERO,
        }
    }

    pub fn forget(&mut self, path: &Path) {
        self.entries.remove(path);
    }

    pub fn is_tracking(&self, path: &Path) -> bool {
        self.entries.contains_key(path)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(size: u64, secs: u64) -> Look {
        Look {
            size,
            mtime: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    #[test]
    fn settles_after_the_same_look_for_the_settle_time() {
        let start = Instant::now();
        let mut tracker = SettleTracker::new(Duration::from_millis(500));
        let path = Path::new("in/a.pdf");
        assert!(!tracker.settled(path, look(10, 1), start));
        assert!(!tracker.settled(path, look(10, 1), start + Duration::from_millis(400)));
        assert!(tracker.settled(path, look(10, 1), start + Duration::from_millis(500)));
    }

    #[test]
    fn any_change_starts_the_wait_again() {
        let start = Instant::now();
        let mut tracker = SettleTracker::new(Duration::from_millis(500));
        let path = Path::new("in/a.pdf");
        tracker.settled(path, look(10, 1), start);
        // A writer that paused longer than an event batch, then wrote more.
        assert!(!tracker.settled(path, look(20, 1), start + Duration::from_millis(450)));
        assert!(!tracker.settled(path, look(20, 2), start + Duration::from_millis(900)));
        assert!(tracker.settled(path, look(20, 2), start + Duration::from_millis(1400)));
    }

    #[test]
    fn counts_how_long_a_settled_file_stays_incomplete() {
        let start = Instant::now();
        let mut tracker = SettleTracker::new(Duration::ZERO);
        let path = Path::new("in/cut.pdf");
        assert!(tracker.settled(path, look(5, 1), start));
        assert_eq!(tracker.incomplete_for(path, start), Duration::ZERO);
        assert_eq!(
            tracker.incomplete_for(path, start + Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        // It grew: the writer was only slow.
        tracker.settled(path, look(9, 2), start + Duration::from_secs(4));
        assert_eq!(
            tracker.incomplete_for(path, start + Duration::from_secs(5)),
            Duration::ZERO
        );
        tracker.forget(path);
        assert!(!tracker.is_tracking(path));
    }
}
