//! Interned dependency names, so a rejection can carry the name by copy.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The `'static` copy of `name` behind a thin pointer, leaked once per
/// distinct name in the process.
///
/// Dependency names are few and live as long as the service; interning lets
/// [`Rejected`](crate::Rejected) be `Copy`, small (a thin pointer instead of
/// a `&str`), and built without touching a reference count on the rejection
/// path.
pub(crate) fn intern(name: &str) -> &'static &'static str {
    static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static &'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let thin: &'static &'static str = Box::leak(Box::new(leaked));
    names.insert(leaked, thin);
    thin
}

#[cfg(test)]
mod tests {
    #[test]
    fn interns_once() {
        let a = super::intern("database");
        let b = super::intern(&String::from("database"));
        assert!(std::ptr::eq(a, b));
        assert_eq!(*a, "database");
    }
}
