//! The build cache: decoded kernel BTFs and minimised BTFs per (objects,
//! kernel), so that rebuilding never decodes xz twice.
//!
//! Entries are immutable files named by a SHA-256 key, in two sections
//! (`kernels/`, `results/`). Each is written to a temporary file (`.tmp-*`)
//! in its section and renamed into place, so readers, other packer runs
//! included, see a whole entry or none, even if a writer is killed. Every
//! entry carries its length and CRC-32; a damaged entry is removed on read
//! and recomputed. A read refreshes the entry's mtime; after each run the
//! least recently used entries are removed while the cache is over its size
//! limit (`BPF_COMPATIBLE_CACHE_MAX`, default 4G).
//!
//! Decoded kernels are stored uncompressed (~5 MB each): storing must cost
//! far less than the xz decoding it saves, and lz4 (about 200 MB/s on BTF,
//! to half the size) would add a fifth to a cold build; a plain write and a
//! CRC-32 add a few percent.

use std::{
    fs::{self, File},
    io::{Read, Write},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use anyhow::{bail, Context, Result};

/// A cache key: the SHA-256 of everything the entry depends on.
pub type Key = [u8; 32];

/// The environment variable that sets the size limit.
pub const LIMIT_ENV: &str = "BPF_COMPATIBLE_CACHE_MAX";
/// The size limit when the environment sets none.
pub const DEFAULT_LIMIT: u64 = 4 << 30;

const MAGIC: &[u8; 8] = b"BPFCACH2";
/// Magic, length (u64 LE), CRC-32 (u32 LE), reserved (4 zero bytes).
const HEADER_LEN: usize = 24;
/// The largest entry a reader accepts (a decoded kernel BTF is ~5-50 MB).
const MAX_ENTRY: u64 = 1 << 30;
/// Temporary files older than this belong to a killed run and are removed.
const STALE_TMP: Duration = Duration::from_secs(3600);
const TMP_PREFIX: &str = ".tmp-";

/// The two kinds of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Raw BTF decoded from a compressed kernel file, keyed by the file's
    /// content.
    Kernels,
    /// Minimised BTF, keyed by packer build, objects and kernel content.
    Results,
}

impl Section {
    const ALL: [Section; 2] = [Section::Kernels, Section::Results];

    fn dir_name(self) -> &'static str {
        match self {
            Section::Kernels => "kernels",
            Section::Results => "results",
        }
    }
}

/// An on-disk cache directory.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    limit: u64,
}

/// What [`Store::evict`] found and did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Entries left.
    pub entries: usize,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Entries removed to get under the limit.
    pub evicted: usize,
}

impl Store {
    /// Opens (creating) the cache at `root` with the size limit from
    /// [`LIMIT_ENV`].
    pub fn open(root: &Path) -> Result<Store> {
        let limit = match std::env::var(LIMIT_ENV) {
            Ok(text) => parse_size(&text).with_context(|| format!("{LIMIT_ENV}={text}"))?,
            Err(_) => DEFAULT_LIMIT,
        };
        Store::with_limit(root, limit)
    }

    /// Opens (creating) the cache at `root`, keeping it under `limit` bytes.
    pub fn with_limit(root: &Path, limit: u64) -> Result<Store> {
        for section in Section::ALL {
            let dir = root.join(section.dir_name());
            fs::create_dir_all(&dir).with_context(|| {
                format!(
                    "cannot create the build cache directory {}; set XDG_CACHE_HOME to a writable \
                     directory or pass --no-cache",
                    dir.display()
                )
            })?;
        }
        Ok(Store {
            root: root.to_path_buf(),
            limit,
        })
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, section: Section, key: &Key) -> PathBuf {
        self.root.join(section.dir_name()).join(hex(key))
    }

    /// The entry's bytes, or `None` when it is absent or damaged (a damaged
    /// entry is removed).
    pub fn get(&self, section: Section, key: &Key) -> Option<Vec<u8>> {
        let path = self.path(section, key);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    log::debug!("cache: cannot read {}: {e}", path.display());
                }
                return None;
            }
        };
        match read_entry(&mut file) {
            Ok(data) => {
                touch(&path);
                Some(data)
            }
            Err(why) => {
                log::warn!(
                    "cache entry {} is damaged ({why}); removed, it will be recomputed",
                    path.display()
                );
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores an entry. Failures are logged, not returned: the cache only
    /// saves time.
    pub fn put(&self, section: Section, key: &Key, data: &[u8]) {
        let path = self.path(section, key);
        if let Err(e) = self.write_entry(&path, data) {
            log::warn!("cannot write cache entry {}: {e:#}", path.display());
        }
    }

    fn write_entry(&self, path: &Path, data: &[u8]) -> Result<()> {
        let dir = crate::fsutil::parent_dir(path);
        let header = encode_header(data);
        let mut tmp = tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        tmp.write_all(&header)
            .and_then(|()| tmp.write_all(data))
            .with_context(|| format!("cannot write {}", tmp.path().display()))?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Removes temporary files left by killed runs and, while the cache is
    /// larger than its limit, the least recently used entries (down to 90%
    /// of the limit).
    pub fn evict(&self) -> Result<Usage> {
        let now = SystemTime::now();
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        for section in Section::ALL {
            let dir = self.root.join(section.dir_name());
            let read =
                fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
            for entry in read.flatten() {
                let Ok(meta) = entry.metadata() else { continue };
                let mtime = meta.modified().unwrap_or(now);
                if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                    let age = now.duration_since(mtime).unwrap_or_default();
                    if age > STALE_TMP {
                        let _ = fs::remove_file(entry.path());
                    }
                    continue;
                }
                entries.push((mtime, meta.len(), entry.path()));
            }
        }
        let mut usage = Usage {
            entries: entries.len(),
            bytes: entries.iter().map(|e| e.1).sum(),
            evicted: 0,
        };
        if usage.bytes > self.limit {
            let target = self.limit / 10 * 9;
            entries.sort();
            for (_, len, path) in entries {
                if usage.bytes <= target {
                    break;
                }
                if fs::remove_file(&path).is_ok() {
                    usage.bytes -= len;
                    usage.entries -= 1;
                    usage.evicted += 1;
                }
            }
        }
        Ok(usage)
    }
}

fn encode_header(data: &[u8]) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(MAGIC);
    header[8..16].copy_from_slice(&(data.len() as u64).to_le_bytes());
    header[16..20].copy_from_slice(&crc32fast::hash(data).to_le_bytes());
    header
}

