//! Each thread's last few answers, reused while nothing they show changes.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;

use http::HeaderValue;

use super::Problem;
use super::facts::{Facts, Held, Scalars};
use super::json::{header_number, write_body};

/// How many answers each thread keeps.
pub(super) const KEPT: usize = 4;

/// One answer: its facts, body text and `Retry-After`, and what a caller
/// of [`into_response_with`](Shed::into_response_with) made of the text.
pub(super) struct Entry {
    pub(super) feature: Option<String>,
    pub(super) dependency: Option<String>,
    pub(super) scalars: Scalars,
    pub(super) body: String,
    pub(super) retry_after: Option<HeaderValue>,
    pub(super) made: Option<Box<dyn Any>>,
}

impl Entry {
    /// An answer for `facts`, sized for the usual one.
    pub(super) fn new(facts: &Facts<'_>, detail: &dyn fmt::Display) -> Self {
        let names = facts.feature.map_or(0, str::len) + facts.dependency.map_or(0, str::len);
        let mut entry = Entry {
            feature: None,
            dependency: None,
            scalars: facts.scalars,
            body: String::with_capacity(384 + 3 * names),
            retry_after: None,
            made: None,
        };
        entry.refill(facts, detail);
        entry
    }

    /// Whether this entry answers for the same feature or dependency (what
    /// changes over time are the scalars: the level, the reason, the retry time).
    pub(super) fn same_names(&self, facts: &Facts<'_>) -> bool {
        self.scalars.kind == facts.scalars.kind
            && self.feature.as_deref() == facts.feature
            && self.dependency.as_deref() == facts.dependency
    }

    /// Rewrites the entry for `facts`, reusing its buffers.
    pub(super) fn refill(&mut self, facts: &Facts<'_>, detail: &dyn fmt::Display) {
        if self.feature.as_deref() != facts.feature {
            refill_name(&mut self.feature, facts.feature);
        }
        if self.dependency.as_deref() != facts.dependency {
            refill_name(&mut self.dependency, facts.dependency);
        }
        self.scalars = facts.scalars;
        self.body.clear();
        write_body(&mut self.body, facts, detail);
        self.retry_after = facts.scalars.retry_after.map(header_number);
        self.made = None;
    }

    /// What `make` makes of the body text: kept with the entry, and cloned
    /// while the text stays the same.
    pub(super) fn made<B: Clone + 'static>(&mut self, make: impl FnOnce(&str) -> B) -> B {
        if let Some(made) = self.made.as_deref().and_then(<dyn Any>::downcast_ref::<B>) {
            return made.clone();
        }
        let made = make(&self.body);
        self.made = Some(Box::new(made.clone()));
        made
    }
}

pub(super) fn refill_name(slot: &mut Option<String>, name: Option<&str>) {
    match (slot.as_mut(), name) {
        (Some(kept), Some(name)) => {
            kept.clear();
            kept.push_str(name);
        }
        (_, name) => *slot = name.map(str::to_owned),
    }
}

/// The answers this thread wrote last.
pub(super) struct Cache {
    pub(super) entries: Vec<Entry>,
    /// The entry that answered last, looked at first.
    pub(super) last: usize,
    /// The entry to replace next when none has the same names.
    pub(super) next: usize,
}

impl Cache {
    /// The kept answer for `facts`, brought up to date if its scalars
    /// changed; else a fresh one in place of the oldest.
    pub(super) fn entry(&mut self, facts: &Facts<'_>, detail: &dyn fmt::Display) -> &mut Entry {
        let found = match self.entries.get(self.last) {
            Some(last) if last.same_names(facts) => Some(self.last),
            _ => self.entries.iter().position(|e| e.same_names(facts)),
        };
        let i = match found {
            Some(i) => {
                if self.entries[i].scalars != facts.scalars {
                    self.entries[i].refill(facts, detail);
                }
                i
            }
            None if self.entries.len() < KEPT => {
                self.entries.push(Entry::new(facts, detail));
                self.entries.len() - 1
            }
            None => {
                let i = self.next;
                self.next = (i + 1) % KEPT;
                self.entries[i].refill(facts, detail);
                i
            }
        };
        self.last = i;
        &mut self.entries[i]
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache {
            entries: Vec::new(),
            last: 0,
            next: 0,
        })
    };
}

/// Calls `f` with the answer to `problem`: this thread's kept one, or a
/// fresh one (for a reason this version does not know, or while the thread
/// is being torn down).
pub(super) fn with_answer<P: Problem, R>(problem: &P, f: impl FnOnce(&mut Entry) -> R) -> R {
    let facts = problem.facts();
    // `try_with` first: `with` cannot fail once it has answered on this thread.
    if facts.scalars.held_off != Some(Held::Other) && CACHE.try_with(|_| ()).is_ok() {
        return CACHE.with(|cache| match cache.try_borrow_mut() {
            Ok(mut cache) => f(cache.entry(&facts, problem)),
            Err(_) => f(&mut Entry::new(&facts, problem)),
        });
    }
    f(&mut Entry::new(&facts, problem))
}
