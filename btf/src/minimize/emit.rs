//! Phase 2 of bpftool's btfgen (`btfgen_get_btf`): emitting marked types in original order.

use super::mark::Marks;
use crate::btf::Btf;
use crate::core::compat::is_composite;
use crate::kind::k;
use crate::write::BtfBuilder;

/// Builds the minimised BTF: marked types in id order, composites with only marked members,
/// every referenced id remapped (unmarked → 0).
pub(crate) fn emit(kernel: &Btf, marks: &Marks) -> Vec<u8> {
    let n = kernel.type_count();
    let mut ids = vec![0u32; n as usize];
    let mut out = BtfBuilder::new();
    for id in 1..n {
        if !marks.is_type_marked(id) {
            continue;
        }
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
        if let (Some(slot), Some(new_id)) = (ids.get_mut(id as usize), new_id) {
            *slot = new_id;
        }
    }
    out.remap_ids(1, |old| ids.get(old as usize).copied().unwrap_or(0));
    out.to_bytes()
}
