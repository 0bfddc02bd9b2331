//! Type compatibility checks, ported from libbpf `relo_core.c`.

use crate::btf::Btf;
use crate::kind::k;

/// Recursion limit of libbpf's compatibility checks.
const DEPTH: i32 = 32;

/// Upper bound on the steps of one compatibility check: libbpf recurses into every function
/// prototype parameter, which is exponential on crafted pointer cycles; real types need far less.
const STEP_BUDGET: u32 = 1 << 16;

/// Outcome of a check: `Ok(true/false)`, or `Err` for malformed input / too deep nesting.
pub(crate) type Check = Result<bool, String>;

/// Port of `bpf_core_is_flavor_sep`: `X___Y` where X and Y are not underscores.
fn is_flavor_sep(s: &[u8]) -> bool {
    s.len() >= 5 && s[0] != b'_' && s[1] == b'_' && s[2] == b'_' && s[3] == b'_' && s[4] != b'_'
}

/// Port of `bpf_core_essential_name_len`: the name up to its last flavour separator.
pub(crate) fn essential_name_len(name: &[u8]) -> usize {
    let n = name.len();
    if n >= 5 {
        for i in (0..=n - 5).rev() {
            if is_flavor_sep(&name[i..]) {
                return i + 1;
            }
        }
    }
    n
}

/// The essential (flavour-less) part of a name.
pub(crate) fn essential_name(name: &[u8]) -> &[u8] {
    &name[..essential_name_len(name)]
}

#[inline]
pub(crate) fn is_any_enum(kind: u8) -> bool {
    kind == k::ENUM || kind == k::ENUM64
}

#[inline]
pub(crate) fn is_composite(kind: u8) -> bool {
    kind == k::STRUCT || kind == k::UNION
}

/// Port of `btf_kind_core_compat`: equal kinds, or ENUM with ENUM64.
#[inline]
pub(crate) fn kind_core_compat(a: u8, b: u8) -> bool {
    a == b || (is_any_enum(a) && is_any_enum(b))
}

fn int_offset(int_data: u32) -> u32 {
    (int_data >> 16) & 0xff
}

/// Port of `bpf_core_fields_are_compat`.
pub(crate) fn fields_are_compat(local: &Btf, mut lid: u32, targ: &Btf, mut tid: u32) -> Check {
    let mut depth = DEPTH;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err(format!(
                "field types [{lid}] / [{tid}] nest deeper than {DEPTH}"
            ));
        }
        let (_, lt) = local.skip_mods_and_typedefs(lid);
        let (_, tt) = targ.skip_mods_and_typedefs(tid);
        if is_composite(lt.kind()) && is_composite(tt.kind()) {
            return Ok(true);
        }
        if !kind_core_compat(lt.kind(), tt.kind()) {
            return Ok(false);
        }
        match lt.kind() {
            k::PTR | k::FLOAT => return Ok(true),
            k::FWD | k::ENUM | k::ENUM64 => {
                let ln = essential_name(local.str_bytes(lt.name_off()));
                let tn = essential_name(targ.str_bytes(tt.name_off()));
                return Ok(ln.is_empty() || tn.is_empty() || ln == tn);
            }
            k::INT => return Ok(int_offset(lt.int_data()) == 0 && int_offset(tt.int_data()) == 0),
            k::ARRAY => {
                lid = lt.array().0;
                tid = tt.array().0;
            }
            _ => return Ok(false),
        }
    }
}

/// Port of `bpf_core_types_are_compat` (`__bpf_core_types_are_compat` with level 32).
pub(crate) fn types_are_compat(local: &Btf, lid: u32, targ: &Btf, tid: u32) -> Check {
    types_are_compat_level(local, lid, targ, tid, DEPTH, &mut STEP_BUDGET.clone())
}

