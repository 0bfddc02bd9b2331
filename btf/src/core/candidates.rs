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
        let mut kinds = [false; 256];
        let mut lens = [false; 256];
        let mut long_names = false;
        let mut first_bytes = [false; 256];
        for (name, &mask) in &pending {
            for (c, want) in kinds.iter_mut().enumerate().take(128) {
                *want |= mask & (1 << c) != 0;
            }
            // ENUM64 types are ENUM-class candidates.
            kinds[usize::from(k::ENUM64)] |= mask & (1 << k::ENUM) != 0;
            if let Some(&b) = name.first() {
                first_bytes[usize::from(b)] = true;
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
        for id in 1..kernel.type_count() {
            let raw_kind = kernel.raw_kind(id);
            if !kinds[usize::from(raw_kind)] {
                continue;
            }
            let c = class(raw_kind);
            let name_off = kernel.name_off_of(id);
            match strings.get(name_off as usize) {
                Some(&b) if b != 0 && first_bytes[usize::from(b)] => {}
                _ => continue,
            }
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
