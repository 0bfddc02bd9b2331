//! The BTF pack (FORMAT.md §2.2): every kernel's minimised BTF in one LZMA
//! stream, in canonical type order ([`btf::canonical_order`]), stored once
//! per distinct content, in the delta form of [`btf::delta_encode`], behind
//! a plain-text index of btfhub kernels.
//!
//! One stream for all kernels lets the compressor match each BTF against
//! the previous ones: the same object minimised for different kernels holds
//! the same types, which canonical order lines up, and differs in a few
//! offsets, which the delta form turns into a handful of changed words.
//! Readers get the canonical BTF: the same types as the minimiser's output,
//! numbered differently, which libbpf's CO-RE resolves identically.

use std::{
    collections::{BTreeMap, HashMap},
    io::{BufRead, BufReader, Read},
    sync::Arc,
};

use liblzma::stream::{LzmaOptions, Stream};

use crate::{identity::KernelId, payload::MAX_MEMBER_SIZE, Error};

/// Name of the pack member in a packed tool's payload tar.
pub const PACK_MEMBER: &str = "btfhub-archive.btfpack";
/// First line of the decoded stream.
const MAGIC_LINE: &str = "bpf-compatible btf pack 1";
/// The most kernels or blobs a reader accepts.
const MAX_ENTRIES: usize = 1 << 20;
/// The longest index line a reader accepts.
const MAX_LINE: u64 = 4096;
/// Packs whose uncompressed form is at most this long are stored as they
/// are: starting an LZMA decoder costs a launch more time (tens of
/// microseconds) than these few bytes cost the file.
const PLAIN_MAX: usize = 4096;
/// Memory limit of the LZMA decoder (the dictionary is sized to the data).
const DECODER_MEMLIMIT: u64 = 256 << 20;

/// How one blob is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Encoding {
    /// [`btf::delta_encode`] of the BTF.
    Delta,
    /// The bytes as they are (content that is not parseable BTF).
    Raw,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Delta => "d",
            Encoding::Raw => "r",
        }
    }
}

/// The decoded index of a pack: which blob each kernel uses, and the blobs'
/// stored lengths.
#[derive(Debug, Clone)]
struct PackIndex {
    kernels: BTreeMap<KernelId, usize>,
    blobs: Vec<(u64, Encoding)>,
    /// Bytes the index takes at the start of the stream.
    len: u64,
}

/// Builds the pack for `btfs`: identical BTFs become one blob; blobs are
/// ordered by the release of the first kernel using them (then by path), so
/// related kernels sit next to each other in the stream.
pub fn write(btfs: &BTreeMap<KernelId, Arc<[u8]>>) -> Result<Vec<u8>, Error> {
    let mut kernels: Vec<&KernelId> = btfs.keys().collect();
    kernels.sort_by(|a, b| crate::compare_releases(&a.release, &b.release).then_with(|| a.cmp(b)));
    // Canonical order first: kernels whose BTFs differ only in type order
    // then share a blob, and the rest line up for the compressor.
    let canonical: Vec<(&KernelId, Vec<u8>, Encoding)> = kernels
        .into_iter()
        .map(|kernel| {
            let btf: &[u8] = &btfs[kernel];
            match btf::canonical_order(btf).and_then(|c| btf::delta_encode(&c)) {
                Ok(delta) => (kernel, delta, Encoding::Delta),
                Err(_) => (kernel, btf.to_vec(), Encoding::Raw),
            }
        })
        .collect();
    let mut blob_of: HashMap<(&[u8], Encoding), usize> = HashMap::new();
    let mut stored: Vec<(&[u8], Encoding)> = Vec::new();
    let mut entries: Vec<(usize, &KernelId)> = Vec::new();
    for (kernel, bytes, encoding) in &canonical {
        let next = stored.len();
        let blob = *blob_of.entry((bytes, *encoding)).or_insert(next);
        if blob == next {
            stored.push((bytes, *encoding));
        }
        entries.push((blob, kernel));
    }
    entries.sort();

    let mut plain = format!("{MAGIC_LINE}\n{} {}\n", stored.len(), entries.len()).into_bytes();
    for (bytes, encoding) in &stored {
        plain.extend(format!("{} {}\n", bytes.len(), encoding.name()).bytes());
    }
    for (blob, kernel) in &entries {
        plain.extend(format!("{blob} {kernel}\n").bytes());
    }
    for (bytes, _) in &stored {
        plain.extend_from_slice(bytes);
    }
    if plain.len() <= PLAIN_MAX {
        return Ok(plain);
    }
    lzma_compress(&plain)
}

