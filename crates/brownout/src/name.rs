//! Dependency names that travel by value: inline when short, shared when long.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// The longest name kept inline (no allocation, no reference count).
const INLINE: usize = 15;

/// A dependency's name, cheap to clone and to carry in a rejection.
///
/// Names up to 15 bytes live inline, so copying one on the rejection path
/// touches no reference count; longer names share one allocation. Nothing
/// is interned: a name lives exactly as long as the breakers and values that
/// hold it.
///
/// ```
/// use brownout::DependencyName;
///
/// let name = DependencyName::new("database");
/// assert_eq!(&*name, "database");
/// assert_eq!(name.to_string(), "database");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DependencyName(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Inline(Inline),
    /// A thin pointer, so that both variants are one 16-byte payload.
    Shared(Arc<String>),
}

/// A short name's bytes, 8-byte aligned so that copies move whole words
/// (byte-wise copies of a returned rejection stall the load that reads it).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, align(8))]
struct Inline {
    bytes: [u8; INLINE],
    len: u8,
}

impl DependencyName {
    /// A name holding a copy of `name`.
    #[must_use]
    pub fn new(name: &str) -> Self {
        if name.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..name.len()].copy_from_slice(name.as_bytes());
            // Fits: len <= 15.
            let len = name.len() as u8;
            DependencyName(Repr::Inline(Inline { bytes, len }))
        } else {
            DependencyName(Repr::Shared(Arc::new(name.to_owned())))
        }
    }

    /// The name as a string slice.
    #[inline]
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(inline) => {
                // Built from a `&str` cut at its full length: always UTF-8.
                std::str::from_utf8(&inline.bytes[..usize::from(inline.len)]).unwrap_or_default()
            }
            Repr::Shared(name) => name,
        }
    }
}

impl Deref for DependencyName {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for DependencyName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for DependencyName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for DependencyName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for DependencyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for DependencyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for DependencyName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_inline_long_names_shared() {
        let short = DependencyName::new("openai");
        assert!(matches!(short.0, Repr::Inline(_)));
        assert_eq!(short, "openai");
        let edge = DependencyName::new("fifteen-bytes!!");
        assert_eq!(edge.len(), 15);
        assert!(matches!(edge.0, Repr::Inline(_)));
        let long = DependencyName::new("api.payments.eu-west-1.example.com:443");
        assert!(matches!(long.0, Repr::Shared(_)));
        assert_eq!(&*long, "api.payments.eu-west-1.example.com:443");
        let multibyte = DependencyName::new("データベース");
        assert_eq!(&*multibyte, "データベース");
        assert!(std::mem::size_of::<DependencyName>() <= 24);
    }
}
