//! The `meta` of package.json, derived from the object the way `ecc` (via
//! `bpftool gen skeleton -j`) does: maps, programs, data sections and the
//! exported event struct.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use btf::{Btf, Type};
use bundle::package::{
    is_data_section, DataSection, ExportMember, ExportType, Map, MapMeta, Meta, ProgMeta, Variable,
};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

/// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
const MAP_TYPE_PERF_EVENT_ARRAY: u32 = 4;
/// `BPF_MAP_TYPE_RINGBUF`.
const MAP_TYPE_RINGBUF: u32 = 27;
/// `BPF_OBJ_NAME_LEN`, including the terminating NUL.
const BPF_OBJ_NAME_LEN: usize = 16;

/// libbpf's object name for an object file: the file name up to its first
/// `.`, plus `_bpf` (`execsnoop.bpf.o` → `execsnoop_bpf`).
pub fn obj_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = file
        .split('.')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("obj");
    format!("{stem}_bpf")
}

/// libbpf's name for the internal map of data section `section`
/// (`internal_map_name`): up to 8 characters of the object name, then the
/// section name, at most 15 characters; no prefix for sections like
/// `.rodata.str1.1`; characters other than `[A-Za-z0-9_.]` become `_`.
pub fn internal_map_name(obj_name: &str, section: &str) -> String {
    let sfx_len = section.len().max(7);
    let has_second_dot = section.get(1..).is_some_and(|rest| rest.contains('.'));
    let pfx_len = if has_second_dot {
        0
    } else {
        (BPF_OBJ_NAME_LEN - 1)
            .saturating_sub(sfx_len)
            .min(obj_name.len())
    };
    let name: String = obj_name
        .chars()
        .take(pfx_len)
        .chain(section.chars())
        .take(BPF_OBJ_NAME_LEN - 1)
        .collect();
    sanitize(&name, |c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// A C identifier for a name (`.rodata.str1.1` → `rodata_str1_1`).
pub fn ident(name: &str) -> String {
    sanitize(name.trim_start_matches('.'), |c| {
        c.is_ascii_alphanumeric() || c == '_'
    })
}

fn sanitize(name: &str, keep: impl Fn(char) -> bool) -> String {
    name.chars()
        .map(|c| if keep(c) { c } else { '_' })
        .collect()
}

/// The DATASEC named `name`, if any.
fn datasec<'a>(btf: &'a Btf, name: &str) -> Option<Type<'a>> {
    btf.ids_by_name(name)
        .filter_map(|id| btf.type_by_id(id))
        .find(|t| matches!(t, Type::Datasec { .. }))
}

/// A BTF-defined map (a variable of the `.maps` section).
struct BtfMap {
    name: String,
    map_type: Option<u32>,
}

/// The `type` of a BTF-defined map: `int (*type)[N]` encodes N.
fn btf_map_type(btf: &Btf, var_type: u32) -> Option<u32> {
    let def = btf.type_by_id(btf.resolve(var_type))?;
    let member = def.members()?.iter().find(|m| m.name == "type")?;
    let Type::Ptr { target } = btf.type_by_id(btf.resolve(member.type_id))? else {
        return None;
    };
    match btf.type_by_id(btf.resolve(target))? {
        Type::Array { nelems, .. } => Some(nelems),
        _ => None,
    }
}

fn btf_maps(btf: &Btf) -> Vec<BtfMap> {
    let Some(Type::Datasec { vars, .. }) = datasec(btf, ".maps") else {
        return Vec::new();
    };
    vars.iter()
        .filter_map(|v| match btf.type_by_id(v.type_id) {
            Some(Type::Var { name, type_id, .. }) => Some(BtfMap {
                name: name.to_owned(),
                map_type: btf_map_type(btf, type_id),
            }),
            _ => None,
        })
        .collect()
}