/// A pack whose index has been read: the kernels are known, their BTFs are
/// decoded when asked for, so a tool that runs on native BTF never decodes
/// its pack, and one that needs a BTF decodes the stream only up to it.
#[derive(Debug, Clone)]
pub struct Pack {
    bytes: Arc<[u8]>,
    index: PackIndex,
}

impl Pack {
    /// Reads the index at the start of `bytes` (the pack member).
    pub fn open(bytes: Arc<[u8]>) -> Result<Pack, Error> {
        let index = read_index_from(&mut decoder(&bytes)?)?;
        Ok(Pack { bytes, index })
    }

    /// The kernels the pack covers, sorted.
    pub fn kernels(&self) -> impl Iterator<Item = &KernelId> + '_ {
        self.index.kernels.keys()
    }

    /// Whether the pack covers `kernel`.
    pub fn contains(&self, kernel: &KernelId) -> bool {
        self.index.kernels.contains_key(kernel)
    }

    /// The number of distinct BTFs stored.
    pub fn blob_count(&self) -> usize {
        self.index.blobs.len()
    }

    /// The BTF of `kernel` (`None` when the pack does not cover it),
    /// decoding the stream only up to the end of its blob.
    pub fn get(&self, kernel: &KernelId) -> Result<Option<Arc<[u8]>>, Error> {
        let Some(&blob) = self.index.kernels.get(kernel) else {
            return Ok(None);
        };
        let mut reader = decoder(&self.bytes)?;
        let before: u64 = self.index.blobs.iter().take(blob).map(|b| b.0).sum();
        let skip = self.index.len + before;
        let copied =
            std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink()).map_err(io)?;
        if copied != skip {
            return Err(bad(format!("the stream ends before blob {blob}")));
        }
        let (len, encoding) = self.index.blobs[blob];
        decode_blob(read_exact(&mut reader, len)?, encoding, blob).map(Some)
    }

    /// Every kernel's BTF: [`read`].
    pub fn read_all(&self) -> Result<BTreeMap<KernelId, Arc<[u8]>>, Error> {
        read(&self.bytes)
    }
}

/// Every kernel's BTF, decoding the whole stream once and checking that it
/// ends right after the last blob; identical BTFs share one allocation.
pub fn read(pack: &[u8]) -> Result<BTreeMap<KernelId, Arc<[u8]>>, Error> {
    let mut reader = decoder(pack)?;
    let index = read_index_from(&mut reader)?;
    let mut blobs = Vec::with_capacity(index.blobs.len());
    for (i, &(len, encoding)) in index.blobs.iter().enumerate() {
        blobs.push(decode_blob(read_exact(&mut reader, len)?, encoding, i)?);
    }
    // The stream must end right after the last blob (for LZMA this also
    // checks the end marker, so a truncated pack is an error).
    let mut extra = [0u8; 1];
    match reader.read(&mut extra) {
        Ok(0) => {}
        Ok(_) => return Err(bad("data after the last blob".into())),
        Err(e) => return Err(io(e)),
    }
    Ok(index
        .kernels
        .into_iter()
        .map(|(kernel, blob)| (kernel, blobs[blob].clone()))
        .collect())
}

fn decode_blob(bytes: Vec<u8>, encoding: Encoding, blob: usize) -> Result<Arc<[u8]>, Error> {
    match encoding {
        Encoding::Raw => Ok(Arc::from(bytes)),
        Encoding::Delta => btf::delta_decode(&bytes)
            .map(Arc::from)
            .map_err(|e| bad(format!("blob {blob} is not valid delta-form BTF: {e}"))),
    }
}

fn read_exact(reader: &mut impl Read, len: u64) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    reader.take(len).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 != len {
        return Err(bad(format!(
            "the stream ends {} bytes into a {len}-byte blob",
            bytes.len()
        )));
    }
    Ok(bytes)
}

