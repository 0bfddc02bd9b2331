//! String sections: a validated reader and a deduplicating builder.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Largest string offset BTF allows (`BTF_MAX_NAME_OFFSET`).
pub(crate) const MAX_STR_OFFSET: usize = 0x00ff_ffff;

/// Checks a string section: empty, or starting and ending with NUL.
///
/// After this check every offset `< len` names a NUL-terminated string.
pub(crate) fn validate(strings: &[u8]) -> Result<()> {
    match (strings.first(), strings.last()) {
        (None, _) => Ok(()),
        (Some(0), Some(0)) => {
            if strings.len() > MAX_STR_OFFSET + 1 {
                return Err(Error::BadStrings(format!(
                    "{} bytes exceed the BTF limit of {} bytes",
                    strings.len(),
                    MAX_STR_OFFSET + 1
                )));
            }
            Ok(())
        }
        (Some(_), Some(0)) => Err(Error::BadStrings(
            "the first string is not empty (offset 0 must be \"\")".into(),
        )),
        _ => Err(Error::BadStrings(
            "the last string is not NUL-terminated".into(),
        )),
    }
}

/// The bytes of the string at `off` (without the NUL); empty for out-of-range offsets.
#[inline]
pub(crate) fn bytes_at(strings: &[u8], off: u32) -> &[u8] {
    let tail = strings.get(off as usize..).unwrap_or(&[]);
    let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
    &tail[..end]
}

/// The string at `off` as `&str`; invalid UTF-8 shows as `"?"`.
#[inline]
pub(crate) fn str_at(strings: &[u8], off: u32) -> &str {
    std::str::from_utf8(bytes_at(strings, off)).unwrap_or("?")
}

/// Deduplicating string section builder; `""` is always at offset 0.
#[derive(Debug, Clone)]
pub struct StringsBuilder {
    data: Vec<u8>,
    index: HashMap<Box<[u8]>, u32>,
}

impl Default for StringsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl StringsBuilder {
    /// An empty section holding only `""`.
    pub fn new() -> Self {
        StringsBuilder {
            data: vec![0],
            index: HashMap::new(),
        }
    }

    /// Adds a string (or finds it) and returns its offset. `""` is offset 0.
    ///
    /// Bytes after an embedded NUL are dropped, since BTF strings cannot contain NUL.
    pub fn add(&mut self, s: &[u8]) -> u32 {
        let s = s.split(|&b| b == 0).next().unwrap_or(&[]);
        if s.is_empty() {
            return 0;
        }
        if let Some(&off) = self.index.get(s) {
            return off;
        }
        let off = self.data.len() as u32;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.index.insert(s.into(), off);
        off
    }

    /// Current size of the section in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True if only `""` is present.
    pub fn is_empty(&self) -> bool {
        self.data.len() == 1
    }

    /// The section bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_dedups_and_keeps_empty_at_zero() {
        let mut b = StringsBuilder::new();
        assert_eq!(b.add(b""), 0);
        let a = b.add(b"abc");
        assert_eq!(a, 1);
        assert_eq!(b.add(b"abc"), a);
        assert_eq!(b.add(b"de"), 5);
        assert_eq!(b.as_bytes(), b"\0abc\0de\0");
        assert_eq!(str_at(b.as_bytes(), 5), "de");
        assert_eq!(str_at(b.as_bytes(), 99), "");
    }

    #[test]
    fn validate_rejects_bad_sections() {
        assert!(validate(b"").is_ok());
        assert!(validate(b"\0a\0").is_ok());
        assert!(validate(b"a\0").is_err());
        assert!(validate(b"\0a").is_err());
    }
}