/// The skeleton's variables of `section`: its non-static variables.
fn data_section(vars: &[btf::SectionVar], btf: &Btf, section: &str) -> Option<DataSection> {
    let Some(Type::Datasec { .. }) = datasec(btf, section) else {
        return None;
    };
    let variables = vars
        .iter()
        .filter(|v| v.section == section && !v.is_static)
        .map(|v| Variable {
            name: v.name.clone(),
            ty: btf.unqualified_c_type_name(v.type_id),
            size: Some(v.size),
            offset: Some(v.offset),
            extra: Map::new(),
        })
        .collect();
    Some(DataSection {
        name: section.to_owned(),
        variables,
        extra: Map::new(),
    })
}

/// Named structs of the object, sorted, for error messages.
fn struct_names(btf: &Btf) -> String {
    let mut names: Vec<&str> = (1..btf.type_count())
        .filter_map(|id| match btf.type_by_id(id) {
            Some(Type::Struct { name, .. }) if !name.is_empty() => Some(name),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return "none".to_owned();
    }
    let total = names.len();
    let mut list = names.into_iter().take(30).collect::<Vec<_>>().join(", ");
    if total > 30 {
        list.push_str(&format!(", ... ({total} in all)"));
    }
    list
}

fn export_type(btf: &Btf, name: &str, why: &str) -> Result<ExportType> {
    let ids: Vec<u32> = btf
        .ids_by_name(name)
        .filter(|id| matches!(btf.type_by_id(*id), Some(Type::Struct { .. })))
        .collect();
    let id = match ids.as_slice() {
        [id] => *id,
        [] => bail!(
            "{why}, but the object's BTF has no struct named '{name}' (structs: {}); pass \
             --event-type STRUCT, and keep the struct in the BTF, e.g. with a global \
             `const volatile struct {name} *__eunomia_dummy_{name}_ptr __attribute__((unused));`",
            struct_names(btf)
        ),
        many => bail!(
            "the object's BTF has {} structs named '{name}' (type ids {many:?}); the event type is ambiguous",
            many.len()
        ),
    };
    let Some(Type::Struct { size, members, .. }) = btf.type_by_id(id) else {
        return Err(anyhow!("type [{id}] is not a struct"));
    };
    Ok(ExportType {
        name: name.to_owned(),
        size: u64::from(size),
        type_id: id,
        members: members
            .iter()
            .map(|m| ExportMember {
                name: m.name.to_owned(),
                ty: btf.unqualified_c_type_name(m.type_id),
                extra: Map::new(),
            })
            .collect(),
        extra: Map::new(),
    })
}

/// The C source next to the object: `x.bpf.o` → `x.bpf.c`, `x.o` → `x.c`.
fn default_source(object: &Path) -> Option<std::path::PathBuf> {
    let name = object.file_name()?.to_str()?;
    let stem = name.strip_suffix(".o")?;
    let candidate = object.with_file_name(format!("{stem}.c"));
    candidate.is_file().then_some(candidate)
}

/// Adds the `///` doc comments of the object's C source (`source`, else the
/// `.bpf.c` next to the object when there is one) to `meta`.
pub fn add_source_docs(meta: &mut Meta, source: Option<&Path>, object: &Path) -> Result<()> {
    let Some(path) = source
        .map(Path::to_path_buf)
        .or_else(|| default_source(object))
    else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "--source {}: cannot read the C source for doc comments",
            path.display()
        )
    })?;
    let unmatched = crate::doc_comments::apply(meta, &crate::doc_comments::parse(&text));
    if !unmatched.is_empty() {
        log::warn!(
            "{}: doc comments on {} match nothing in the object (not a global, map or program \
             of it; is this the object's source?)",
            path.display(),
            unmatched.join(", ")
        );
    }
    Ok(())
}