fn read_index_from(reader: &mut impl BufRead) -> Result<PackIndex, Error> {
    let mut len = 0u64;
    let mut next_line = |reader: &mut dyn BufRead| {
        let text = line(reader)?;
        len += text.len() as u64 + 1;
        Ok::<String, Error>(text)
    };
    let magic = next_line(reader)?;
    if magic != MAGIC_LINE {
        return Err(bad(format!(
            "first line is {magic:?}, expected {MAGIC_LINE:?}"
        )));
    }
    let counts = next_line(reader)?;
    let (blob_count, kernel_count) = counts
        .split_once(' ')
        .and_then(|(b, k)| Some((b.parse::<usize>().ok()?, k.parse::<usize>().ok()?)))
        .filter(|(b, k)| *b <= MAX_ENTRIES && *k <= MAX_ENTRIES)
        .ok_or_else(|| bad(format!("bad counts line {counts:?}")))?;
    let mut blobs = Vec::with_capacity(blob_count);
    for _ in 0..blob_count {
        let text = next_line(reader)?;
        let blob = text
            .split_once(' ')
            .and_then(|(len, enc)| {
                let len = len.parse::<u64>().ok().filter(|l| *l <= MAX_MEMBER_SIZE)?;
                let enc = match enc {
                    "d" => Encoding::Delta,
                    "r" => Encoding::Raw,
                    _ => return None,
                };
                Some((len, enc))
            })
            .ok_or_else(|| bad(format!("bad blob line {text:?}")))?;
        blobs.push(blob);
    }
    let mut kernels = BTreeMap::new();
    for _ in 0..kernel_count {
        let text = next_line(reader)?;
        let (blob, path) = text
            .split_once(' ')
            .and_then(|(b, p)| Some((b.parse::<usize>().ok()?, p)))
            .filter(|(b, _)| *b < blob_count)
            .ok_or_else(|| bad(format!("bad kernel line {text:?}")))?;
        let kernel = KernelId::parse_identity(path).ok_or_else(|| {
            bad(format!(
                "bad kernel {path:?} (expected ID/VERSION_ID/ARCH/RELEASE)"
            ))
        })?;
        if kernels.insert(kernel, blob).is_some() {
            return Err(bad(format!("kernel {path} is listed twice")));
        }
    }
    Ok(PackIndex {
        kernels,
        blobs,
        len,
    })
}

/// One `\n`-terminated UTF-8 line, without the newline.
fn line(reader: &mut dyn BufRead) -> Result<String, Error> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_LINE)
        .read_until(b'\n', &mut bytes)
        .map_err(io)?;
    if bytes.pop() != Some(b'\n') {
        return Err(bad("the index ends early or has an over-long line".into()));
    }
    String::from_utf8(bytes).map_err(|_| bad("the index is not UTF-8".into()))
}

/// The pack's uncompressed stream: the bytes themselves when they start
/// with the magic line (a small pack stored plain), else LZMA-decoded.
fn decoder(pack: &[u8]) -> Result<Box<dyn BufRead + '_>, Error> {
    if pack.starts_with(MAGIC_LINE.as_bytes()) {
        return Ok(Box::new(pack));
    }
    let stream = Stream::new_lzma_decoder(DECODER_MEMLIMIT)
        .map_err(|e| bad(format!("LZMA decoder: {e}")))?;
    Ok(Box::new(BufReader::new(
        liblzma::read::XzDecoder::new_stream(pack, stream),
    )))
}

/// LZMA (`.lzma`, "alone" format: 13-byte header) at preset 9, with a
/// dictionary just large enough for `data` ("extreme" measured 2.6x slower
/// for packs 1% smaller: `cargo bench -p bundle`).
fn lzma_compress(data: &[u8]) -> Result<Vec<u8>, Error> {
    let lzma_err = |e: liblzma::stream::Error| {
        Error::TarWrite(std::io::Error::other(format!("LZMA encoder: {e}")))
    };
    let dict = u32::try_from(data.len())
        .unwrap_or(u32::MAX)
        .max(4096)
        .next_power_of_two()
        .min(64 << 20);
    let mut options = LzmaOptions::new_preset(9).map_err(lzma_err)?;
    // No literal context or position bits: BTF words are not text, and
    // their byte positions carry no pattern the model could use (measured:
    // a few percent smaller than lc=3, pb=2).
    options
        .dict_size(dict)
        .literal_context_bits(0)
        .literal_position_bits(0)
        .position_bits(0);
    let stream = Stream::new_lzma_encoder(&options).map_err(lzma_err)?;
    let mut encoder = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
    std::io::Write::write_all(&mut encoder, data).map_err(Error::TarWrite)?;
    encoder.finish().map_err(Error::TarWrite)
}

fn bad(detail: String) -> Error {
    Error::BadPack(detail)
}

