//! Build the [`EventLayout`] for ring/perf buffer records from the object's
//! own `.BTF`, starting at `meta.export_types[0]` (FORMAT.md §3).

use crate::errors::{Failure, Kind};
use crate::layout::{EventLayout, Field, Shape};
use btf::{Btf, Type};
use bundle::package::ExportType;

/// Nesting deeper than this is treated as malformed BTF (cycles).
const MAX_DEPTH: u32 = 32;
/// Struct name used when the package exports no type.
const DEFAULT_EVENT_STRUCT: &str = "event";
/// BPF pointers are 64-bit.
const POINTER_SIZE: u32 = 8;

/// The layouts of every output map: `export_types[0]` (see
/// [`layout_from_btf`]) for all maps, except maps whose meta entry has an
/// `export_config` of `{"btf_type_id": N}` (eunomia's multiple-export mode),
/// which get struct N.
#[derive(Debug, Clone, Default)]
pub struct EventLayouts {
    /// The layout for maps without their own.
    pub default: Option<EventLayout>,
    /// Map name → its own layout.
    pub per_map: Vec<(String, EventLayout)>,
}

impl EventLayouts {
    /// The layout records of map `name` are decoded with.
    pub fn for_map(&self, name: &str) -> Option<EventLayout> {
        self.per_map
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| l.clone())
            .or_else(|| self.default.clone())
    }
}

/// [`EventLayouts`] for the object and its package meta.
pub fn event_layouts(
    btf: Option<&Btf>,
    meta: &bundle::package::Meta,
) -> Result<EventLayouts, Failure> {
    let Some(btf) = btf else {
        if meta.export_types.is_empty() {
            return Ok(EventLayouts::default());
        }
        return Err(Failure::new(
            Kind::Payload,
            "package.json: the BPF object has no readable .BTF; it is needed to decode events as \
             export_types[0]; rebuild the object with clang -g",
        ));
    };
    let mut out = EventLayouts {
        default: layout_from_btf(btf, &meta.export_types)?,
        per_map: Vec::new(),
    };
    for m in &meta.bpf_skel.maps {
        if let Some(id) = m.export_btf_type_id() {
            let layout = struct_layout(btf, id).map_err(|e| {
                Failure::new(
                    Kind::Payload,
                    format!(
                        "package.json: map {}: export_config btf_type_id {id}: {e}",
                        m.name
                    ),
                )
            })?;
            out.per_map.push((m.name.clone(), layout));
        }
    }
    Ok(out)
}

/// The layout to decode records with: `export_types[0]`, or, when the
/// package exports nothing, the object's only `struct event`; `None` when
/// neither exists (records are then shown as hex).
pub fn layout_from_btf(
    btf: &Btf,
    export_types: &[ExportType],
) -> Result<Option<EventLayout>, Failure> {
    match export_types.first() {
        Some(et) => exported_struct(btf, et).map(Some),
        None => {
            Ok(only_struct_named(btf, DEFAULT_EVENT_STRUCT)
                .and_then(|id| struct_layout(btf, id).ok()))
        }
    }
}

/// The struct `et` describes: by `type_id` when it names a struct called
/// `et.name`, else the only struct with that name.
fn exported_struct(btf: &Btf, et: &ExportType) -> Result<EventLayout, Failure> {
    let by_id = btf
        .type_by_id(et.type_id)
        .is_some_and(|t| matches!(t, Type::Struct { name, .. } if name == et.name));
    let id = if by_id {
        Some(et.type_id)
    } else {
        only_struct_named(btf, &et.name)
    };
    let id = id.ok_or_else(|| {
        Failure::new(
            Kind::Payload,
            format!(
                "package.json: export_types[0] is struct {} with type_id {}, but the object's BTF has \
                 {} at that id and no single struct {} elsewhere; rebuild the package from this object",
                et.name,
                et.type_id,
                btf.type_by_id(et.type_id)
                    .map_or_else(|| "nothing".to_string(), |_| btf.c_type_name(et.type_id)),
                et.name
            ),
        )
    })?;
    struct_layout(btf, id)
}