/// The data of an entry, checked against its header.
fn read_entry(file: &mut File) -> Result<Vec<u8>, String> {
    let mut header = [0u8; HEADER_LEN];
    file.read_exact(&mut header)
        .map_err(|e| format!("header: {e}"))?;
    if &header[..8] != MAGIC {
        return Err("bad magic".into());
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&header[8..16]);
    let len = u64::from_le_bytes(len);
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&header[16..20]);
    let crc = u32::from_le_bytes(crc);
    if len > MAX_ENTRY {
        return Err(format!("length {len} in the header is implausible"));
    }
    let mut data = Vec::with_capacity(len as usize);
    file.take(len + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("{e}"))?;
    if data.len() as u64 != len {
        return Err(format!("{} bytes where the header says {len}", data.len()));
    }
    if crc32fast::hash(&data) != crc {
        return Err("checksum mismatch".into());
    }
    Ok(data)
}

/// Marks an entry as recently used.
fn touch(path: &Path) {
    if let Ok(file) = File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `2G`, `512M`, `64K`, `1000` (bytes); binary units, case-insensitive,
/// optional `B`/`iB` suffix.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim().to_ascii_uppercase();
    let t = t
        .strip_suffix("IB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(&t);
    let (digits, shift) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 10),
        Some('M') => (&t[..t.len() - 1], 20),
        Some('G') => (&t[..t.len() - 1], 30),
        Some('T') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let Ok(n) = digits.trim().parse::<u64>() else {
        bail!("not a size: use a number of bytes with an optional K, M, G or T suffix (e.g. 2G)");
    };
    n.checked_mul(1 << shift).context("size too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Key {
        [n; 32]
    }

    #[test]
    fn round_trip() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::with_limit(dir.path(), 1 << 20)?;
        let data: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 7).to_le_bytes()).collect();
        assert_eq!(store.get(Section::Kernels, &key(1)), None);
        store.put(Section::Kernels, &key(1), &data);
        store.put(Section::Results, &key(1), b"small");
        assert_eq!(store.get(Section::Kernels, &key(1)), Some(data.clone()));
        assert_eq!(
            store.get(Section::Results, &key(1)).as_deref(),
            Some(&b"small"[..])
        );
        Ok(())
    }

    #[test]
    fn damaged_entries_are_removed() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::with_limit(dir.path(), 1 << 20)?;
        store.put(Section::Results, &key(2), b"minimised btf");
        let path = store.path(Section::Results, &key(2));
        let good = fs::read(&path)?;
        for damage in [good[..good.len() - 1].to_vec(), good[..10].to_vec(), {
            let mut b = good.clone();
            let last = b.len() - 1;
            b[last] ^= 1;
            b
        }] {
            fs::write(&path, &damage)?;
            assert_eq!(store.get(Section::Results, &key(2)), None);
            assert!(!path.exists(), "damaged entry removed");
        }
        Ok(())
    }

    #[test]
    fn evicts_least_recently_used_and_stale_temporaries() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::with_limit(dir.path(), 3000)?;
        let old = SystemTime::now() - Duration::from_secs(100);
        for n in 0..4u8 {
            store.put(Section::Results, &key(n), &[n; 1000]);
            let f = File::options()
                .append(true)
                .open(store.path(Section::Results, &key(n)))?;
            f.set_modified(old + Duration::from_secs(u64::from(n)))?;
        }
        // Reading entry 0 makes it the most recently used.
        assert!(store.get(Section::Results, &key(0)).is_some());
        let stale = dir.path().join("results").join(".tmp-killed");
        fs::write(&stale, b"half")?;
        File::options()
            .append(true)
            .open(&stale)?
            .set_modified(old - STALE_TMP)?;
        let fresh = dir.path().join("kernels").join(".tmp-running");
        fs::write(&fresh, b"half")?;

        let usage = store.evict()?;
        assert_eq!(usage.evicted, 2, "{usage:?}");
        assert!(usage.bytes <= 2700);
        assert!(store.get(Section::Results, &key(0)).is_some());
        assert!(store.get(Section::Results, &key(1)).is_none());
        assert!(store.get(Section::Results, &key(2)).is_none());
        assert!(store.get(Section::Results, &key(3)).is_some());
        assert!(!stale.exists() && fresh.exists());
        Ok(())
    }

    #[test]
    fn sizes() -> Result<()> {
        assert_eq!(parse_size("2G")?, 2 << 30);
        assert_eq!(parse_size("512 MiB")?, 512 << 20);
        assert_eq!(parse_size("64kb")?, 64 << 10);
        assert_eq!(parse_size("1000")?, 1000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999T").is_err());
        Ok(())
    }
}