fn types_are_compat_level(
    local: &Btf,
    mut lid: u32,
    targ: &Btf,
    mut tid: u32,
    level: i32,
    budget: &mut u32,
) -> Check {
    let (lt, tt) = (local.raw_or_void(lid), targ.raw_or_void(tid));
    if !kind_core_compat(lt.kind(), tt.kind()) {
        return Ok(false);
    }
    let mut depth = DEPTH;
    loop {
        step_type_walk(&mut depth, budget, lid, tid)?;
        let (_, lt) = local.skip_mods_and_typedefs(lid);
        let (_, tt) = targ.skip_mods_and_typedefs(tid);
        if !kind_core_compat(lt.kind(), tt.kind()) {
            return Ok(false);
        }
        match lt.kind() {
            k::UNKN | k::STRUCT | k::UNION | k::ENUM | k::FWD | k::ENUM64 => return Ok(true),
            k::INT => return Ok(int_offset(lt.int_data()) == 0 && int_offset(tt.int_data()) == 0),
            k::PTR => {
                lid = lt.size_or_type();
                tid = tt.size_or_type();
            }
            k::ARRAY => {
                lid = lt.array().0;
                tid = tt.array().0;
            }
            k::FUNC_PROTO => {
                if lt.vlen() != tt.vlen() {
                    return Ok(false);
                }
                for i in 0..lt.vlen() {
                    if level <= 0 {
                        return Err(format!("function prototypes nest deeper than {DEPTH}"));
                    }
                    let lp = local.skip_mods_and_typedefs(lt.param(i).1).0;
                    let tp = targ.skip_mods_and_typedefs(tt.param(i).1).0;
                    if !types_are_compat_level(local, lp, targ, tp, level - 1, budget)? {
                        return Ok(false);
                    }
                }
                lid = local.skip_mods_and_typedefs(lt.size_or_type()).0;
                tid = targ.skip_mods_and_typedefs(tt.size_or_type()).0;
            }
            _ => return Ok(false),
        }
    }
}

/// One step of a type-comparison walk: fails once the walk is deeper than
/// [`DEPTH`] levels or has used up its [`STEP_BUDGET`].
fn step_type_walk(depth: &mut i32, budget: &mut u32, lid: u32, tid: u32) -> Result<(), String> {
    *depth -= 1;
    if *depth < 0 {
        return Err(format!("types [{lid}] / [{tid}] nest deeper than {DEPTH}"));
    }
    *budget = budget.checked_sub(1).ok_or_else(|| {
        format!("comparing types [{lid}] / [{tid}] takes more than {STEP_BUDGET} steps")
    })?;
    Ok(())
}

/// Port of `bpf_core_names_match`.
fn names_match(local: &Btf, l_off: u32, targ: &Btf, t_off: u32) -> bool {
    let ln = local.str_bytes(l_off);
    let tn = targ.str_bytes(t_off);
    if tn.is_empty() {
        return ln.is_empty();
    }
    essential_name(ln) == essential_name(tn)
}

/// Port of `bpf_core_types_match` (TYPE_MATCHES semantics).
pub(crate) fn types_match(local: &Btf, lid: u32, targ: &Btf, tid: u32) -> Check {
    types_match_level(
        local,
        lid,
        targ,
        tid,
        false,
        DEPTH,
        &mut STEP_BUDGET.clone(),
    )
}

