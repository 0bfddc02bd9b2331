//! [`KernelBtfs`]: a payload's BTF per kernel, held as bytes (built by the
//! packer, or read from `btfhub-archive/` members) or as a BTF pack whose
//! blobs are decoded only when asked for.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    sync::Arc,
};

use crate::{btf_pack::Pack, identity::KernelId, Error};

/// The minimised BTF of each kernel a payload covers.
#[derive(Debug, Clone, Default)]
pub struct KernelBtfs {
    loaded: BTreeMap<KernelId, Arc<[u8]>>,
    pack: Option<Pack>,
}

impl KernelBtfs {
    /// No kernels.
    pub fn new() -> KernelBtfs {
        KernelBtfs::default()
    }

    /// The kernels of a BTF pack, decoded on demand.
    pub fn from_pack(pack: Pack) -> KernelBtfs {
        KernelBtfs {
            loaded: BTreeMap::new(),
            pack: Some(pack),
        }
    }

    /// Adds (or replaces) a kernel's BTF.
    pub fn insert(&mut self, kernel: KernelId, btf: Arc<[u8]>) {
        self.loaded.insert(kernel, btf);
    }

    /// The kernels covered, sorted.
    pub fn kernels(&self) -> Vec<&KernelId> {
        let mut all: BTreeSet<&KernelId> = self.loaded.keys().collect();
        if let Some(pack) = &self.pack {
            all.extend(pack.kernels());
        }
        all.into_iter().collect()
    }

    /// The number of kernels covered.
    pub fn len(&self) -> usize {
        match &self.pack {
            None => self.loaded.len(),
            Some(_) => self.kernels().len(),
        }
    }

    /// Whether no kernel is covered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `kernel` is covered.
    pub fn contains(&self, kernel: &KernelId) -> bool {
        self.loaded.contains_key(kernel) || self.pack.as_ref().is_some_and(|p| p.contains(kernel))
    }

    /// The BTF of `kernel`, if covered (decoding it from the pack).
    pub fn get(&self, kernel: &KernelId) -> Result<Option<Arc<[u8]>>, Error> {
        if let Some(btf) = self.loaded.get(kernel) {
            return Ok(Some(btf.clone()));
        }
        match &self.pack {
            Some(pack) => pack.get(kernel),
            None => Ok(None),
        }
    }

    /// Every kernel's BTF (decoding the whole pack, checked to its end).
    pub fn load_all(&self) -> Result<BTreeMap<KernelId, Arc<[u8]>>, Error> {
        let mut all = match &self.pack {
            Some(pack) => pack.read_all()?,
            None => BTreeMap::new(),
        };
        all.extend(self.loaded.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(all)
    }

    /// The number of distinct BTFs (without decoding a pack: it stores each
    /// distinct BTF once).
    pub fn unique_count(&self) -> usize {
        let distinct: HashSet<&[u8]> = self.loaded.values().map(|b| &b[..]).collect();
        distinct.len() + self.pack.as_ref().map_or(0, Pack::blob_count)
    }
}

impl From<BTreeMap<KernelId, Arc<[u8]>>> for KernelBtfs {
    fn from(loaded: BTreeMap<KernelId, Arc<[u8]>>) -> KernelBtfs {
        KernelBtfs { loaded, pack: None }
    }
}

impl FromIterator<(KernelId, Arc<[u8]>)> for KernelBtfs {
    fn from_iter<I: IntoIterator<Item = (KernelId, Arc<[u8]>)>>(iter: I) -> KernelBtfs {
        KernelBtfs::from(iter.into_iter().collect::<BTreeMap<_, _>>())
    }
}

impl PartialEq for KernelBtfs {
    /// The same kernels with the same bytes (packs are decoded to compare;
    /// a pack that cannot be decoded equals nothing).
    fn eq(&self, other: &KernelBtfs) -> bool {
        match (self.load_all(), other.load_all()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf_pack;

    fn kernel(rel: &str) -> KernelId {
        KernelId::new("ubuntu", "20.04", "x86_64", rel)
    }

    #[test]
    fn packed_and_loaded_kernels_read_alike() {
        let loaded: KernelBtfs = [
            (kernel("5.4.0-1-generic"), Arc::from(&b"btf-A"[..])),
            (kernel("5.4.0-2-generic"), Arc::from(&b"btf-A"[..])),
            (kernel("5.8.0-1-generic"), Arc::from(&b"btf-B"[..])),
        ]
        .into_iter()
        .collect();
        let pack = btf_pack::write(&loaded.load_all().unwrap()).unwrap();
        let packed = KernelBtfs::from_pack(btf_pack::Pack::open(Arc::from(pack)).unwrap());
        for btfs in [&loaded, &packed] {
            assert_eq!(btfs.len(), 3);
            assert_eq!(btfs.unique_count(), 2);
            assert!(btfs.contains(&kernel("5.4.0-2-generic")));
            assert!(!btfs.contains(&kernel("5.4.0-3-generic")));
            assert_eq!(
                btfs.get(&kernel("5.8.0-1-generic")).unwrap().as_deref(),
                Some(&b"btf-B"[..])
            );
            assert_eq!(btfs.get(&kernel("5.4.0-3-generic")).unwrap(), None);
        }
        assert_eq!(loaded, packed);

        let mut more = packed.clone();
        more.insert(kernel("6.0.0-1-generic"), Arc::from(&b"btf-C"[..]));
        assert_eq!(more.len(), 4);
        assert_eq!(
            more.kernels().last().map(|k| k.release.as_str()),
            Some("6.0.0-1-generic")
        );
        assert_ne!(more, packed);
    }
}
