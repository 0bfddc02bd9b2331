//! Phase 1 of bpftool's btfgen: marking the kernel types and members a target spec needs.

use std::collections::HashMap;

use crate::btf::{is_mod_or_typedef, Btf};
use crate::core::compat::is_composite;
use crate::core::spec::Spec;
use crate::core::ReloKind;
use crate::error::{Error, Result};
use crate::kind::{k, kind_name};

/// Recursion limit for marking (libbpf has none; this only stops pathological input).
const MARK_DEPTH: u32 = 512;

/// Step budget of one relocation's marking (real kernels need a few thousand at most).
const MARK_STEPS: u32 = 1 << 20;

/// Marked types plus, per composite, its marked members.
#[derive(Debug)]
pub(crate) struct Marks {
    types: Vec<bool>,
    /// Marked ids in marking order (each once).
    marked: Vec<u32>,
    /// Steps left for the current relocation's marking (bpftool's marking has no visited
    /// check, so crafted pointer cycles would recurse forever; this turns them into errors).
    steps: u32,
    members: HashMap<u32, Vec<bool>>,
}

fn unsupported(btf: &Btf, id: u32, msg: &str) -> Error {
    Error::Unsupported {
        type_id: id,
        kind: kind_name(btf.raw_or_void(id).kind()),
        msg: msg.to_string(),
    }
}

impl Marks {
    pub(crate) fn new(type_count: u32) -> Marks {
        Marks {
            types: vec![false; type_count as usize],
            marked: Vec::new(),
            steps: 0,
            members: HashMap::new(),
        }
    }

    pub(crate) fn is_member_marked(&self, id: u32, idx: u32) -> bool {
        self.members
            .get(&id)
            .and_then(|m| m.get(idx as usize))
            .copied()
            .unwrap_or(false)
    }

    /// Port of `btfgen_record_reloc`.
    pub(crate) fn record(&mut self, kernel: &Btf, spec: &Spec<'_>) -> Result<()> {
        use ReloKind::*;
        self.steps = MARK_STEPS;
        match spec.kind {
            FieldByteOffset | FieldByteSize | FieldExists | FieldSigned | FieldLshiftU64
            | FieldRshiftU64 => self.record_field(kernel, spec),
            TypeIdLocal => Ok(()),
            TypeIdTarget | TypeExists | TypeSize => {
                self.mark_type(kernel, spec.root_type_id, true, 0)
            }
            TypeMatches => self.mark_type_match(kernel, spec.root_type_id, false, 0),
            EnumvalExists | EnumvalValue => self.mark_type(kernel, spec.root_type_id, false, 0),
        }
    }

    fn set_type(&mut self, id: u32) {
        if let Some(m) = self.types.get_mut(id as usize) {
            if !std::mem::replace(m, true) {
                self.marked.push(id);
            }
        }
    }

    /// Marked type ids in ascending order.
    pub(crate) fn marked_ids(&self) -> Vec<u32> {
        let mut ids = self.marked.clone();
        ids.sort_unstable();
        ids
    }

    /// Port of `btfgen_mark_member`, plus the check `btf__add_field` will make when emitting.
    fn mark_member(&mut self, kernel: &Btf, id: u32, idx: u32) -> Result<()> {
        let t = kernel.raw_or_void(id);
        let (off, size) = (t.member_bit_offset(idx), t.member_bitfield_size(idx));
        let is_bitfield = size != 0 || off % 8 != 0;
        if is_bitfield && (size == 0 || off > 0xff_ffff) {
            return Err(unsupported(
                kernel,
                id,
                &format!("member #{idx} at bit offset {off} cannot be re-emitted (bpftool's btf__add_field rejects it)"),
            ));
        }
        let vlen = t.vlen() as usize;
        let m = self.members.entry(id).or_insert_with(|| vec![false; vlen]);
        if let Some(slot) = m.get_mut(idx as usize) {
            *slot = true;
        }
        Ok(())
    }

    /// Port of `btfgen_record_field_relo`.
    fn record_field(&mut self, kernel: &Btf, spec: &Spec<'_>) -> Result<()> {
        let mut type_id = spec.root_type_id;
        let mut t = kernel.raw_or_void(type_id);
        self.mark_type(kernel, type_id, false, 0)?;
        for &idx in spec.raw.iter().skip(1) {
            let mut guard = 0;
            while is_mod_or_typedef(t.kind()) && guard < kernel.type_count() {
                type_id = t.size_or_type();
                t = kernel.raw_or_void(type_id);
                guard += 1;
            }
            match t.kind() {
                k::STRUCT | k::UNION => {
                    self.mark_member(kernel, type_id, idx)?;
                    type_id = t.member(idx).1;
                    t = kernel.raw_or_void(type_id);
                    self.mark_type(kernel, type_id, false, 0)?;
                }
                k::ARRAY => {
                    type_id = t.array().0;
                    t = kernel.raw_or_void(type_id);
                }
                _ => {
                    return Err(unsupported(
                        kernel,
                        type_id,
                        "unexpected kind on a field access path",
                    ))
                }
            }
        }
        Ok(())
    }

