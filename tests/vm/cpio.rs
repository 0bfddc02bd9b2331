//! A `newc` cpio writer: the format the kernel unpacks an initramfs from
//! (Documentation/driver-api/early-userspace/buffer-format.rst). Written here
//! so the harness needs no `cpio` program.

/// File type bits of `st_mode`.
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFCHR: u32 = 0o020_000;

/// An uncompressed newc archive being built in memory.
#[derive(Default)]
pub struct Archive {
    bytes: Vec<u8>,
    next_ino: u32,
}

/// A character device's major and minor number.
pub struct Dev {
    pub major: u32,
    pub minor: u32,
}

impl Archive {
    /// A directory (parents must be added first).
    pub fn dir(&mut self, path: &str) {
        self.entry(path, S_IFDIR | 0o755, 2, None, &[]);
    }

    /// A regular file with the given permission bits.
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) {
        self.entry(path, S_IFREG | mode, 1, None, data);
    }

    /// A character device node.
    pub fn char_dev(&mut self, path: &str, mode: u32, dev: Dev) {
        self.entry(path, S_IFCHR | mode, 1, Some(dev), &[]);
    }

    /// The archive with its `TRAILER!!!` entry.
    pub fn finish(mut self) -> Vec<u8> {
        self.next_ino = 0;
        self.entry("TRAILER!!!", 0, 1, None, &[]);
        self.bytes
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, rdev: Option<Dev>, data: &[u8]) {
        self.next_ino += 1;
        let size = u32::try_from(data.len()).expect("initramfs member over 4 GiB");
        let name_size = u32::try_from(path.len() + 1).expect("path length");
        let (rmajor, rminor) = rdev.map_or((0, 0), |d| (d.major, d.minor));
        let fields = [
            self.next_ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            size,
            0, // devmajor
            0, // devminor
            rmajor,
            rminor,
            name_size,
            0, // check
        ];
        self.bytes.extend_from_slice(b"070701");
        for field in fields {
            self.bytes
                .extend_from_slice(format!("{field:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(path.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    /// Pads to a multiple of 4 bytes (header + name, and file data).
    fn pad(&mut self) {
        while self.bytes.len() % 4 != 0 {
            self.bytes.push(0);
        }
    }
}