fn only_struct_named(btf: &Btf, name: &str) -> Option<u32> {
    let mut ids = btf
        .ids_by_name(name)
        .filter(|id| matches!(btf.type_by_id(*id), Some(Type::Struct { .. })));
    let first = ids.next()?;
    ids.next().is_none().then_some(first)
}

fn struct_layout(btf: &Btf, id: u32) -> Result<EventLayout, Failure> {
    let bad = |what: String| {
        Failure::new(
            Kind::Payload,
            format!("the object's BTF for the event struct (type id {id}) is unusable: {what}"),
        )
    };
    let (name, size) = match btf.type_by_id(id) {
        Some(Type::Struct { name, size, .. }) => (name.to_string(), size),
        _ => return Err(bad("not a struct".into())),
    };
    let fields = record_fields(btf, id, 0, 0).map_err(bad)?;
    Ok(EventLayout { name, size, fields })
}

/// Skip typedef/const/volatile/restrict/type_tag (`Btf::resolve`) and decode the result.
fn resolve(btf: &Btf, id: u32) -> Result<(u32, Type<'_>), String> {
    let rid = btf.resolve(id);
    btf.type_by_id(rid)
        .map(|t| (rid, t))
        .ok_or_else(|| format!("type id {id} does not exist"))
}

/// Size in bytes as libbpf computes it (`Btf::size_of`); 0 for sizeless kinds.
fn type_size(btf: &Btf, id: u32) -> u32 {
    btf.size_of(id)
        .map_or(0, |size| u32::try_from(size).unwrap_or(u32::MAX))
}

/// Members of the struct/union `id`, offsets shifted by `base_bits`;
/// anonymous struct/union members are flattened into the parent.
fn record_fields(btf: &Btf, id: u32, base_bits: u64, depth: u32) -> Result<Vec<Field>, String> {
    if depth > MAX_DEPTH {
        return Err("structs nested too deeply".into());
    }
    let (_, t) = resolve(btf, id)?;
    let members = t
        .members()
        .ok_or_else(|| format!("type id {id} is not a struct or union"))?;
    let mut fields = Vec::new();
    for m in members.iter() {
        let offset = base_bits + u64::from(m.bit_offset);
        let (rid, rt) = resolve(btf, m.type_id)?;
        if m.name.is_empty() {
            if rt.members().is_some() {
                fields.extend(record_fields(btf, rid, offset, depth + 1)?);
            }
            continue;
        }
        let mut field = Field {
            name: m.name.to_string(),
            bit_offset: offset,
            bitfield_size: (m.bitfield_size != 0).then_some(m.bitfield_size),
            shape: shape(btf, m.type_id, depth + 1)?,
        };
        // Legacy bitfields are encoded in the INT type itself.
        if let Type::Int {
            size,
            bit_offset,
            bits,
            ..
        } = rt
        {
            if field.bitfield_size.is_none() && (bit_offset != 0 || u32::from(bits) != size * 8) {
                field.bit_offset += u64::from(bit_offset);
                field.bitfield_size = Some(u32::from(bits));
            }
        }
        fields.push(field);
    }
    Ok(fields)
}

fn is_char(t: &Type<'_>) -> bool {
    matches!(
        t,
        Type::Int {
            size: 1,
            char: true,
            ..
        }
    ) || matches!(
        t,
        Type::Int {
            size: 1,
            name: "char",
            ..
        }
    )
}

/// Key and value shapes of the BTF-defined map `name` (`__type(key, ...)`,
/// `__type(value, ...)` in its `.maps` definition); `None` parts when the map
/// gives only sizes.
pub fn map_types(btf: &Btf, name: &str) -> crate::sample::MapTypes {
    let mut out = crate::sample::MapTypes::default();
    let def = (1..btf.type_count()).find_map(|id| match btf.type_by_id(id) {
        Some(Type::Datasec {
            name: ".maps",
            vars,
            ..
        }) => vars.iter().find_map(|v| match btf.type_by_id(v.type_id) {
            Some(Type::Var {
                name: n, type_id, ..
            }) if n == name => Some(type_id),
            _ => None,
        }),
        _ => None,
    });
    let Some(def) = def else { return out };
    let Ok((_, t)) = resolve(btf, def) else {
        return out;
    };
    let Some(members) = t.members() else {
        return out;
    };
    for m in members.iter() {
        let target = match resolve(btf, m.type_id) {
            Ok((_, Type::Ptr { target })) => target,
            _ => continue,
        };
        match m.name {
            "key" => out.key = shape(btf, target, 0).ok(),
            "value" => out.value = shape(btf, target, 0).ok(),
            _ => {}
        }
    }
    out
}