fn types_match_level(
    local: &Btf,
    mut lid: u32,
    targ: &Btf,
    mut tid: u32,
    mut behind_ptr: bool,
    level: i32,
    budget: &mut u32,
) -> Check {
    if level <= 0 {
        return Err(format!("types [{lid}] / [{tid}] nest deeper than {DEPTH}"));
    }
    let mut depth = DEPTH;
    loop {
        step_type_walk(&mut depth, budget, lid, tid)?;
        let (_, lt) = local.skip_mods_and_typedefs(lid);
        let (_, tt) = targ.skip_mods_and_typedefs(tid);
        if !names_match(local, lt.name_off(), targ, tt.name_off()) {
            return Ok(false);
        }
        let (lk, tk) = (lt.kind(), tt.kind());
        match lk {
            k::UNKN => return Ok(lk == tk),
            k::FWD => {
                let lf = lt.kflag();
                if behind_ptr {
                    if lk == tk {
                        return Ok(lf == tt.kflag());
                    }
                    return Ok((tk == k::STRUCT && !lf) || (tk == k::UNION && lf));
                }
                return Ok(lk == tk && lf == tt.kflag());
            }
            k::ENUM | k::ENUM64 => {
                if !is_any_enum(tk) {
                    return Ok(false);
                }
                return Ok(enums_match(local, lt, targ, tt));
            }
            k::STRUCT | k::UNION => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    if tk != k::FWD {
                        return Ok(false);
                    }
                    return Ok((lk == k::UNION) == tt.kflag());
                }
                if lk != tk {
                    return Ok(false);
                }
                return composites_match(local, lt, targ, tt, behind_ptr, level, budget);
            }
            k::INT => {
                if lk != tk {
                    return Ok(false);
                }
                let ls = (lt.int_data() >> 24) & 1;
                let ts = (tt.int_data() >> 24) & 1;
                return Ok(lt.size_or_type() == tt.size_or_type() && ls == ts);
            }
            k::PTR => {
                if lk != tk {
                    return Ok(false);
                }
                behind_ptr = true;
                lid = lt.size_or_type();
                tid = tt.size_or_type();
            }
            k::ARRAY => {
                if lk != tk || lt.array().2 != tt.array().2 {
                    return Ok(false);
                }
                lid = lt.array().0;
                tid = tt.array().0;
            }
            k::FUNC_PROTO => {
                if lk != tk || lt.vlen() != tt.vlen() {
                    return Ok(false);
                }
                for i in 0..lt.vlen() {
                    let ok = types_match_level(
                        local,
                        lt.param(i).1,
                        targ,
                        tt.param(i).1,
                        behind_ptr,
                        level - 1,
                        budget,
                    )?;
                    if !ok {
                        return Ok(false);
                    }
                }
                lid = lt.size_or_type();
                tid = tt.size_or_type();
            }
            _ => return Ok(false),
        }
    }
}

/// Port of `bpf_core_enums_match`.
fn enums_match(local: &Btf, lt: crate::raw::Raw<'_>, targ: &Btf, tt: crate::raw::Raw<'_>) -> bool {
    if lt.size_or_type() != tt.size_or_type() || lt.vlen() > tt.vlen() {
        return false;
    }
    let (l64, t64) = (lt.kind() == k::ENUM64, tt.kind() == k::ENUM64);
    (0..lt.vlen()).all(|i| {
        let ln = lt.enum_name_off(i, l64);
        (0..tt.vlen()).any(|j| names_match(local, ln, targ, tt.enum_name_off(j, t64)))
    })
}

/// Port of `bpf_core_composites_match`.
fn composites_match(
    local: &Btf,
    lt: crate::raw::Raw<'_>,
    targ: &Btf,
    tt: crate::raw::Raw<'_>,
    behind_ptr: bool,
    level: i32,
    budget: &mut u32,
) -> Check {
    if lt.vlen() > tt.vlen() {
        return Ok(false);
    }
    for i in 0..lt.vlen() {
        let (ln, ltype, _) = lt.member(i);
        let mut matched = false;
        for j in 0..tt.vlen() {
            let (tn, ttype, _) = tt.member(j);
            if !names_match(local, ln, targ, tn) {
                continue;
            }
            if types_match_level(local, ltype, targ, ttype, behind_ptr, level - 1, budget)? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essential_names_like_libbpf() {
        let e = |s: &str| essential_name_len(s.as_bytes());
        assert_eq!(e("task_struct___o"), 11);
        assert_eq!(e("task_struct"), 11);
        assert_eq!(e("a___b___c"), 5);
        assert_eq!(e("a____b"), 6); // no X___Y with non-underscores around
        assert_eq!(e("___x"), 4);
        assert_eq!(e(""), 0);
        assert_eq!(e("x___"), 4);
    }
}
