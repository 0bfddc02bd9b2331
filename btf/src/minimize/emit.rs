//! Phase 2 of bpftool's btfgen (`btfgen_get_btf`): emitting marked types in original order.

use std::collections::HashMap;

use super::mark::Marks;
use crate::btf::Btf;
use crate::core::compat::is_composite;
use crate::kind::k;
use crate::write::BtfBuilder;

/// Builds the minimised BTF: marked types in id order, composites with only marked members,
/// every referenced id remapped (unmarked → 0).
pub(crate) fn emit(kernel: &Btf, marks: &Marks) -> Vec<u8> {
    let marked = marks.marked_ids();
    let mut ids: HashMap<u32, u32> = HashMap::with_capacity(marked.len());
    let mut out = BtfBuilder::new();
    for id in marked {
        let t = kernel.raw_or_void(id);
        let new_id = if is_composite(t.kind()) {
            let name = kernel.str_at(t.name_off());
            let new_id = if t.kind() == k::STRUCT {
                out.add_struct(name, t.size_or_type())
            } else {
                out.add_union(name, t.size_or_type())
            };
            for i in 0..t.vlen() {
                if !marks.is_member_marked(id, i) {
                    continue;
                }
                let (name_off, mtype, _) = t.member(i);
                // Checked when the member was marked, so this cannot fail.
                let _ = out.add_member(
                    kernel.str_at(name_off),
                    mtype,
                    t.member_bit_offset(i),
                    t.member_bitfield_size(i),
                );
            }
            Some(new_id)
        } else {
            out.add_type_from(kernel, id)
        };
        if let Some(new_id) = new_id {
            ids.insert(id, new_id);
        }
    }
    out.remap_ids(1, |old| ids.get(&old).copied().unwrap_or(0));
    out.to_bytes()
}