/// The [`Shape`] of any type of `btf` (typedefs and qualifiers resolved).
pub fn shape_of(btf: &Btf, id: u32) -> Result<Shape, String> {
    shape(btf, id, 0)
}

fn shape(btf: &Btf, id: u32, depth: u32) -> Result<Shape, String> {
    if depth > MAX_DEPTH {
        return Err("types nested too deeply".into());
    }
    let (rid, t) = resolve(btf, id)?;
    Ok(match t {
        Type::Int {
            bool: true, size, ..
        } => Shape::Bool { size },
        Type::Int { size, signed, .. } if matches!(size, 1 | 2 | 4 | 8 | 16) => {
            Shape::Int { size, signed }
        }
        Type::Int { size, .. } => Shape::Opaque { size },
        Type::Float { size, .. } => Shape::Float { size },
        Type::Ptr { .. } => Shape::Ptr { size: POINTER_SIZE },
        Type::Enum {
            size,
            signed,
            values,
            ..
        }
        | Type::Enum64 {
            size,
            signed,
            values,
            ..
        } => Shape::Enum {
            size,
            signed,
            values: values
                .iter()
                .map(|v| {
                    let n = if signed {
                        i128::from(v.signed_value())
                    } else {
                        i128::from(v.value)
                    };
                    (v.name.to_string(), n)
                })
                .collect(),
        },
        Type::Array { elem, nelems, .. } => {
            let (_, et) = resolve(btf, elem)?;
            if is_char(&et) {
                Shape::CharArray { len: nelems }
            } else {
                Shape::Array {
                    elem: Box::new(shape(btf, elem, depth + 1)?),
                    elem_size: type_size(btf, elem),
                    len: nelems,
                }
            }
        }
        Type::Struct { .. } | Type::Union { .. } => Shape::Record {
            fields: record_fields(btf, rid, 0, depth + 1)?,
        },
        _ => Shape::Opaque {
            size: type_size(btf, rid),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_event, Value};
    use btf::{BtfBuilder, IntEncoding};

    fn export(name: &str, type_id: u32) -> ExportType {
        serde_json::from_value(serde_json::json!({
            "name": name, "size": 0, "type_id": type_id, "members": []
        }))
        .unwrap()
    }

    /// struct event { pid_t pid; char comm[4]; unsigned flag:1, lvl:3;
    ///   const enum st { A = 0, B = -1 } st; struct { short x; }; union { u8 b[2]; } u;
    ///   _Bool ok; struct event *next; };
    fn sample_btf() -> (btf::Btf, u32) {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let pid_t = b.add_typedef("pid_t", int);
        let chr = b.add_int("char", 1, IntEncoding::SIGNED);
        let uint = b.add_int("unsigned int", 4, IntEncoding::default());
        let comm = b.add_array(chr, int, 4);
        let st = b.add_enum("st", 4, true);
        b.add_enum_value("A", 0).unwrap();
        b.add_enum_value("B", -1).unwrap();
        let cst = b.add_const(st);
        let short = b.add_int("short", 2, IntEncoding::SIGNED);
        let anon = b.add_struct("", 2);
        b.add_member("x", short, 0, 0).unwrap();
        let u8t = b.add_int("unsigned char", 1, IntEncoding::default());
        let arr = b.add_array(u8t, int, 2);
        let un = b.add_union("", 2);
        b.add_member("b", arr, 0, 0).unwrap();
        let boolean = b.add_int("_Bool", 1, IntEncoding::BOOL);
        // `next` points at the struct added right after the pointer.
        let ptr = b.add_ptr(b.type_count() + 1);
        let ev = b.add_struct("event", 32);
        b.add_member("pid", pid_t, 0, 0).unwrap();
        b.add_member("comm", comm, 32, 0).unwrap();
        b.add_member("flag", uint, 64, 1).unwrap();
        b.add_member("lvl", uint, 65, 3).unwrap();
        b.add_member("st", cst, 96, 0).unwrap();
        b.add_member("", anon, 128, 0).unwrap();
        b.add_member("u", un, 144, 0).unwrap();
        b.add_member("ok", boolean, 176, 0).unwrap();
        b.add_member("next", ptr, 192, 0).unwrap();
        (b.build().unwrap(), ev)
    }

    fn record() -> Vec<u8> {
        let mut d = vec![0u8; 32];
        d[0..4].copy_from_slice(&42i32.to_le_bytes());
        d[4..7].copy_from_slice(b"sh\0");
        d[8] = 0b1011; // flag = 1, lvl = 0b101
        d[12..16].copy_from_slice(&(-1i32).to_le_bytes());
        d[16..18].copy_from_slice(&(-2i16).to_le_bytes());
        d[18] = 7;
        d[19] = 8;
        d[22] = 1;
        d[24..32].copy_from_slice(&0x1000u64.to_le_bytes());
        d
    }

    #[test]
    fn layout_from_built_btf_decodes_a_record() {
        let (btf, ev) = sample_btf();
        let layout = layout_from_btf(&btf, &[export("event", ev)])
            .unwrap()
            .unwrap();
        let names: Vec<&str> = layout.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["pid", "comm", "flag", "lvl", "st", "x", "u", "ok", "next"]
        );
        let v = decode_event(&layout, &record()).unwrap();
        let vals: Vec<Value> = v.into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            vals,
            vec![
                Value::Signed(42),
                Value::Str("sh".into()),
                Value::Unsigned(1),
                Value::Unsigned(5),
                Value::Enum {
                    name: Some("B".into()),
                    value: -1
                },
                Value::Signed(-2),
                Value::Record(vec![(
                    "b".into(),
                    Value::List(vec![Value::Unsigned(7), Value::Unsigned(8)])
                )]),
                Value::Bool(true),
                Value::Ptr(0x1000),
            ]
        );
    }

    #[test]
    fn wrong_type_id_falls_back_to_the_name_and_missing_exports_to_struct_event() {
        let (btf, ev) = sample_btf();
        let by_name = layout_from_btf(&btf, &[export("event", 1)])
            .unwrap()
            .unwrap();
        let default = layout_from_btf(&btf, &[]).unwrap().unwrap();
        let exact = layout_from_btf(&btf, &[export("event", ev)])
            .unwrap()
            .unwrap();
        assert_eq!(by_name, exact);
        assert_eq!(default, exact);
    }

    #[test]
    fn unknown_export_is_a_payload_error() {
        let (btf, _) = sample_btf();
        let err = layout_from_btf(&btf, &[export("nope", 1)]).unwrap_err();
        assert_eq!(err.kind, Kind::Payload);
        assert!(err.to_string().contains("struct nope"), "{err}");
    }

    #[test]
    fn maps_with_an_export_config_get_their_own_struct() {
        let (btf, ev) = sample_btf();
        let mut meta = bundle::package::Meta::new("x_bpf");
        meta.export_types = vec![export("event", ev)];
        meta.bpf_skel.maps = serde_json::from_value(serde_json::json!([
            {"name": "rb", "ident": "rb"},
            {"name": "other", "ident": "other", "export_config": {"btf_type_id": 9}}
        ]))
        .unwrap();
        let layouts = event_layouts(Some(&btf), &meta).unwrap();
        assert_eq!(layouts.for_map("rb").unwrap().name, "event");
        let other = layouts.for_map("other").unwrap();
        assert_eq!(other.name, "");
        assert_eq!(other.fields[0].name, "x");
        meta.bpf_skel.maps[1].extra["export_config"] = serde_json::json!({"btf_type_id": 999});
        let err = event_layouts(Some(&btf), &meta).unwrap_err();
        assert!(err.to_string().contains("map other"), "{err}");
    }

    #[test]
    fn no_exports_and_no_struct_event_means_hex() {
        let mut b = BtfBuilder::new();
        b.add_int("int", 4, IntEncoding::default());
        let btf = b.build().unwrap();
        assert_eq!(layout_from_btf(&btf, &[]).unwrap(), None);
    }
}