fn io(e: std::io::Error) -> Error {
    Error::BadPack(format!("LZMA stream: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use btf::{BtfBuilder, IntEncoding};

    fn btf_with_offset(offset: u32) -> Arc<[u8]> {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        b.add_struct("task_struct", 64);
        b.add_member("pid", int, offset, 0).unwrap();
        b.add_member("tgid", int, offset + 32, 0).unwrap();
        Arc::from(b.to_bytes())
    }

    fn kernel(rel: &str) -> KernelId {
        KernelId::new("ubuntu", "20.04", "x86_64", rel)
    }

    fn sample() -> BTreeMap<KernelId, Arc<[u8]>> {
        let mut m = BTreeMap::new();
        m.insert(kernel("5.4.0-10-generic"), btf_with_offset(64));
        m.insert(kernel("5.4.0-9-generic"), btf_with_offset(64));
        m.insert(kernel("5.8.0-1-generic"), btf_with_offset(128));
        m.insert(
            KernelId::new("debian", "10", "x86_64", "4.19.0-17-amd64"),
            Arc::from(&b"not btf at all"[..]),
        );
        m
    }

    #[test]
    fn round_trips_with_shared_blobs() {
        let btfs = sample();
        let pack = write(&btfs).unwrap();
        assert!(
            pack.starts_with(MAGIC_LINE.as_bytes()),
            "a small pack is stored plain"
        );
        let index = read_index_from(&mut decoder(&pack).unwrap()).unwrap();
        assert_eq!(index.blobs.len(), 3);
        assert_eq!(index.blobs[0].1, Encoding::Raw);
        assert_eq!(index.blobs[1].1, Encoding::Delta);
        assert_eq!(index.kernels.len(), 4);
        let back = read(&pack).unwrap();
        assert_eq!(back, btfs);
        let lazy = Pack::open(Arc::from(pack.clone())).unwrap();
        assert_eq!(
            lazy.kernels().collect::<Vec<_>>(),
            btfs.keys().collect::<Vec<_>>()
        );
        assert_eq!(lazy.blob_count(), 3);
        for (kernel, btf) in &btfs {
            assert_eq!(lazy.get(kernel).unwrap().as_ref(), Some(btf), "{kernel}");
        }
        assert_eq!(lazy.get(&kernel("9.9.9-none")).unwrap(), None);
        assert!(Arc::ptr_eq(
            &back[&kernel("5.4.0-9-generic")],
            &back[&kernel("5.4.0-10-generic")]
        ));
        // Release order: debian 4.19 first, then 5.4.0-9, 5.4.0-10, 5.8.
        assert_eq!(index.kernels[&kernel("5.4.0-9-generic")], 1);
        assert_eq!(index.kernels[&kernel("5.8.0-1-generic")], 2);
        assert_eq!(write(&btfs).unwrap(), pack, "deterministic");
    }

    #[test]
    fn large_packs_are_lzma_compressed() {
        let btfs: BTreeMap<KernelId, Arc<[u8]>> = (0..200u32)
            .map(|i| {
                (
                    kernel(&format!("5.4.0-{i}-generic")),
                    btf_with_offset(64 + i * 8),
                )
            })
            .collect();
        let pack = write(&btfs).unwrap();
        assert_eq!(&pack[..1], &[0], "LZMA-alone properties: lc=0 lp=0 pb=0");
        assert_eq!(read(&pack).unwrap(), btfs);
        let lazy = Pack::open(Arc::from(pack.clone())).unwrap();
        for kernel in [kernel("5.4.0-0-generic"), kernel("5.4.0-199-generic")] {
            assert_eq!(lazy.get(&kernel).unwrap().as_ref(), btfs.get(&kernel));
        }
        let cut = Pack::open(Arc::from(&pack[..pack.len() / 2]))
            .and_then(|p| p.get(&kernel("5.4.0-199-generic")));
        assert!(cut.is_err());
        for len in (0..pack.len()).step_by(11) {
            assert!(read(&pack[..len]).is_err());
        }
    }

    #[test]
    fn damaged_packs_are_errors() {
        let pack = write(&sample()).unwrap();
        assert!(matches!(read(b"garbage"), Err(Error::BadPack(_))));
        let cut = &pack[..pack.len() / 2];
        assert!(read(cut).is_err());
        let text = lzma_compress(b"bpf-compatible btf pack 1\n1 1\n5 d\n0 nowhere\n").unwrap();
        assert!(matches!(read(&text), Err(Error::BadPack(_))));
        let wrong = lzma_compress(b"something else\n").unwrap();
        assert!(read(&wrong)
            .unwrap_err()
            .to_string()
            .contains("something else"));
        for len in 0..pack.len() {
            let _ = read(&pack[..len]);
        }
        for i in 0..pack.len() {
            let mut flipped = pack.clone();
            flipped[i] ^= 0x55;
            let _ = read(&flipped);
        }
    }
}
