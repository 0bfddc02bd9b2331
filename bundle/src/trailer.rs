//! The 64-byte trailer at the end of a packed tool (FORMAT.md §1.1).
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 32 | `payload_sha256` |
//! | 32 | 8 | `payload_offset` (LE) |
//! | 40 | 8 | `payload_len` (LE) |
//! | 48 | 4 | `format_version` (LE, `2`; readers accept `1` too) |
//! | 52 | 4 | `trailer_len` (LE, `64`) |
//! | 56 | 8 | magic `BPFCOMPT` |

use std::io::{self, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

/// Size of the trailer in bytes.
pub const TRAILER_LEN: usize = 64;
/// The trailer's last eight bytes.
pub const MAGIC: [u8; 8] = *b"BPFCOMPT";
/// The format version this crate writes (2: the tool layout of FORMAT.md §2).
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this crate still reads (1: the package layout
/// embedded as it is).
pub const OLDEST_READABLE_VERSION: u32 = 1;

/// Why a trailer or the payload it describes is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrailerError {
    /// The file has no trailer (shorter than 64 bytes or no magic).
    #[error(
        "no payload: the file has no bpf-compatible trailer (was it stripped or rewritten by strip/objcopy? rebuild it with packer build)"
    )]
    NoPayload,
    /// The trailer names a format version this reader does not know.
    #[error(
        "payload format version {found} is not supported (this build reads versions 1 to {supported}); use a launcher and packer from the same release"
    )]
    UnknownVersion {
        /// The version in the trailer.
        found: u32,
        /// The newest version this reader supports.
        supported: u32,
    },
    /// The trailer's `trailer_len` field is not 64.
    #[error("corrupt trailer: trailer_len is {0}, expected 64")]
    BadTrailerLen(u32),
    /// Offset + length + 64 does not equal the file size.
    #[error(
        "payload truncated or corrupt: trailer says payload at offset {payload_offset} with {payload_len} bytes, but the file has {file_len} bytes (expected {expected}); the file was probably cut short or modified, copy or rebuild it"
    )]
    Truncated {
        /// The trailer's `payload_offset`.
        payload_offset: u64,
        /// The trailer's `payload_len`.
        payload_len: u64,
        /// The actual file size.
        file_len: u64,
        /// What the file size should be (saturated on overflow).
        expected: u64,
    },
    /// The payload's SHA-256 differs from the trailer's.
    #[error(
        "payload corrupt: SHA-256 is {actual} but the trailer says {expected}; the file was modified after packing, copy or rebuild it"
    )]
    ChecksumMismatch {
        /// Hex SHA-256 from the trailer.
        expected: String,
        /// Hex SHA-256 of the payload bytes.
        actual: String,
    },
    /// Reading the file failed.
    #[error("cannot read payload: {0}")]
    Io(#[from] io::Error),
}

/// A decoded trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    /// SHA-256 of the payload bytes.
    pub payload_sha256: [u8; 32],
    /// Byte offset of the payload from the start of the file.
    pub payload_offset: u64,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// Format version (`1`).
    pub format_version: u32,
}

impl Trailer {
    /// The trailer for `payload` placed at `payload_offset`.
    pub fn for_payload(payload_offset: u64, payload: &[u8]) -> Trailer {
        Trailer {
            payload_sha256: Sha256::digest(payload).into(),
            payload_offset,
            payload_len: payload.len() as u64,
            format_version: FORMAT_VERSION,
        }
    }

    /// The trailer's 64 bytes.
    pub fn to_bytes(&self) -> [u8; TRAILER_LEN] {
        let mut out = [0u8; TRAILER_LEN];
        out[0..32].copy_from_slice(&self.payload_sha256);
        out[32..40].copy_from_slice(&self.payload_offset.to_le_bytes());
        out[40..48].copy_from_slice(&self.payload_len.to_le_bytes());
        out[48..52].copy_from_slice(&self.format_version.to_le_bytes());
        out[52..56].copy_from_slice(&(TRAILER_LEN as u32).to_le_bytes());
        out[56..64].copy_from_slice(&MAGIC);
        out
    }

