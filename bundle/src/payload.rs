//! The payload: `package.json` plus one minimised BTF per kernel
//! (FORMAT.md §2), and the other inputs readers accept (FORMAT.md §5).

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use tar::{Archive, EntryType, Header};

use crate::{
    codec::Codec,
    identity::KernelId,
    kernel_btfs::KernelBtfs,
    package::{Bytes, Package},
    Error,
};

/// Name of the package member.
pub const PACKAGE_JSON: &str = "package.json";
/// Name of the object member of a packed tool's payload (FORMAT.md §2).
pub const OBJECT_MEMBER: &str = "object.bpf.o";
/// The largest decompressed payload a reader accepts.
pub const MAX_PAYLOAD_SIZE: u64 = 1 << 30;
/// The largest single member a reader accepts.
pub const MAX_MEMBER_SIZE: u64 = 256 << 20;

/// A parsed payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// `package.json`.
    pub package: Package,
    /// Minimised BTF per kernel; identical BTFs share one allocation after
    /// reading; a BTF pack is decoded only as far as what is asked for.
    pub btfs: KernelBtfs,
}

impl Payload {
    /// A payload with no BTFs.
    pub fn new(package: Package) -> Payload {
        Payload {
            package,
            btfs: KernelBtfs::new(),
        }
    }

    /// Whether this is a packed tool's payload (FORMAT.md §2: the object is a
    /// member of its own, so `package.json` has no `bpf_object`) rather than
    /// a package (§2.3).
    pub fn is_tool_layout(&self) -> bool {
        self.package.bpf_object.is_empty()
    }

    /// The number of distinct BTF blobs (what the tar stores as regular
    /// files, or the pack as blobs).
    pub fn unique_btf_count(&self) -> usize {
        self.btfs.unique_count()
    }

    /// The uncompressed tar in the package layout (FORMAT.md §2.3): `package.json` first, then the
    /// BTFs sorted by member path, byte-identical BTFs after the first one
    /// stored as hard links; mtime 0, uid/gid 0, mode 0644. The same
    /// payload always gives the same bytes. ecli reads this form.
    pub fn to_tar(&self) -> Result<Vec<u8>, Error> {
        let mut builder = tar::Builder::new(Vec::new());
        append_file(&mut builder, PACKAGE_JSON, &self.package.to_json())?;

        let btfs = self.btfs.load_all()?;
        let mut members: Vec<(String, &Arc<[u8]>)> = btfs
            .iter()
            .map(|(kernel, btf)| (kernel.archive_path(), btf))
            .collect();
        members.sort_by(|a, b| a.0.cmp(&b.0));

        let mut first_with_bytes: HashMap<&[u8], &str> = HashMap::new();
        for (path, btf) in &members {
            match first_with_bytes.get(&btf[..]) {
                Some(target) => append_hard_link(&mut builder, path, target)?,
                None => {
                    append_file(&mut builder, path, btf)?;
                    first_with_bytes.insert(btf, path);
                }
            }
        }
        builder.into_inner().map_err(Error::TarWrite)
    }

    /// The gzip-compressed tar.
    pub fn to_tar_gz(&self) -> Result<Vec<u8>, Error> {
        self.to_compressed(Codec::Gzip)
    }

    /// The package tar (FORMAT.md §2.3) compressed with `codec`.
    pub fn to_compressed(&self, codec: Codec) -> Result<Vec<u8>, Error> {
        codec.compress(&self.to_tar()?)
    }