/// Builds `meta` for the object at `path`.
pub fn build(path: &Path, elf: &[u8], btf: &Btf, event_type: Option<&str>) -> Result<Meta> {
    let file =
        object::File::parse(elf).with_context(|| format!("{}: not an ELF file", path.display()))?;
    let vars = btf::section_vars(elf, btf).with_context(|| format!("{}", path.display()))?;
    let obj_name = obj_name(path);
    let mut meta = Meta::new(obj_name.clone());
    let skel = &mut meta.bpf_skel;

    let btf_maps = btf_maps(btf);
    for map in &btf_maps {
        skel.maps.push(MapMeta {
            name: map.name.clone(),
            ident: ident(&map.name),
            mmaped: false,
            sample: None,
            extra: Map::new(),
        });
    }

    let mut sections: Vec<(usize, String)> = file
        .sections()
        .filter(|s| s.size() > 0)
        .filter_map(|s| Some((s.index().0, s.name().ok()?.to_owned())))
        .filter(|(_, name)| is_data_section(name))
        .collect();
    sections.sort();
    let has_kconfig =
        matches!(datasec(btf, ".kconfig"), Some(Type::Datasec { vars, .. }) if !vars.is_empty());
    let internal = sections
        .iter()
        .map(|(_, n)| n.as_str())
        .chain(has_kconfig.then_some(".kconfig"));
    for section in internal {
        skel.maps.push(MapMeta {
            name: internal_map_name(&obj_name, section),
            ident: ident(section),
            mmaped: true,
            sample: None,
            extra: Map::new(),
        });
        if section != ".kconfig" {
            if let Some(ds) = data_section(&vars, btf, section) {
                skel.data_sections.push(ds);
            }
        }
    }

    let mut progs: Vec<(usize, u64, ProgMeta)> = Vec::new();
    for sym in file.symbols() {
        if sym.kind() != SymbolKind::Text || !sym.is_global() || sym.is_undefined() {
            continue;
        }
        let Some(index) = sym.section_index() else {
            continue;
        };
        let Ok(section) = file.section_by_index(index) else {
            continue;
        };
        let Ok(section_name) = section.name() else {
            continue;
        };
        if section.kind() != SectionKind::Text || section_name == ".text" {
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        progs.push((
            index.0,
            sym.address(),
            ProgMeta {
                name: name.to_owned(),
                attach: section_name.to_owned(),
                link: true,
                extra: Map::new(),
            },
        ));
    }
    progs.sort_by_key(|(section, offset, _)| (*section, *offset));
    skel.progs = progs.into_iter().map(|(_, _, p)| p).collect();
    if skel.progs.is_empty() {
        bail!(
            "{}: the object has no BPF programs (no global functions in SEC(\"...\") sections)",
            path.display()
        );
    }

    let event_map = btf_maps.iter().find(|m| {
        matches!(
            m.map_type,
            Some(MAP_TYPE_RINGBUF | MAP_TYPE_PERF_EVENT_ARRAY)
        )
    });
    let export = match (event_type, event_map) {
        (Some(name), _) => Some(export_type(btf, name, "--event-type was given")?),
        (None, Some(map)) => Some(export_type(
            btf,
            "event",
            &format!(
                "map '{}' is a ring/perf buffer whose records need a struct to decode",
                map.name
            ),
        )?),
        (None, None) => None,
    };
    meta.export_types.extend(export);
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(obj_name(Path::new("/x/execsnoop.bpf.o")), "execsnoop_bpf");
        assert_eq!(obj_name(Path::new("a")), "a_bpf");
        assert_eq!(obj_name(Path::new(".hidden.o")), "obj_bpf");
        assert_eq!(
            internal_map_name("execsnoop_bpf", ".rodata"),
            "execsnoo.rodata"
        );
        assert_eq!(internal_map_name("execsnoop_bpf", ".bss"), "execsnoo.bss");
        assert_eq!(internal_map_name("ab_bpf", ".data"), "ab_bpf.data");
        assert_eq!(
            internal_map_name("execsnoop_bpf", ".kconfig"),
            "execsno.kconfig"
        );
        assert_eq!(
            internal_map_name("execsnoop_bpf", ".rodata.str1.1"),
            ".rodata.str1.1"
        );
        assert_eq!(
            internal_map_name("my-tool_bpf", ".rodata"),
            "my_tool_.rodata"
        );
        assert_eq!(ident(".rodata.str1.1"), "rodata_str1_1");
    }
}
