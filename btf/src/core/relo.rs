//! Relocation values and candidate selection, ported from libbpf `bpf_core_calc_relo_insn`.

use super::compat::is_any_enum;
use super::spec::{parse_spec, spec_match, Spec};
use super::ReloKind;
use crate::btf::Btf;
use crate::kind::k;

/// Why a value could not be computed.
#[derive(Debug)]
pub(crate) enum CalcErr {
    /// The instruction would be poisoned (`-EUCLEAN`): not an error.
    Poison,
    /// A real error.
    Fail(String),
}

/// The part of `struct bpf_core_relo_res` that decides ambiguity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReloRes {
    pub new_val: u64,
    pub poison: bool,
}

/// Port of `bpf_core_calc_field_relo` (value only).
fn field_value(kind: ReloKind, spec: Option<(&Btf, &Spec<'_>)>) -> Result<u64, CalcErr> {
    if kind == ReloKind::FieldExists {
        return Ok(u64::from(spec.is_some()));
    }
    let Some((btf, spec)) = spec else {
        return Err(CalcErr::Poison);
    };
    let acc = spec
        .spec
        .last()
        .ok_or_else(|| CalcErr::Fail("empty spec".into()))?;
    let resolve_size = |id: u32| {
        btf.resolve_size(id)
            .ok_or_else(|| CalcErr::Fail(format!("cannot compute the size of type [{id}]")))
    };
    if acc.name.is_none() {
        return match kind {
            ReloKind::FieldByteOffset => Ok(spec.bit_offset / 8),
            ReloKind::FieldByteSize => resolve_size(acc.type_id),
            _ => Err(CalcErr::Fail(format!(
                "relocation {kind} can't be applied to an array access"
            ))),
        };
    }
    let t = btf.raw_or_void(acc.type_id);
    let (_, mtype, _) = t.member(acc.idx);
    let (field_type_id, mt) = btf.skip_mods_and_typedefs(mtype);
    let bit_off = spec.bit_offset;
    let mut bit_sz = u64::from(t.member_bitfield_size(acc.idx));
    let (byte_off, byte_sz);
    if bit_sz > 0 {
        let mut sz = u64::from(mt.size_or_type());
        if sz == 0 {
            return Err(CalcErr::Fail(format!(
                "bitfield of zero-sized type [{field_type_id}]"
            )));
        }
        let mut off = bit_off / 8 / sz * sz;
        while bit_off + bit_sz - off * 8 > sz * 8 {
            if sz >= 8 {
                return Err(CalcErr::Fail(
                    "bitfield can't be read with a 64-bit load".into(),
                ));
            }
            sz *= 2;
            off = bit_off / 8 / sz * sz;
        }
        (byte_off, byte_sz) = (off, sz);
    } else {
        byte_sz = resolve_size(field_type_id)?;
        byte_off = bit_off / 8;
        bit_sz = byte_sz * 8;
    }
    Ok(match kind {
        ReloKind::FieldByteOffset => byte_off,
        ReloKind::FieldSigned => {
            let signed = (is_any_enum(mt.kind()) && mt.kflag())
                || (mt.kind() == k::INT && (mt.int_data() >> 24) & 1 != 0);
            u64::from(signed)
        }
        ReloKind::FieldByteSize => byte_sz,
        ReloKind::FieldLshiftU64 => 64u64.wrapping_sub(bit_off + bit_sz - byte_off * 8),
        ReloKind::FieldRshiftU64 => 64u64.wrapping_sub(bit_sz),
        _ => return Err(CalcErr::Fail(format!("unexpected field relocation {kind}"))),
    })
}

/// Port of `bpf_core_calc_type_relo`.
fn type_value(kind: ReloKind, spec: Option<(&Btf, &Spec<'_>)>) -> Result<u64, CalcErr> {
    let Some((btf, spec)) = spec else {
        return Ok(0);
    };
    match kind {
        ReloKind::TypeIdTarget => Ok(u64::from(spec.root_type_id)),
        ReloKind::TypeExists | ReloKind::TypeMatches => Ok(1),
        ReloKind::TypeSize => btf.resolve_size(spec.root_type_id).ok_or_else(|| {
            CalcErr::Fail(format!(
                "cannot compute the size of type [{}]",
                spec.root_type_id
            ))
        }),
        _ => Err(CalcErr::Fail(format!("unexpected type relocation {kind}"))),
    }
}

/// Port of `bpf_core_calc_enumval_relo`.
fn enumval_value(kind: ReloKind, spec: Option<(&Btf, &Spec<'_>)>) -> Result<u64, CalcErr> {
    match kind {
        ReloKind::EnumvalExists => Ok(u64::from(spec.is_some())),
        ReloKind::EnumvalValue => {
            let (btf, spec) = spec.ok_or(CalcErr::Poison)?;
            let acc = spec
                .spec
                .first()
                .ok_or_else(|| CalcErr::Fail("empty spec".into()))?;
            let t = btf.raw_or_void(acc.type_id);
            Ok(t.enum_value(acc.idx, t.kind() == k::ENUM64))
        }
        _ => Err(CalcErr::Fail(format!("unexpected enum relocation {kind}"))),
    }
}

/// Port of `bpf_core_calc_relo`: the local value must compute, the target may poison.
pub(crate) fn calc_relo(
    kind: ReloKind,
    local: (&Btf, &Spec<'_>),
    targ: Option<(&Btf, &Spec<'_>)>,
) -> Result<ReloRes, String> {
    let f = if kind.is_field_based() {
        field_value
    } else if kind.is_type_based() {
        type_value
    } else {
        enumval_value
    };
    let res = f(kind, Some(local)).and_then(|_| f(kind, targ));
    match res {
        Ok(new_val) => Ok(ReloRes {
            new_val,
            poison: false,
        }),
        Err(CalcErr::Poison) => Ok(ReloRes {
            new_val: 0,
            poison: true,
        }),
        Err(CalcErr::Fail(msg)) => Err(msg),
    }
}

/// Port of `bpf_core_calc_relo_insn` as bpftool uses it: returns the target spec of the first
/// matching candidate (`None` when nothing matches or for TYPE_ID_LOCAL). Candidates that do not
/// match are removed from `cands` (unless none matches), exactly like libbpf prunes its cache.
pub(crate) fn calc_relo_insn<'k>(
    local: &Btf,
    kind: ReloKind,
    type_id: u32,
    access: &str,
    targ: &'k Btf,
    cands: &mut Vec<u32>,
) -> Result<Option<Spec<'k>>, String> {
    if access.is_empty() {
        return Err("empty access string".into());
    }
    let local_spec = parse_spec(local, kind, type_id, access)
        .map_err(|e| format!("parsing local spec failed: {e}"))?;
    if kind == ReloKind::TypeIdLocal {
        return Ok(None);
    }
    if local.name(type_id).is_empty() {
        return Err("relocation doesn't support anonymous types".into());
    }
    let mut best: Option<(Spec<'k>, ReloRes)> = None;
    let mut kept = Vec::with_capacity(cands.len());
    for (i, &cand) in cands.iter().enumerate() {
        let cand_spec = spec_match(&local_spec, local, targ, cand)
            .map_err(|e| format!("error matching candidate #{i} [{cand}]: {e}"))?;
        let Some(cand_spec) = cand_spec else {
            continue;
        };
        let res = calc_relo(kind, (local, &local_spec), Some((targ, &cand_spec)))?;
        match &best {
            None => best = Some((cand_spec, res)),
            Some((bs, br)) => {
                if cand_spec.bit_offset != bs.bit_offset {
                    return Err(format!(
                        "field offset ambiguity: candidates [{}] and [{cand}] give bit offsets {} != {}",
                        bs.root_type_id, bs.bit_offset, cand_spec.bit_offset
                    ));
                }
                if res != *br {
                    return Err(format!(
                        "relocation decision ambiguity: candidates [{}] and [{cand}] give {} {} != {} {}",
                        bs.root_type_id,
                        if br.poison { "poison" } else { "value" },
                        br.new_val,
                        if res.poison { "poison" } else { "value" },
                        res.new_val
                    ));
                }
            }
        }
        kept.push(cand);
    }
    match best {
        Some((spec, _)) => {
            *cands = kept;
            Ok(Some(spec))
        }
        None => {
            calc_relo(kind, (local, &local_spec), None)?;
            Ok(None)
        }
    }
}