    /// A packed tool's payload (FORMAT.md §2): a tar of `package.json`
    /// without `bpf_object`, the object as [`OBJECT_MEMBER`] and, when there
    /// are BTFs, the BTF pack ([`crate::btf_pack`]), compressed with `codec`.
    pub fn to_tool_payload(&self, codec: Codec) -> Result<Vec<u8>, Error> {
        let mut builder = tar::Builder::new(Vec::new());
        let package = self.package.without_encoded_object();
        append_file(&mut builder, PACKAGE_JSON, &package.to_json())?;
        // The pack before the (large) object: its tar header then compresses
        // against package.json's, within LZ4's 64 KiB window.
        if !self.btfs.is_empty() {
            let pack = crate::btf_pack::write(&self.btfs.load_all()?)?;
            append_file(&mut builder, crate::btf_pack::PACK_MEMBER, &pack)?;
        }
        append_file(&mut builder, OBJECT_MEMBER, &self.package.object()?)?;
        codec.compress(&builder.into_inner().map_err(Error::TarWrite)?)
    }

    /// Reads a payload in any accepted form: `package.json` alone (first
    /// non-blank byte `{`), an lz4-, xz- or gzip-compressed tar (told apart
    /// by their magic bytes) or an uncompressed tar, in the tool layout
    /// (object member and BTF pack) or the package layout (`bpf_object` and
    /// `btfhub-archive/**.btf` members). Member names may start with `./`;
    /// directory entries and other members are ignored; hard links resolve
    /// to the bytes of the earlier member they name.
    pub fn from_bytes(bytes: &[u8]) -> Result<Payload, Error> {
        let codec = Codec::sniff(bytes);
        if codec != Codec::None {
            let tar = codec.decompress(bytes, MAX_PAYLOAD_SIZE)?;
            if !is_tar(&tar) {
                return Err(Error::PayloadFormat {
                    what: match codec {
                        Codec::Xz => "tar.xz",
                        Codec::Lz4 => "tar.lz4",
                        _ => "tar.gz",
                    },
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("the {codec} content is not a tar archive (no ustar header)"),
                    ),
                });
            }
            return read_tar(&Bytes::from(tar));
        }
        if bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{')
        {
            return Ok(Payload::new(Package::from_json(bytes)?));
        }
        if !is_tar(bytes) {
            return Err(Error::NotAPackage {
                first_bytes: crate::trailer::hex(bytes.get(..8).unwrap_or(bytes)),
            });
        }
        read_tar(&Bytes::copy_from_slice(bytes))
    }
}

/// Whether `bytes` start with a ustar (POSIX or GNU) tar header.
fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

fn base_header(size: u64, entry_type: EntryType) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}

fn append_file(builder: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) -> Result<(), Error> {
    let mut header = base_header(data.len() as u64, EntryType::Regular);
    builder
        .append_data(&mut header, path, data)
        .map_err(Error::TarWrite)
}

fn append_hard_link(
    builder: &mut tar::Builder<Vec<u8>>,
    path: &str,
    target: &str,
) -> Result<(), Error> {
    let mut header = base_header(0, EntryType::Link);
    builder
        .append_link(&mut header, path, target)
        .map_err(Error::TarWrite)
}

