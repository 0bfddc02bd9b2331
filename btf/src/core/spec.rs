//! Access specs: parsing the local `"0:1:2"` string and matching it against a target type.

use super::compat::{essential_name, fields_are_compat, is_any_enum, is_composite};
use super::ReloKind;
use crate::btf::Btf;
use crate::kind::k;

/// `BPF_CORE_SPEC_MAX_LEN`.
pub(crate) const SPEC_MAX_LEN: usize = 64;

/// One high-level accessor (`struct bpf_core_accessor`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accessor<'a> {
    pub type_id: u32,
    pub idx: u32,
    /// Member/enumerator name; `None` for array accessors.
    pub name: Option<&'a [u8]>,
}

/// A parsed or matched spec (`struct bpf_core_spec`).
#[derive(Debug, Clone)]
pub(crate) struct Spec<'a> {
    pub root_type_id: u32,
    pub kind: ReloKind,
    pub spec: Vec<Accessor<'a>>,
    /// Raw indices, anonymous members included.
    pub raw: Vec<u32>,
    pub bit_offset: u64,
}

impl<'a> Spec<'a> {
    fn new(root_type_id: u32, kind: ReloKind) -> Spec<'a> {
        Spec {
            root_type_id,
            kind,
            spec: Vec::new(),
            raw: Vec::new(),
            bit_offset: 0,
        }
    }
}

/// Error text of a failed parse or match.
pub(crate) type SpecErr = String;

fn parse_access(access: &str) -> Result<Vec<u32>, SpecErr> {
    let mut raw = Vec::new();
    for part in access.split(':') {
        if raw.len() == SPEC_MAX_LEN {
            return Err(format!(
                "access string has more than {SPEC_MAX_LEN} indices"
            ));
        }
        let idx = part
            .parse::<u32>()
            .map_err(|_| format!("bad index '{part}' in access string"))?;
        raw.push(idx);
    }
    Ok(raw)
}

fn size(btf: &Btf, id: u32) -> Result<u64, SpecErr> {
    btf.resolve_size(id)
        .ok_or_else(|| format!("cannot compute the size of type [{id}]"))
}

/// Port of `is_flex_arr`: the accessed array is the last member of its struct and has 0 elements.
fn is_flex_arr(btf: &Btf, prev: Option<&Accessor<'_>>, nelems: u32) -> bool {
    match prev {
        Some(acc) if acc.name.is_some() && nelems == 0 => {
            let vlen = btf.raw_or_void(acc.type_id).vlen();
            vlen > 0 && acc.idx == vlen - 1
        }
        _ => false,
    }
}

/// Port of `bpf_core_parse_spec`.
pub(crate) fn parse_spec<'a>(
    btf: &'a Btf,
    kind: ReloKind,
    type_id: u32,
    access: &str,
) -> Result<Spec<'a>, SpecErr> {
    let raw = parse_access(access)?;
    let mut spec = Spec::new(type_id, kind);
    if kind.is_type_based() {
        if access != "0" {
            return Err(format!(
                "type-based relocation needs access string \"0\", got \"{access}\""
            ));
        }
        spec.raw = raw;
        return Ok(spec);
    }
    let (mut id, t) = btf.skip_mods_and_typedefs(type_id);
    let first = raw.first().copied().unwrap_or(0);
    spec.spec.push(Accessor {
        type_id: id,
        idx: first,
        name: None,
    });
    if kind.is_enumval_based() {
        if !is_any_enum(t.kind()) || raw.len() > 1 || first >= t.vlen() {
            return Err(format!(
                "enum value relocation: [{id}] is not an enum with a value #{first}"
            ));
        }
        spec.spec[0].name = Some(btf.str_bytes(t.enum_name_off(first, t.kind() == k::ENUM64)));
        spec.raw = raw;
        return Ok(spec);
    }
    let sz = size(btf, id)?;
    spec.bit_offset = u64::from(first) * sz * 8;
    for &idx in raw.iter().skip(1) {
        let (tid, t) = btf.skip_mods_and_typedefs(id);
        id = tid;
        if is_composite(t.kind()) {
            if idx >= t.vlen() {
                return Err(format!(
                    "member index {idx} out of range for [{id}] (vlen {})",
                    t.vlen()
                ));
            }
            spec.bit_offset += u64::from(t.member_bit_offset(idx));
            let (name_off, mtype, _) = t.member(idx);
            if name_off != 0 {
                let name = btf.str_bytes(name_off);
                if name.is_empty() {
                    return Err(format!("member #{idx} of [{id}] has an empty name"));
                }
                spec.spec.push(Accessor {
                    type_id: id,
                    idx,
                    name: Some(name),
                });
            }
            id = mtype;
        } else if t.kind() == k::ARRAY {
            let (elem, _, nelems) = t.array();
            // libbpf records the (modifier-skipped) element type in the array accessor.
            let (elem_id, _) = btf.skip_mods_and_typedefs(elem);
            let flex = is_flex_arr(btf, spec.spec.last(), nelems);
            if !flex && idx >= nelems {
                return Err(format!(
                    "array index {idx} out of range for [{id}] ({nelems} elements)"
                ));
            }
            spec.spec.push(Accessor {
                type_id: elem_id,
                idx,
                name: None,
            });
            spec.bit_offset += u64::from(idx) * size(btf, elem_id)? * 8;
            id = elem_id;
        } else {
            return Err(format!(
                "access index {idx} reaches type [{id}] of unexpected kind {}",
                crate::kind::kind_name(t.kind())
            ));
        }
    }
    spec.raw = raw;
    Ok(spec)
}

