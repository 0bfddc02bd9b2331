//! The BTF header: byte order from the magic, 24-byte base header, optional layout section.

use crate::error::{Error, Result};

/// BTF magic as a native u16.
pub(crate) const MAGIC: u16 = 0xeb9f;
/// Size of the classic header.
pub(crate) const BASE_HEADER_LEN: usize = 24;
/// Size of the header with the layout section fields.
pub(crate) const LAYOUT_HEADER_LEN: usize = 32;

/// Byte order of a BTF blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Little-endian (x86_64, arm64, bpfel objects).
    Little,
    /// Big-endian (s390x, bpfeb objects).
    Big,
}

impl Endian {
    /// Detects the byte order from the first two bytes (the magic), if they are a BTF magic.
    pub fn detect(data: &[u8]) -> Option<Endian> {
        match data.get(..2)? {
            [0x9f, 0xeb] => Some(Endian::Little),
            [0xeb, 0x9f] => Some(Endian::Big),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }
}

/// Reads a u32 at `off` in the given byte order.
pub(crate) fn read_u32(data: &[u8], off: usize, endian: Endian, what: &'static str) -> Result<u32> {
    let bytes = off
        .checked_add(4)
        .and_then(|end| data.get(off..end))
        .ok_or(Error::Truncated {
            what,
            offset: off,
            need: 4,
            have: data.len().saturating_sub(off),
        })?;
    let mut b = [0u8; 4];
    b.copy_from_slice(bytes);
    Ok(endian.u32(b))
}

/// Byte ranges (absolute, within the input) of a BTF blob's sections.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub endian: Endian,
    pub types: std::ops::Range<usize>,
    pub strings: std::ops::Range<usize>,
    pub layout: Option<std::ops::Range<usize>>,
}

fn section(
    data_len: usize,
    hdr_len: usize,
    off: u32,
    len: u32,
    name: &str,
) -> Result<std::ops::Range<usize>> {
    let start = hdr_len + off as usize;
    let end = start + len as usize; // cannot overflow: both < 2^32 on 64-bit
    if end > data_len {
        return Err(Error::BadLayout(format!(
            "{name} section [{start}, {end}) extends past the end of the data ({data_len} bytes)"
        )));
    }
    Ok(start..end)
}

impl Header {
    /// Parses and checks the header of a raw BTF blob.
    pub(crate) fn parse(data: &[u8]) -> Result<Header> {
        if data.len() < BASE_HEADER_LEN {
            return Err(Error::Truncated {
                what: "BTF header",
                offset: 0,
                need: BASE_HEADER_LEN,
                have: data.len(),
            });
        }
        let endian = Endian::detect(data).ok_or_else(|| {
            Error::BadHeader(format!(
                "bad magic {:02x} {:02x} (expected 9f eb or eb 9f)",
                data[0], data[1]
            ))
        })?;
        if data[2] != 1 {
            return Err(Error::BadHeader(format!(
                "unsupported version {} (expected 1)",
                data[2]
            )));
        }
        let r = |off| read_u32(data, off, endian, "BTF header");
        let hdr_len = r(4)? as usize;
        if hdr_len < BASE_HEADER_LEN || hdr_len > data.len() {
            return Err(Error::BadHeader(format!(
                "header length {hdr_len} is outside [{BASE_HEADER_LEN}, {}]",
                data.len()
            )));
        }
        let (type_off, type_len, str_off, str_len) = (r(8)?, r(12)?, r(16)?, r(20)?);
        if type_off % 4 != 0 || type_len % 4 != 0 {
            return Err(Error::BadLayout(format!(
                "type section offset {type_off} / length {type_len} not 4-byte aligned"
            )));
        }
        let types = section(data.len(), hdr_len, type_off, type_len, "type")?;
        let strings = section(data.len(), hdr_len, str_off, str_len, "string")?;
        if types.end > strings.start {
            return Err(Error::BadLayout(format!(
                "type section [{}, {}) overlaps or follows the string section at {}",
                types.start, types.end, strings.start
            )));
        }
        let layout = if hdr_len >= LAYOUT_HEADER_LEN {
            let (off, len) = (r(24)?, r(28)?);
            if len == 0 {
                None
            } else {
                if len % 4 != 0 {
                    return Err(Error::BadLayout(format!(
                        "layout section length {len} is not a multiple of 4"
                    )));
                }
                let range = section(data.len(), hdr_len, off, len, "layout")?;
                if range.start < types.end && types.start < range.end
                    || range.start < strings.end && strings.start < range.end
                {
                    return Err(Error::BadLayout(format!(
                        "layout section [{}, {}) overlaps the type or string section",
                        range.start, range.end
                    )));
                }
                Some(range)
            }
        } else {
            None
        };
        Ok(Header {
            endian,
            types,
            strings,
            layout,
        })
    }
}

/// Writes a 24-byte little-endian header for the given section lengths.
pub(crate) fn write_header(out: &mut Vec<u8>, type_len: u32, str_len: u32) {
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.push(1); // version
    out.push(0); // flags
    for v in [BASE_HEADER_LEN as u32, 0, type_len, type_len, str_len] {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_short_and_bad_magic() {
        assert!(matches!(
            Header::parse(&[0; 10]),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(Header::parse(&[0; 24]), Err(Error::BadHeader(_))));
    }

    #[test]
    fn parses_written_header() {
        let mut v = Vec::new();
        write_header(&mut v, 0, 1);
        v.push(0);
        let h = Header::parse(&v).unwrap();
        assert_eq!(h.endian, Endian::Little);
        assert_eq!(h.strings, 24..25);
        assert!(h.layout.is_none());
    }

    #[test]
    fn rejects_section_past_end() {
        let mut v = Vec::new();
        write_header(&mut v, 0, 100);
        assert!(matches!(Header::parse(&v), Err(Error::BadLayout(_))));
    }
}