/// A member name made relative: leading `./` removed; `None` for the root
/// itself. Absolute names and `..` components are rejected.
fn normalise_member_name(raw: &str) -> Result<Option<String>, Error> {
    if raw.starts_with('/') {
        return Err(Error::PathTraversal(raw.to_owned()));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(Error::PathTraversal(raw.to_owned())),
            other => parts.push(other),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Whether a normalised member name lies under `btfhub-archive/`.
fn is_archive_member(name: &str) -> bool {
    name.strip_prefix(crate::identity::ARCHIVE_DIR)
        .is_some_and(|rest| rest.starts_with('/'))
}

fn tar_error(source: std::io::Error) -> Error {
    Error::PayloadFormat {
        what: "tar archive",
        source,
    }
}

/// Size of a tar header and of the blocks data is padded to.
const TAR_BLOCK: usize = 512;

/// The members of `tar` found from their headers alone, when every member
/// is a plain regular file with a ustar or GNU header: the tool layout
/// (FORMAT.md §2), which the packer writes. The general reader costs a packed
/// tool a measurable share of its own start-up (bench/startup) on three
/// headers. `Ok(None)` sends anything else (links, long names, pax headers,
/// directories, a bad checksum, a truncated header) to [`archive_members`],
/// which handles or reports it.
fn plain_members(tar: &Bytes) -> Result<Option<Vec<(String, Bytes)>>, Error> {
    let mut members = Vec::new();
    let mut at = 0usize;
    while at < tar.len() {
        let Some(block) = tar.get(at..at + TAR_BLOCK) else {
            return Ok(None);
        };
        if block.iter().all(|&b| b == 0) {
            break; // end of archive
        }
        let header = Header::from_byte_slice(block);
        let plain = header.entry_type() == EntryType::Regular
            && (header.as_ustar().is_some() || header.as_gnu().is_some());
        // The checksum counts its own field as eight spaces.
        let sum: u32 = block
            .iter()
            .enumerate()
            .map(|(i, &b)| u32::from(if (148..156).contains(&i) { b' ' } else { b }))
            .sum();
        let (Ok(stored), Ok(size)) = (header.cksum(), header.entry_size()) else {
            return Ok(None);
        };
        if !plain || stored != sum {
            return Ok(None);
        }
        let raw_name = String::from_utf8_lossy(&header.path_bytes()).into_owned();
        let name = normalise_member_name(&raw_name)?;
        if let Some(name) = &name {
            if size > MAX_MEMBER_SIZE {
                return Err(member_too_large(name, size));
            }
        }
        let start = at + TAR_BLOCK;
        let Some(end) = usize::try_from(size)
            .ok()
            .and_then(|size| start.checked_add(size))
            .filter(|&end| end <= tar.len())
        else {
            return Ok(None);
        };
        at = start + (end - start).div_ceil(TAR_BLOCK) * TAR_BLOCK;
        let Some(name) = name else {
            continue;
        };
        members.push((name, tar.slice(start..end)));
    }
    Ok(Some(members))
}

fn member_too_large(name: &str, size: u64) -> Error {
    Error::PayloadTooLarge {
        what: format!("member '{name}' ({size} bytes)"),
        limit: MAX_MEMBER_SIZE,
    }
}

/// The members of any tar the tar crate reads: regular files, and hard
/// links resolved to their targets' bytes, in archive order, as slices of
/// `tar`; other entries (directories, ...) are skipped.
fn archive_members(tar: &Bytes) -> Result<Vec<(String, Bytes)>, Error> {
    let mut archive = Archive::new(&tar[..]);
    // Ordered map: std's HashMap seeds its hasher from the kernel's random
    // source on first use, a system call a tool's start-up can do without.
    let mut files: BTreeMap<String, Bytes> = BTreeMap::new();
    let mut members = Vec::new();
    for entry in archive.entries().map_err(tar_error)? {
        let entry = entry.map_err(tar_error)?;
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(name) = normalise_member_name(&raw_name)? else {
            continue;
        };
        let data: Bytes = match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => {
                let size = entry.header().size().map_err(tar_error)?;
                if size > MAX_MEMBER_SIZE {
                    return Err(member_too_large(&name, size));
                }
                // The member's bytes are a slice of the archive in memory,
                // shared, not copied.
                let start = usize::try_from(entry.raw_file_position()).unwrap_or(usize::MAX);
                let range = start
                    .checked_add(size as usize)
                    .map(|end| start..end)
                    .filter(|range| range.end <= tar.len())
                    .ok_or_else(|| {
                        tar_error(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!(
                                "member '{name}' ({size} bytes) runs past the end of the archive"
                            ),
                        ))
                    })?;
                tar.slice(range)
            }
            EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let resolved = normalise_member_name(&target)?
                    .and_then(|t| files.get(&t).cloned())
                    .ok_or_else(|| Error::DanglingHardLink {
                        member: name.clone(),
                        target: target.clone(),
                    })?;
                resolved
            }
            _ => continue,
        };
        files.insert(name.clone(), data.clone());
        members.push((name, data));
    }
    Ok(members)
}

