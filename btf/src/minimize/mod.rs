//! [`Minimizer`]: bpftool `gen min_core_btf` in pure Rust.

mod emit;
mod mark;

use std::collections::HashMap;

use crate::btf::Btf;
use crate::core::candidates::CandidateIndex;
use crate::core::relo::calc_relo_insn;
use crate::core::ReloKind;
use crate::error::{Error, RelocationError, Result};
use crate::ext::RelocSection;
use crate::object::BpfObject;
use mark::Marks;

/// Minimises one kernel's BTF for any number of BPF objects; the output is the union.
///
/// The kernel is parsed once (by the caller) and its candidate index is shared by all objects.
#[derive(Debug)]
pub struct Minimizer<'k> {
    kernel: &'k Btf,
    index: CandidateIndex,
    marks: Marks,
}

impl<'k> Minimizer<'k> {
    /// A minimiser for this kernel with nothing marked yet.
    pub fn new(kernel: &'k Btf) -> Self {
        Minimizer {
            kernel,
            index: CandidateIndex::default(),
            marks: Marks::new(kernel.type_count()),
        }
    }

    /// Marks what the object's CO-RE relocations need (bpftool's `btfgen_record_obj`).
    ///
    /// Errors name the program (section), relocation index, kind, local type and access string.
    pub fn add_object(&mut self, obj: &BpfObject) -> Result<()> {
        if !obj.has_btf_ext() {
            return Err(Error::NoBtfExtSection);
        }
        self.add_relocs(obj.btf(), obj.core_relocs())
    }

    /// Marks what these CO-RE relocations (against `local` BTF) need.
    pub(crate) fn add_relocs(&mut self, local: &Btf, sections: &[RelocSection]) -> Result<()> {
        let kernel = self.kernel;
        let wanted: Vec<(u8, &[u8])> = sections
            .iter()
            .flat_map(|s| s.relos.iter())
            .filter(|r| r.kind != ReloKind::TypeIdLocal as u32)
            .filter_map(|r| local.raw(r.type_id))
            .map(|t| {
                let name = local.str_bytes(t.name_off());
                (t.kind(), crate::core::compat::essential_name(name))
            })
            .collect();
        self.index.ensure(kernel, wanted.into_iter());

        let mut cand_cache: HashMap<u32, Vec<u32>> = HashMap::new();
        for sec in sections {
            for (i, relo) in sec.relos.iter().enumerate() {
                let access = if (relo.access_str_off as usize) < local.strings().len() {
                    local.str_at(relo.access_str_off)
                } else {
                    ""
                };
                let ctx = |reason: String| {
                    Error::Relocation(Box::new(RelocationError {
                        section: sec.name.clone(),
                        index: i,
                        kind: ReloKind::from_raw(relo.kind).map_or_else(
                            || format!("kind {}", relo.kind),
                            |k| k.name().to_string(),
                        ),
                        type_id: relo.type_id,
                        type_name: local.name(relo.type_id).to_string(),
                        access: access.to_string(),
                        reason,
                    }))
                };
                let kind = ReloKind::from_raw(relo.kind)
                    .ok_or_else(|| ctx("unknown relocation kind".into()))?;
                if local.raw(relo.type_id).is_none() {
                    return Err(ctx("type id out of range".into()));
                }
                let mut empty = Vec::new();
                let cands = if kind == ReloKind::TypeIdLocal {
                    &mut empty
                } else {
                    cand_cache
                        .entry(relo.type_id)
                        .or_insert_with(|| self.index.candidates(local, relo.type_id, kernel))
                };
                let spec = calc_relo_insn(local, kind, relo.type_id, access, kernel, cands)
                    .map_err(ctx)?;
                if let Some(spec) = spec {
                    self.marks
                        .record(kernel, &spec)
                        .map_err(|e| ctx(e.to_string()))?;
                }
            }
        }
        Ok(())
    }

    /// The minimised raw BTF (24-byte header, little-endian).
    pub fn finish(self) -> Vec<u8> {
        emit::emit(self.kernel, &self.marks)
    }
}

/// Minimises `kernel` for all `objects` at once (`bpftool gen min_core_btf IN OUT OBJ...`).
pub fn minimize(kernel: &Btf, objects: &[&BpfObject]) -> Result<Vec<u8>> {
    let mut m = Minimizer::new(kernel);
    for obj in objects {
        m.add_object(obj)?;
    }
    Ok(m.finish())
}

#[cfg(test)]
mod tests;