/// Port of `bpf_core_match_member`: finds `local_acc`'s member by name in target composite
/// `targ_id`, descending into anonymous members. Returns the next target type id on a match.
fn match_member<'k>(
    local: &Btf,
    local_acc: &Accessor<'_>,
    targ: &'k Btf,
    targ_id: u32,
    spec: &mut Spec<'k>,
    budget: &mut u32,
) -> Result<Option<u32>, SpecErr> {
    *budget = budget
        .checked_sub(1)
        .ok_or("anonymous members nest too wide to search")?;
    let (targ_id, tt) = targ.skip_mods_and_typedefs(targ_id);
    if !is_composite(tt.kind()) {
        return Ok(None);
    }
    let lt = local.raw_or_void(local_acc.type_id);
    let (_, local_mtype, _) = lt.member(local_acc.idx);
    let local_name = local_acc.name.unwrap_or(&[]);
    for i in 0..tt.vlen() {
        let bit_offset = u64::from(tt.member_bit_offset(i));
        if spec.raw.len() == SPEC_MAX_LEN {
            return Err(format!(
                "struct/union/array nesting deeper than {SPEC_MAX_LEN}"
            ));
        }
        spec.bit_offset += bit_offset;
        spec.raw.push(i);
        let (name_off, mtype, _) = tt.member(i);
        let targ_name = targ.str_bytes(name_off);
        if targ_name.is_empty() {
            if let Some(next) = match_member(local, local_acc, targ, mtype, spec, budget)? {
                return Ok(Some(next));
            }
        } else if targ_name == local_name {
            spec.spec.push(Accessor {
                type_id: targ_id,
                idx: i,
                name: Some(targ_name),
            });
            if fields_are_compat(local, local_mtype, targ, mtype)? {
                return Ok(Some(mtype));
            }
            // libbpf pops only the accessor here; raw index and offset stay (match fails anyway).
            spec.spec.pop();
            return Ok(None);
        }
        spec.bit_offset -= bit_offset;
        spec.raw.pop();
    }
    Ok(None)
}

/// Port of `bpf_core_spec_match`: `Ok(Some(target spec))` if candidate `targ_id` matches.
pub(crate) fn spec_match<'k>(
    local_spec: &Spec<'_>,
    local: &Btf,
    targ: &'k Btf,
    targ_id: u32,
) -> Result<Option<Spec<'k>>, SpecErr> {
    let mut ts = Spec::new(targ_id, local_spec.kind);
    let kind = local_spec.kind;
    if kind.is_type_based() {
        let m = if kind == ReloKind::TypeMatches {
            super::compat::types_match(local, local_spec.root_type_id, targ, targ_id)?
        } else {
            super::compat::types_are_compat(local, local_spec.root_type_id, targ, targ_id)?
        };
        return Ok(m.then_some(ts));
    }
    let Some(first) = local_spec.spec.first() else {
        return Err("empty local spec".into());
    };
    if kind.is_enumval_based() {
        let (tid, tt) = targ.skip_mods_and_typedefs(targ_id);
        if !is_any_enum(tt.kind()) {
            return Ok(None);
        }
        let want = essential_name(first.name.unwrap_or(&[]));
        let is64 = tt.kind() == k::ENUM64;
        for i in 0..tt.vlen() {
            let name = targ.str_bytes(tt.enum_name_off(i, is64));
            if essential_name(name) == want {
                ts.spec.push(Accessor {
                    type_id: tid,
                    idx: i,
                    name: Some(name),
                });
                ts.raw.push(i);
                return Ok(Some(ts));
            }
        }
        return Ok(None);
    }
    if !kind.is_field_based() {
        return Err(format!("unsupported relocation kind {kind}"));
    }
    let mut targ_id = targ_id;
    let mut budget: u32 = 1 << 16;
    for (i, local_acc) in local_spec.spec.iter().enumerate() {
        let (tid, tt) = targ.skip_mods_and_typedefs(targ_id);
        targ_id = tid;
        if local_acc.name.is_some() {
            match match_member(local, local_acc, targ, targ_id, &mut ts, &mut budget)? {
                Some(next) => targ_id = next,
                None => return Ok(None),
            }
        } else {
            if i > 0 {
                if tt.kind() != k::ARRAY {
                    return Ok(None);
                }
                let (elem, _, nelems) = tt.array();
                let flex = is_flex_arr(targ, ts.spec.last(), nelems);
                if !flex && local_acc.idx >= nelems {
                    return Ok(None);
                }
                targ_id = targ.skip_mods_and_typedefs(elem).0;
            }
            if ts.raw.len() == SPEC_MAX_LEN {
                return Err(format!(
                    "struct/union/array nesting deeper than {SPEC_MAX_LEN}"
                ));
            }
            ts.spec.push(Accessor {
                type_id: targ_id,
                idx: local_acc.idx,
                name: None,
            });
            ts.raw.push(local_acc.idx);
            ts.bit_offset += u64::from(local_acc.idx) * size(targ, targ_id)? * 8;
        }
    }
    Ok(Some(ts))
}