fn read_tar(tar: &Bytes) -> Result<Payload, Error> {
    let members = match plain_members(tar)? {
        Some(members) => members,
        None => archive_members(tar)?,
    };
    let mut package_json: Option<&Bytes> = None;
    let mut btfs = BTreeMap::new();
    let mut shared_btfs: BTreeMap<(usize, usize), Arc<[u8]>> = BTreeMap::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    let (mut object, mut pack) = (None, None);

    for (name, data) in &members {
        if !names.insert(name) {
            return Err(Error::DuplicateMember(name.clone()));
        }
        if name == PACKAGE_JSON {
            package_json = Some(data);
        } else if name == OBJECT_MEMBER {
            object = Some(data);
        } else if name == crate::btf_pack::PACK_MEMBER {
            pack = Some(data);
        } else if is_archive_member(name) && name.ends_with(".btf") {
            let kernel = KernelId::from_archive_path(name)
                .ok_or_else(|| Error::BadBtfMemberPath(name.clone()))?;
            // A hard link is the same slice as its target: one allocation.
            let btf = shared_btfs
                .entry((data.as_ptr() as usize, data.len()))
                .or_insert_with(|| Arc::from(&data[..]))
                .clone();
            btfs.insert(kernel, btf);
        }
    }

    let Some(package_json) = package_json else {
        let mut listed = members
            .iter()
            .take(8)
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if members.len() > 8 {
            listed.push_str(&format!(", ... ({} in all)", members.len()));
        }
        if listed.is_empty() {
            listed = "none".into();
        }
        return Err(Error::MissingPackageJson { members: listed });
    };
    let mut package = Package::from_json(package_json)?;
    if let Some(object) = object {
        package.set_raw_object(object.clone())?;
    }
    if let Some(pack) = pack {
        if let Some(kernel) = btfs.keys().next() {
            return Err(Error::DuplicateMember(format!(
                "{} (both {} and {} are present)",
                kernel.archive_path(),
                crate::btf_pack::PACK_MEMBER,
                kernel.archive_path()
            )));
        }
        let pack = crate::btf_pack::Pack::open(Arc::from(&pack[..]))?;
        return Ok(Payload {
            package,
            btfs: KernelBtfs::from_pack(pack),
        });
    }
    Ok(Payload {
        package,
        btfs: btfs.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Meta;
    use flate2::{write::GzEncoder, Compression};

    fn kernel(rel: &str) -> KernelId {
        KernelId::new("ubuntu", "20.04", "x86_64", rel)
    }

    fn sample() -> Payload {
        let mut p = Payload::new(Package::new(b"\x7fELF", Meta::new("t_bpf")));
        p.btfs
            .insert(kernel("5.4.0-9-generic"), Arc::from(&b"btf-A"[..]));
        p.btfs
            .insert(kernel("5.4.0-26-generic"), Arc::from(&b"btf-A"[..]));
        p.btfs
            .insert(kernel("5.8.0-1-generic"), Arc::from(&b"btf-B"[..]));
        p.btfs.insert(
            KernelId::new("debian", "11", "x86_64", "5.10.0-8-amd64"),
            Arc::from(&b"btf-A"[..]),
        );
        p
    }

    fn entries(tar: &[u8]) -> Vec<(String, EntryType, Option<String>)> {
        let mut archive = Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let link = e.link_name().unwrap().map(|l| l.display().to_string());
                (
                    e.path().unwrap().display().to_string(),
                    e.header().entry_type(),
                    link,
                )
            })
            .collect()
    }

    #[test]
    fn tool_payload_round_trips_in_every_codec() {
        let p = sample();
        for codec in Codec::ALL {
            let bytes = p.to_tool_payload(codec).unwrap();
            assert_eq!(Codec::sniff(&bytes), codec);
            let back = Payload::from_bytes(&bytes).unwrap();
            assert_eq!(back.btfs, p.btfs, "{codec}");
            assert_eq!(back.package, p.package.without_encoded_object());
            assert_eq!(&back.package.object().unwrap()[..], b"\x7fELF");
            assert!(back.package.bpf_object.is_empty(), "no base64 copy");
            let tar = codec.decompress(&bytes, 1 << 20).unwrap();
            let names: Vec<String> = entries(&tar).into_iter().map(|e| e.0).collect();
            assert_eq!(
                names,
                [PACKAGE_JSON, crate::btf_pack::PACK_MEMBER, OBJECT_MEMBER]
            );
        }
        let bytes = p.to_tool_payload(Codec::Lz4).unwrap();
        for len in (0..bytes.len()).step_by(7) {
            let _ = Payload::from_bytes(&bytes[..len]);
        }
        for i in (0..bytes.len()).step_by(3) {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x20;
            let _ = Payload::from_bytes(&flipped);
        }
        let none = Payload::new(p.package.clone());
        let back = Payload::from_bytes(&none.to_tool_payload(Codec::Lz4).unwrap()).unwrap();
        assert!(back.btfs.is_empty());
    }

    #[test]
    fn plain_tars_are_read_from_their_headers() {
        let p = sample();
        // The tool layout: found from the headers, as the general reader
        // finds it.
        let tar = Bytes::from(p.to_tool_payload(Codec::None).unwrap());
        let fast = plain_members(&tar)
            .unwrap()
            .expect("the tool layout is plain");
        assert_eq!(fast, archive_members(&tar).unwrap());
        let names: Vec<&str> = fast.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [PACKAGE_JSON, crate::btf_pack::PACK_MEMBER, OBJECT_MEMBER]
        );
        assert_eq!(&fast[2].1[..], b"\x7fELF");
        // Anything else goes to the general reader: hard links (the package
        // layout), directories, a header failing its checksum, a tar cut
        // inside a header or inside a member.
        assert!(plain_members(&Bytes::from(p.to_tar().unwrap()))
            .unwrap()
            .is_none());
        let dir = Bytes::from(raw_tar(&[("d/", b'5', "", b""), ("d/f", b'0', "", b"x")]));
        assert!(plain_members(&dir).unwrap().is_none());
        assert_eq!(archive_members(&dir).unwrap().len(), 1);
        let mut flipped = tar.to_vec();
        flipped[3] ^= 1;
        assert!(plain_members(&Bytes::from(flipped)).unwrap().is_none());
        assert!(plain_members(&tar.slice(..100)).unwrap().is_none());
        assert!(plain_members(&tar.slice(..TAR_BLOCK + 10))
            .unwrap()
            .is_none());
        // Path traversal is refused on either path.
        let evil = Bytes::from(raw_tar(&[("../x", b'0', "", b"x")]));
        assert!(matches!(plain_members(&evil), Err(Error::PathTraversal(_))));
    }

    #[test]
    fn layout_sorted_with_hard_links() {
        let p = sample();
        let tar = p.to_tar().unwrap();
        let got = entries(&tar);
        let a = "btfhub-archive/debian/11/x86_64/5.10.0-8-amd64.btf".to_string();
        assert_eq!(
            got,
            vec![
                ("package.json".into(), EntryType::Regular, None),
                (a.clone(), EntryType::Regular, None),
                (
                    "btfhub-archive/ubuntu/20.04/x86_64/5.4.0-26-generic.btf".into(),
                    EntryType::Link,
                    Some(a.clone())
                ),
                (
                    "btfhub-archive/ubuntu/20.04/x86_64/5.4.0-9-generic.btf".into(),
                    EntryType::Link,
                    Some(a)
                ),
                (
                    "btfhub-archive/ubuntu/20.04/x86_64/5.8.0-1-generic.btf".into(),
                    EntryType::Regular,
                    None
                ),
            ]
        );
        assert_eq!(p.unique_btf_count(), 2);
        let mut archive = Archive::new(&tar[..]);
        for e in archive.entries().unwrap() {
            let h = e.unwrap().header().clone();
            assert_eq!(
                (h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()),
                (0, 0, 0)
            );
            assert_eq!(h.mode().unwrap(), 0o644);
        }
    }

    #[test]
    fn round_trip_and_determinism() {
        let p = sample();
        let gz = p.to_tar_gz().unwrap();
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        assert_eq!(
            gz,
            sample().to_tar_gz().unwrap(),
            "byte-for-byte reproducible"
        );
        let back = Payload::from_bytes(&gz).unwrap();
        assert_eq!(back, p);
        let all = back.btfs.load_all().unwrap();
        let shared: Vec<_> = all.values().filter(|b| &b[..] == b"btf-A").collect();
        assert!(Arc::ptr_eq(shared[0], shared[1]), "hard links share bytes");
        assert_eq!(Payload::from_bytes(&p.to_tar().unwrap()).unwrap(), p);
    }

    /// A tar in the style of GNU `tar -czf x .` (btfgen) or ecc -b: `./`
    /// prefixes, directory entries, extra members, hard links by `./` name.
    fn foreign_tar(prefix: &str) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut dir = base_header(0, EntryType::Directory);
        dir.set_mode(0o755);
        b.append_data(&mut dir, format!("{prefix}btfhub-archive/"), &[][..])
            .unwrap();
        let pkg = Package::new(b"obj", Meta::new("x_bpf")).to_json();
        let mut h = base_header(0, EntryType::Regular);
        h.set_size(3);
        b.append_data(&mut h.clone(), format!("{prefix}x.bpf.o"), &b"obj"[..])
            .unwrap();
        h.set_size(5);
        let first = format!("{prefix}btfhub-archive/centos/8/x86_64/4.18.0-80.el8.x86_64.btf");
        b.append_data(&mut h.clone(), &first, &b"btf-C"[..])
            .unwrap();
        let mut l = base_header(0, EntryType::Link);
        b.append_link(
            &mut l,
            format!("{prefix}btfhub-archive/centos/8/x86_64/4.18.0-90.el8.x86_64.btf"),
            &first,
        )
        .unwrap();
        h.set_size(pkg.len() as u64);
        b.append_data(&mut h, format!("{prefix}package.json"), &pkg[..])
            .unwrap();
        b.into_inner().unwrap()
    }

    /// Writes a raw ustar header name so that `./` survives (the tar crate
    /// strips it on write).
    fn with_literal_dot_slash(mut tar: Vec<u8>) -> Vec<u8> {
        let mut off = 0;
        while off + 512 <= tar.len() {
            let name_end = tar[off..off + 100]
                .iter()
                .position(|b| *b == 0)
                .unwrap_or(100);
            if name_end == 0 {
                break;
            }
            let name = tar[off..off + name_end].to_vec();
            let typeflag = tar[off + 156];
            let size = std::str::from_utf8(&tar[off + 124..off + 135])
                .ok()
                .and_then(|s| u64::from_str_radix(s.trim_matches(char::from(0)).trim(), 8).ok())
                .unwrap_or(0);
            let mut new = b"./".to_vec();
            new.extend_from_slice(&name);
            new.resize(100, 0);
            tar[off..off + 100].copy_from_slice(&new);
            if typeflag == b'1' {
                let ln_end = tar[off + 157..off + 257]
                    .iter()
                    .position(|b| *b == 0)
                    .unwrap_or(100);
                let mut ln = b"./".to_vec();
                ln.extend_from_slice(&tar[off + 157..off + 157 + ln_end]);
                ln.resize(100, 0);
                tar[off + 157..off + 257].copy_from_slice(&ln);
            }
            // Recompute the header checksum.
            tar[off + 148..off + 156].copy_from_slice(b"        ");
            let sum: u32 = tar[off..off + 512].iter().map(|b| u32::from(*b)).sum();
            let field = format!("{sum:06o}\0 ");
            tar[off + 148..off + 156].copy_from_slice(field.as_bytes());
            off += 512 + (size as usize).div_ceil(512) * 512;
        }
        tar
    }

    #[test]
    fn reads_foreign_tars_with_and_without_dot_slash() {
        let plain = foreign_tar("");
        let dotted = with_literal_dot_slash(plain.clone());
        assert!(entries(&dotted)
            .iter()
            .any(|(_, _, l)| l.as_deref().is_some_and(|l| l.starts_with("./"))));
        for tar in [plain, dotted] {
            let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
            std::io::Write::write_all(&mut gz, &tar).unwrap();
            for bytes in [tar.clone(), gz.finish().unwrap()] {
                let p = Payload::from_bytes(&bytes).unwrap();
                assert_eq!(&p.package.object().unwrap()[..], b"obj");
                let names: Vec<String> = p.btfs.kernels().iter().map(|k| k.to_string()).collect();
                assert_eq!(
                    names,
                    [
                        "centos/8/x86_64/4.18.0-80.el8.x86_64",
                        "centos/8/x86_64/4.18.0-90.el8.x86_64"
                    ]
                );
                assert!(p
                    .btfs
                    .load_all()
                    .unwrap()
                    .values()
                    .all(|b| &b[..] == b"btf-C"));
            }
        }
    }

    #[test]
    fn empty_version_id_round_trip() {
        let mut p = Payload::new(Package::new(b"o", Meta::new("t_bpf")));
        let arch = KernelId::new("arch", "", "x86_64", "6.1.1-arch1-1");
        p.btfs.insert(arch.clone(), Arc::from(&b"btf"[..]));
        let back = Payload::from_bytes(&p.to_tar_gz().unwrap()).unwrap();
        assert_eq!(back.btfs.kernels(), [&arch]);
    }

    #[test]
    fn reads_bare_package_json() {
        let json = Package::new(b"obj", Meta::new("x_bpf")).to_json();
        let mut padded = b"\n  ".to_vec();
        padded.extend_from_slice(&json);
        let p = Payload::from_bytes(&padded).unwrap();
        assert!(p.btfs.is_empty());
    }

    fn raw_tar(members: &[(&str, u8, &str, &[u8])]) -> Vec<u8> {
        // (name, typeflag, linkname, data) written header by header.
        let mut out = Vec::new();
        for (name, flag, link, data) in members {
            let mut h = [0u8; 512];
            h[..name.len()].copy_from_slice(name.as_bytes());
            h[100..107].copy_from_slice(b"0000644");
            h[108..115].copy_from_slice(b"0000000");
            h[116..123].copy_from_slice(b"0000000");
            h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
            h[136..147].copy_from_slice(b"00000000000");
            h[156] = *flag;
            h[157..157 + link.len()].copy_from_slice(link.as_bytes());
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
            h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    #[test]
    fn rejects_path_traversal() {
        let pkg = Package::new(b"o", Meta::new("x")).to_json();
        for bad in [
            "../package.json",
            "/etc/passwd",
            "btfhub-archive/../../x.btf",
        ] {
            let tar = raw_tar(&[("package.json", b'0', "", &pkg), (bad, b'0', "", b"x")]);
            let e = Payload::from_bytes(&tar).unwrap_err();
            assert!(matches!(e, Error::PathTraversal(_)), "{bad}: {e}");
        }
        let tar = raw_tar(&[
            ("package.json", b'0', "", &pkg),
            (
                "btfhub-archive/a/1/x86_64/r.btf",
                b'1',
                "../../etc/shadow",
                b"",
            ),
        ]);
        assert!(matches!(
            Payload::from_bytes(&tar),
            Err(Error::PathTraversal(_))
        ));
    }

    #[test]
    fn rejects_bad_archives() {
        let pkg = Package::new(b"o", Meta::new("x")).to_json();
        let dangling = raw_tar(&[
            ("package.json", b'0', "", &pkg),
            (
                "btfhub-archive/a/1/x86_64/r.btf",
                b'1',
                "btfhub-archive/a/1/x86_64/q.btf",
                b"",
            ),
        ]);
        let e = Payload::from_bytes(&dangling).unwrap_err();
        assert!(matches!(e, Error::DanglingHardLink { .. }), "{e}");

        let dup = raw_tar(&[
            ("package.json", b'0', "", &pkg),
            ("./package.json", b'0', "", &pkg),
        ]);
        assert!(matches!(
            Payload::from_bytes(&dup),
            Err(Error::DuplicateMember(_))
        ));

        let no_pkg = raw_tar(&[("btfhub-archive/a/1/x86_64/r.btf", b'0', "", b"x")]);
        let e = Payload::from_bytes(&no_pkg).unwrap_err().to_string();
        assert!(
            e.contains("no package.json") && e.contains("btfhub-archive/a/1/x86_64/r.btf"),
            "{e}"
        );

        let other_dir = raw_tar(&[
            ("package.json", b'0', "", &pkg),
            ("btfhub-archive-repos/x/a.btf", b'0', "", b"x"),
        ]);
        assert!(Payload::from_bytes(&other_dir).unwrap().btfs.is_empty());

        let bad_path = raw_tar(&[
            ("package.json", b'0', "", &pkg),
            ("btfhub-archive/r.btf", b'0', "", b"x"),
        ]);
        assert!(matches!(
            Payload::from_bytes(&bad_path),
            Err(Error::BadBtfMemberPath(_))
        ));

        let e = Payload::from_bytes(b"\x1f\x8bgarbage")
            .unwrap_err()
            .to_string();
        assert!(e.contains("gzip"), "{e}");
        let e = Payload::from_bytes(&[1u8; 700]).unwrap_err().to_string();
        assert!(
            e.starts_with("not a package") && e.contains("0101010101010101"),
            "{e}"
        );
        assert!(matches!(
            Payload::from_bytes(b""),
            Err(Error::NotAPackage { .. })
        ));
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        std::io::Write::write_all(&mut gz, b"plain text, not a tar").unwrap();
        let e = Payload::from_bytes(&gz.finish().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a tar archive"), "{e}");
    }

    /// Every single-byte corruption of a payload is an error or a payload,
    /// never a panic.
    #[test]
    fn corruption_never_panics() {
        let tar = sample().to_tar().unwrap();
        let gz = sample().to_tar_gz().unwrap();
        let xz = sample().to_compressed(Codec::Xz).unwrap();
        for original in [tar, gz, xz] {
            for i in (0..original.len()).step_by(7) {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut bytes = original.clone();
                    bytes[i] ^= flip;
                    let _ = Payload::from_bytes(&bytes);
                }
            }
            for len in (0..original.len()).step_by(97) {
                let _ = Payload::from_bytes(&original[..len]);
            }
        }
    }

    #[test]
    fn bounded_sizes() {
        // A member whose header claims more than the limit is refused before
        // reading it.
        let mut tar = raw_tar(&[("big.bin", b'0', "", b"")]);
        let size = format!("{:011o}", MAX_MEMBER_SIZE + 1);
        tar[124..135].copy_from_slice(size.as_bytes());
        tar[148..156].copy_from_slice(b"        ");
        let sum: u32 = tar[..512].iter().map(|b| u32::from(*b)).sum();
        tar[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert!(matches!(
            Payload::from_bytes(&tar),
            Err(Error::PayloadTooLarge { .. })
        ));
    }

    #[test]
    fn every_codec_round_trips_with_hard_links() {
        let p = sample();
        for codec in Codec::ALL {
            let bytes = p.to_compressed(codec).unwrap();
            assert_eq!(Codec::sniff(&bytes), codec);
            let back = Payload::from_bytes(&bytes).unwrap();
            assert_eq!(back, p, "{codec}");
            assert_eq!(back.unique_btf_count(), 2);
        }
        let mut xz_not_tar = Codec::Xz.compress(b"plain text, not a tar").unwrap();
        let e = Payload::from_bytes(&xz_not_tar).unwrap_err().to_string();
        assert!(
            e.contains("tar.xz") && e.contains("not a tar archive"),
            "{e}"
        );
        xz_not_tar.truncate(10);
        let e = Payload::from_bytes(&xz_not_tar).unwrap_err().to_string();
        assert!(e.contains("xz stream"), "{e}");
    }
}