    fn step(&mut self, kernel: &Btf, id: u32) -> Result<()> {
        self.steps = self.steps.checked_sub(1).ok_or_else(|| {
            unsupported(kernel, id, "marking visits too many types (pointer cycle?)")
        })?;
        Ok(())
    }

    /// Port of `btfgen_mark_type`: marks a type and what it needs. Like bpftool it does not stop
    /// at types that are already marked (a pointer marked by a field relocation is followed
    /// later by a type relocation).
    fn mark_type(&mut self, kernel: &Btf, id: u32, follow_ptrs: bool, depth: u32) -> Result<()> {
        if id == 0 {
            return Ok(());
        }
        if depth > MARK_DEPTH {
            return Err(Error::TooDeep {
                type_id: id,
                limit: MARK_DEPTH,
            });
        }
        self.step(kernel, id)?;
        self.set_type(id);
        let t = kernel.raw_or_void(id);
        match t.kind() {
            k::INT | k::FLOAT | k::ENUM | k::ENUM64 | k::STRUCT | k::UNION => Ok(()),
            k::PTR => {
                if follow_ptrs {
                    self.mark_type(kernel, t.size_or_type(), follow_ptrs, depth + 1)
                } else {
                    Ok(())
                }
            }
            k::CONST | k::RESTRICT | k::VOLATILE | k::TYPEDEF => {
                self.mark_type(kernel, t.size_or_type(), follow_ptrs, depth + 1)
            }
            k::ARRAY => {
                let (elem, index, _) = t.array();
                self.mark_type(kernel, elem, follow_ptrs, depth + 1)?;
                self.mark_type(kernel, index, follow_ptrs, depth + 1)
            }
            k::FUNC_PROTO => {
                self.mark_type(kernel, t.size_or_type(), follow_ptrs, depth + 1)?;
                for i in 0..t.vlen() {
                    self.mark_type(kernel, t.param(i).1, follow_ptrs, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(unsupported(
                kernel,
                id,
                "unsupported kind (bpftool gen min_core_btf cannot keep it either)",
            )),
        }
    }

    /// Port of `btfgen_mark_type_match`: all members recursively, composites behind pointers
    /// without members. Unlike `mark_type` it does not stop at already-marked types.
    fn mark_type_match(
        &mut self,
        kernel: &Btf,
        id: u32,
        behind_ptr: bool,
        depth: u32,
    ) -> Result<()> {
        if id == 0 {
            return Ok(());
        }
        if depth > MARK_DEPTH {
            return Err(Error::TooDeep {
                type_id: id,
                limit: MARK_DEPTH,
            });
        }
        self.step(kernel, id)?;
        self.set_type(id);
        let t = kernel.raw_or_void(id);
        match t.kind() {
            k::INT | k::FLOAT | k::ENUM | k::ENUM64 => Ok(()),
            kind if is_composite(kind) => {
                if behind_ptr {
                    return Ok(());
                }
                for i in 0..t.vlen() {
                    self.mark_member(kernel, id, i)?;
                    self.mark_type_match(kernel, t.member(i).1, false, depth + 1)?;
                }
                Ok(())
            }
            k::CONST | k::FWD | k::RESTRICT | k::TYPEDEF | k::VOLATILE => {
                self.mark_type_match(kernel, t.size_or_type(), behind_ptr, depth + 1)
            }
            k::PTR => self.mark_type_match(kernel, t.size_or_type(), true, depth + 1),
            k::ARRAY => {
                let (elem, index, _) = t.array();
                self.mark_type_match(kernel, elem, false, depth + 1)?;
                self.mark_type_match(kernel, index, false, depth + 1)
            }
            k::FUNC_PROTO => {
                self.mark_type_match(kernel, t.size_or_type(), false, depth + 1)?;
                for i in 0..t.vlen() {
                    self.mark_type_match(kernel, t.param(i).1, false, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(unsupported(
                kernel,
                id,
                "unsupported kind (bpftool gen min_core_btf cannot keep it either)",
            )),
        }
    }
}
