//! Canonical type order: the same types renumbered in an order that depends
//! only on the types themselves (kind, then name, then original id), with
//! the string section rebuilt in first-use order.
//!
//! Two kernels' minimised BTFs for one object hold nearly the same types,
//! but each kernel numbers them its own way; in canonical order they line
//! up, so a compressor stores the second as a few changed offsets. libbpf
//! reads such BTF (a `btf_custom_path`) exactly as the original: CO-RE
//! candidates are found by name over all ids, and every reference is
//! renumbered with its target.

use std::collections::HashMap;

use crate::btf::Btf;
use crate::error::{Error, Result};
use crate::header::Endian;
use crate::kind::extra_words;
use crate::write::BtfBuilder;

/// Rewrites raw little-endian BTF in canonical type order. Fails for input
/// that is not valid BTF, is big-endian, or holds kinds this crate does not
/// know (their records could not be renumbered safely).
pub fn canonical_order(raw: &[u8]) -> Result<Vec<u8>> {
    let btf = Btf::parse(raw)?;
    if btf.endian() == Endian::Big {
        return Err(Error::BadHeader(
            "canonical order is only written for little-endian BTF".into(),
        ));
    }
    let mut ids: Vec<u32> = (1..=btf.type_count()).collect();
    for &id in &ids {
        let t = btf.raw_or_void(id);
        if extra_words(t.kind(), t.vlen()).is_none() {
            return Err(Error::UnknownKind {
                type_id: id,
                kind: t.kind(),
            });
        }
    }
    ids.sort_by(|&a, &b| {
        let key = |id| (btf.raw_kind(id), btf.str_bytes(btf.name_off_of(id)));
        key(a).cmp(&key(b)).then(a.cmp(&b))
    });
    let mut out = BtfBuilder::new();
    let mut new_ids: HashMap<u32, u32> = HashMap::with_capacity(ids.len());
    for id in ids {
        if let Some(new_id) = out.add_type_from(&btf, id) {
            new_ids.insert(id, new_id);
        }
    }
    out.remap_ids(1, |old| new_ids.get(&old).copied().unwrap_or(0));
    Ok(out.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::IntEncoding;

    #[test]
    fn sorts_by_kind_then_name_and_renumbers_references() {
        let mut b = BtfBuilder::new();
        let s = b.add_struct("zeta", 8);
        let ptr = b.add_ptr(s);
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        b.add_struct("alpha", 8);
        b.add_member("next", ptr, 0, 0).unwrap();
        b.add_member("n", int, 0, 0).unwrap();
        let raw = b.to_bytes();
        let canon = Btf::parse(&canonical_order(&raw).unwrap()).unwrap();
        // INT (1), PTR (2), then the structs by name.
        let names: Vec<&str> = (1..=4).map(|id| canon.name(id)).collect();
        assert_eq!(names, ["int", "", "alpha", "zeta"]);
        assert_eq!(canon.c_type_name(2), "struct zeta *");
        let alpha = canon.type_by_id(3).unwrap();
        let members: Vec<(String, String)> = alpha
            .members()
            .unwrap()
            .iter()
            .map(|m| (m.name.to_string(), canon.c_type_name(m.type_id)))
            .collect();
        assert_eq!(
            members,
            [
                ("next".to_string(), "struct zeta *".to_string()),
                ("n".to_string(), "int".to_string())
            ]
        );
        assert_eq!(
            canonical_order(&canon.to_bytes()).unwrap(),
            canon.to_bytes()
        );
    }

    #[test]
    fn refuses_what_it_cannot_rewrite() {
        assert!(canonical_order(b"not btf").is_err());
    }
}