    /// Decodes the last 64 bytes of a file; `Ok(None)` when the magic is
    /// absent (no payload), an error for an unknown version or trailer length.
    pub fn parse(bytes: &[u8; TRAILER_LEN]) -> Result<Option<Trailer>, TrailerError> {
        let (sha, rest) = bytes.split_at(32);
        let (offset, rest) = rest.split_at(8);
        let (len, rest) = rest.split_at(8);
        let (version, rest) = rest.split_at(4);
        let (trailer_len, magic) = rest.split_at(4);
        if magic != MAGIC {
            return Ok(None);
        }
        let u64_le = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        let u32_le = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or([0; 4]));
        let format_version = u32_le(version);
        if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&format_version) {
            return Err(TrailerError::UnknownVersion {
                found: format_version,
                supported: FORMAT_VERSION,
            });
        }
        let trailer_len = u32_le(trailer_len);
        if trailer_len as usize != TRAILER_LEN {
            return Err(TrailerError::BadTrailerLen(trailer_len));
        }
        let mut payload_sha256 = [0u8; 32];
        payload_sha256.copy_from_slice(sha);
        Ok(Some(Trailer {
            payload_sha256,
            payload_offset: u64_le(offset),
            payload_len: u64_le(len),
            format_version,
        }))
    }

    /// Checks that the trailer fits a file of `file_len` bytes.
    fn check_layout(&self, file_len: u64) -> Result<(), TrailerError> {
        let expected = self
            .payload_offset
            .checked_add(self.payload_len)
            .and_then(|end| end.checked_add(TRAILER_LEN as u64));
        if expected == Some(file_len) {
            Ok(())
        } else {
            Err(TrailerError::Truncated {
                payload_offset: self.payload_offset,
                payload_len: self.payload_len,
                file_len,
                expected: expected.unwrap_or(u64::MAX),
            })
        }
    }

    /// Checks the payload bytes against the trailer's SHA-256.
    fn check_checksum(&self, payload: &[u8]) -> Result<(), TrailerError> {
        let actual: [u8; 32] = Sha256::digest(payload).into();
        if actual == self.payload_sha256 {
            Ok(())
        } else {
            Err(TrailerError::ChecksumMismatch {
                expected: hex(&self.payload_sha256),
                actual: hex(&actual),
            })
        }
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `launcher` + `payload` + trailer, the bytes of a packed tool.
pub fn append_payload(launcher: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(launcher.len() + payload.len() + TRAILER_LEN);
    out.extend_from_slice(launcher);
    out.extend_from_slice(payload);
    let trailer = Trailer::for_payload(launcher.len() as u64, payload);
    out.extend_from_slice(&trailer.to_bytes());
    out
}

/// Writes `launcher` + `payload` + trailer to `out`.
pub fn write_packed(out: &mut impl Write, launcher: &[u8], payload: &[u8]) -> io::Result<()> {
    out.write_all(launcher)?;
    out.write_all(payload)?;
    out.write_all(&Trailer::for_payload(launcher.len() as u64, payload).to_bytes())
}

/// The payload inside the bytes of a packed tool, checked (layout and
/// SHA-256), without copying. `Ok(None)`: the file has no trailer.
pub fn payload_slice(file: &[u8]) -> Result<Option<&[u8]>, TrailerError> {
    let Some(start) = file.len().checked_sub(TRAILER_LEN) else {
        return Ok(None);
    };
    let mut last = [0u8; TRAILER_LEN];
    last.copy_from_slice(&file[start..]);
    let Some(trailer) = Trailer::parse(&last)? else {
        return Ok(None);
    };
    trailer.check_layout(file.len() as u64)?;
    // check_layout guarantees offset + len == start, so these fit in usize.
    let payload =
        file.get(trailer.payload_offset as usize..start)
            .ok_or(TrailerError::Truncated {
                payload_offset: trailer.payload_offset,
                payload_len: trailer.payload_len,
                file_len: file.len() as u64,
                expected: file.len() as u64,
            })?;
    trailer.check_checksum(payload)?;
    Ok(Some(payload))
}

/// The launcher part of a file: everything before the payload when the
/// file is a packed tool (checked), else the whole file.
pub fn launcher_part(file: &[u8]) -> Result<&[u8], TrailerError> {
    match payload_slice(file)? {
        Some(payload) => Ok(file
            .get(..file.len() - TRAILER_LEN - payload.len())
            .unwrap_or_default()),
        None => Ok(file),
    }
}

/// The payload inside the bytes of a packed tool, checked; `Ok(None)` when
/// the file has no trailer.
pub fn read_payload(file: &[u8]) -> Result<Option<Vec<u8>>, TrailerError> {
    Ok(payload_slice(file)?.map(<[u8]>::to_vec))
}

/// Reads and checks the payload from a seekable file (e.g. `/proc/self/exe`)
/// without reading the launcher part; `Ok(None)` when there is no trailer.
pub fn read_payload_from<R: Read + Seek>(file: &mut R) -> Result<Option<Vec<u8>>, TrailerError> {
    // One seek to the trailer gives the file's length too (a file shorter
    // than a trailer cannot seek there).
    let trailer_at = match file.seek(SeekFrom::End(-(TRAILER_LEN as i64))) {
        Ok(at) => at,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let file_len = trailer_at + TRAILER_LEN as u64;
    let mut last = [0u8; TRAILER_LEN];
    file.read_exact(&mut last)?;
    let Some(trailer) = Trailer::parse(&last)? else {
        return Ok(None);
    };
    trailer.check_layout(file_len)?;
    file.seek(SeekFrom::Start(trailer.payload_offset))?;
    // check_layout bounds the length by the file's size: one allocation of
    // the exact size, filled by one read.
    let mut payload = vec![0u8; usize::try_from(trailer.payload_len).unwrap_or(0)];
    file.read_exact(&mut payload).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => TrailerError::Truncated {
            payload_offset: trailer.payload_offset,
            payload_len: trailer.payload_len,
            file_len,
            expected: file_len,
        },
        _ => TrailerError::Io(e),
    })?;
    trailer.check_checksum(&payload)?;
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn packed() -> Vec<u8> {
        append_payload(b"\x7fELF launcher bytes", b"payload bytes")
    }

    fn both(file: &[u8]) -> Result<Option<Vec<u8>>, TrailerError> {
        let from_slice = read_payload(file);
        let from_reader = read_payload_from(&mut Cursor::new(file));
        assert_eq!(
            format!("{from_slice:?}"),
            format!("{from_reader:?}"),
            "slice and reader variants agree"
        );
        from_slice
    }

    #[test]
    fn round_trip() {
        let file = packed();
        assert_eq!(file.len(), 19 + 13 + 64);
        assert_eq!(&file[file.len() - 8..], b"BPFCOMPT");
        assert_eq!(both(&file).unwrap().as_deref(), Some(&b"payload bytes"[..]));
        let mut written = Vec::new();
        write_packed(&mut written, b"\x7fELF launcher bytes", b"payload bytes").unwrap();
        assert_eq!(written, file);
    }

    #[test]
    fn launcher_part_strips_payload() {
        assert_eq!(launcher_part(&packed()).unwrap(), b"\x7fELF launcher bytes");
        assert_eq!(launcher_part(b"plain").unwrap(), b"plain");
        let mut bad = packed();
        bad[20] ^= 1;
        assert!(launcher_part(&bad).is_err());
    }

    #[test]
    fn empty_payload_and_launcher() {
        let file = append_payload(b"", b"");
        assert_eq!(both(&file).unwrap(), Some(Vec::new()));
    }

    #[test]
    fn no_payload() {
        assert!(both(b"").unwrap().is_none());
        assert!(both(b"short").unwrap().is_none());
        assert!(both(&[0u8; 200]).unwrap().is_none());
    }

    #[test]
    fn truncated() {
        let file = packed();
        // Cut the front: the trailer survives but the sizes no longer add up.
        let err = both(&file[3..]).unwrap_err();
        assert!(matches!(err, TrailerError::Truncated { .. }), "{err}");
        assert!(err.to_string().contains("truncated"));
        // Bytes appended before the trailer.
        let mut longer = file.clone();
        longer.splice(0..0, [0u8; 5]);
        assert!(matches!(
            both(&longer).unwrap_err(),
            TrailerError::Truncated { .. }
        ));
    }

    #[test]
    fn offset_overflow() {
        let mut file = packed();
        let n = file.len();
        file[n - 32..n - 24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            both(&file).unwrap_err(),
            TrailerError::Truncated { .. }
        ));
    }

    #[test]
    fn checksum_mismatch() {
        let mut file = packed();
        file[20] ^= 1;
        let err = both(&file).unwrap_err();
        assert!(
            matches!(err, TrailerError::ChecksumMismatch { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("corrupt"));
    }

    #[test]
    fn unknown_version() {
        let mut file = packed();
        let n = file.len();
        file[n - 16..n - 12].copy_from_slice(&7u32.to_le_bytes());
        let err = both(&file).unwrap_err();
        assert!(matches!(
            err,
            TrailerError::UnknownVersion {
                found: 7,
                supported: 2
            }
        ));
        assert!(err.to_string().contains("version 7"));
    }

    #[test]
    fn bad_trailer_len() {
        let mut file = packed();
        let n = file.len();
        file[n - 12..n - 8].copy_from_slice(&65u32.to_le_bytes());
        assert!(matches!(
            both(&file).unwrap_err(),
            TrailerError::BadTrailerLen(65)
        ));
    }
}
