//! Candidate lookup: kernel types by essential name, built in one pass for all wanted names.

use std::collections::HashMap;

use super::compat::{essential_name, essential_name_len, kind_core_compat};
use crate::btf::Btf;
use crate::kind::k;

/// Kind class for lookups: ENUM64 shares ENUM's class (they are CO-RE compatible).
#[inline]
fn class(kind: u8) -> u8 {
    if kind == k::ENUM64 {
        k::ENUM
    } else {
        kind
    }
}

/// Kernel type ids per essential name and kind class, in id order; filled lazily per name.
#[derive(Debug, Default)]
pub(crate) struct CandidateIndex {
    map: HashMap<Vec<u8>, HashMap<u8, Vec<u32>>>,
}

impl CandidateIndex {
    /// Makes sure every wanted (kind, essential name) is indexed, with one kernel pass for all
    /// missing ones. Only names of wanted kinds and essential-name lengths are hashed.
    pub(crate) fn ensure<'a>(
        &mut self,
        kernel: &Btf,
        wanted: impl Iterator<Item = (u8, &'a [u8])>,
    ) {
        let mut pending: HashMap<Vec<u8>, u128> = HashMap::new();
        for (kind, name) in wanted {
            let c = class(kind);
            let done = self.map.get(name).is_some_and(|m| m.contains_key(&c));
            if !name.is_empty() && !done {
                *pending.entry(name.to_vec()).or_default() |= 1 << (c & 0x7f);
            }
        }
        if pending.is_empty() {
            return;
        }
        let mut kinds = [false; 128];
        let mut lens = [false; 256];
        let mut long_names = false;
        // Bit set per wanted first two name bytes (the second is 0 for one-byte names).
        let mut prefixes = vec![0u64; 1024];
        let mut allow = |b0: u8, b1: u8| {
            let key = usize::from(b0) << 8 | usize::from(b1);
            if let Some(w) = prefixes.get_mut(key >> 6) {
                *w |= 1 << (key & 63);
            }
        };
        for (name, &mask) in &pending {
            for (c, want) in kinds.iter_mut().enumerate() {
                *want |= mask & (1 << c) != 0;
            }
            // ENUM64 types are ENUM-class candidates.
            kinds[usize::from(k::ENUM64)] |= mask & (1 << k::ENUM) != 0;
            match name.as_slice() {
                [] => {}
                // "a" also matches flavoured "a___x".
                &[b0] => {
                    allow(b0, 0);
                    allow(b0, b'_');
                }
                &[b0, b1, ..] => allow(b0, b1),
            }
            match lens.get_mut(name.len()) {
                Some(l) => *l = true,
                None => long_names = true,
            }
            let per_class = self.map.entry(name.clone()).or_default();
            for c in 0..128u8 {
                if mask & (1 << c) != 0 {
                    per_class.entry(c).or_default();
                }
            }
        }
        let strings = kernel.strings();
        let wanted_prefix = |b0: u8, b1: u8| {
            let key = usize::from(b0) << 8 | usize::from(b1);
            // An empty name (b0 = 0) never matches: wanted names are not empty.
            b0 != 0
                && prefixes
                    .get(key >> 6)
                    .is_some_and(|w| w >> (key & 63) & 1 != 0)
        };
        // Pass 1: ids of wanted kinds (a bit mask per 64 ids, so no branch per id), then
        // their name offsets (independent loads that overlap).
        let mut ids: Vec<u32> = Vec::new();
        for (base, chunk) in (0u32..).step_by(64).zip(kernel.raw_kinds().chunks(64)) {
            let mut bits = 0u64;
            for (j, &raw_kind) in chunk.iter().enumerate() {
                bits |= u64::from(kinds[usize::from(raw_kind & 0x7f)]) << j;
            }
            if base == 0 {
                bits &= !1; // id 0 is void
            }
            while bits != 0 {
                ids.push(base + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        let mut named: Vec<(u32, u32)> =
            ids.iter().map(|&id| (id, kernel.name_off_of(id))).collect();
        // Pass 2: keep those whose name starts with the first two bytes of a wanted name.
        // Branch-free, so the string loads (scattered over the section) overlap.
        let mut kept = 0;
        for j in 0..named.len() {
            let Some(&(id, name_off)) = named.get(j) else {
                break;
            };
            let at = name_off as usize;
            let b0 = strings.get(at).copied().unwrap_or(0);
            let b1 = strings.get(at + 1).copied().unwrap_or(0);
            if let Some(slot) = named.get_mut(kept) {
                *slot = (id, name_off);
            }
            kept += usize::from(wanted_prefix(b0, b1));
        }
        named.truncate(kept);
        // Pass 3: whole names.
        for (id, name_off) in named {
            let c = class(kernel.raw_kind(id));
            let name = kernel.str_bytes(name_off);
            let len = essential_name_len(name);
            if !lens.get(len).copied().unwrap_or(long_names) {
                continue;
            }
            let key = &name[..len];
            if pending.get(key).is_some_and(|m| m & (1 << (c & 0x7f)) != 0) {
                if let Some(list) = self.map.get_mut(key).and_then(|m| m.get_mut(&c)) {
                    list.push(id);
                }
            }
        }
    }

    /// Port of `bpf_core_add_cands` for one local type (already indexed by [`Self::ensure`]).
    pub(crate) fn candidates(&self, local: &Btf, local_id: u32, kernel: &Btf) -> Vec<u32> {
        let lt = local.raw_or_void(local_id);
        let name = essential_name(local.str_bytes(lt.name_off()));
        if name.is_empty() {
            return Vec::new();
        }
        self.map
            .get(name)
            .and_then(|m| m.get(&class(lt.kind())))
            .map(|ids| {
                ids.iter()
                    .copied()
                    .filter(|&id| kind_core_compat(kernel.raw_or_void(id).kind(), lt.kind()))
                    .collect()
            })
            .unwrap_or_default()
    }
}
