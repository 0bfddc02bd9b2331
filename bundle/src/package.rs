//! The ecc-compatible `package.json` model (FORMAT.md §3).
//!
//! Unknown keys are kept (every struct flattens them into `extra`), so a
//! package read and written again keeps ecc's fields, including the
//! misspelled `intepreter` of map entries. `maps`, `progs`, `data_sections`
//! and `variables` accept `null` as empty.

use std::io::{Read, Write};

use base64::{engine::general_purpose::STANDARD, Engine as _};
/// Shared, cheaply cloned bytes: what [`Package::object`] returns.
pub use bytes::Bytes;
use flate2::{read::ZlibDecoder, write::ZlibEncoder, Compression};
use serde::{Deserialize, Deserializer, Serialize};
/// JSON maps and values as used by the `extra` fields.
pub use serde_json::{Map, Value};

use crate::Error;

/// The eunomia package format version written into `meta.eunomia_version`.
pub const EUNOMIA_VERSION: &str = "0.3.4";
/// The largest uncompressed object a reader accepts.
pub const MAX_OBJECT_SIZE: u64 = 256 << 20;
/// The default `poll_timeout_ms`.
pub const DEFAULT_POLL_TIMEOUT_MS: i32 = 100;

/// Whether an ELF section holds global variables that libbpf turns into a
/// global-data map (`.rodata`, `.data`, `.bss` and their `.rodata.*`
/// relatives): the sections of `bpf_skel.data_sections`.
pub fn is_data_section(name: &str) -> bool {
    [".rodata", ".data", ".bss"].iter().any(|base| {
        name == *base
            || name
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A whole `package.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Standard base64 of the zlib-compressed BPF ELF object; empty (and
    /// left out of the JSON) in a packed tool, whose payload carries the
    /// object as its own member (FORMAT.md §2).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bpf_object: String,
    /// Size of the uncompressed object.
    pub bpf_object_size: u64,
    /// The skeleton metadata.
    pub meta: Meta,
    /// Our own provenance block; ecli ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bpf_compatible: Option<Provenance>,
    /// Unknown top-level keys, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The object's bytes when they are at hand (given to [`Package::new`]
    /// or read from the payload's object member).
    #[serde(skip)]
    raw_object: RawObject,
}

/// The uncompressed object beside the JSON: a copy of what `bpf_object`
/// encodes (or stands in for it), never part of a package's identity.
#[derive(Debug, Clone, Default)]
struct RawObject(Option<Bytes>);

impl PartialEq for RawObject {
    fn eq(&self, _: &RawObject) -> bool {
        true
    }
}

impl Package {
    /// A package for `object` (compressed with zlib, encoded with base64).
    pub fn new(object: &[u8], meta: Meta) -> Package {
        Package {
            bpf_object: encode_object(object),
            bpf_object_size: object.len() as u64,
            meta,
            bpf_compatible: None,
            extra: Map::new(),
            raw_object: RawObject(Some(Bytes::copy_from_slice(object))),
        }
    }

    /// This package as a packed tool's `package.json` stores it: without
    /// `bpf_object` (the object is a payload member of its own).
    pub fn without_encoded_object(&self) -> Package {
        Package {
            bpf_object: String::new(),
            ..self.clone()
        }
    }

    /// This package with `bpf_object` filled in from the object (the form
    /// of the package layout, which ecli reads), e.g. for a package read
    /// from a packed tool.
    pub fn with_encoded_object(&self) -> Result<Package, Error> {
        let object = self.object()?;
        Ok(Package {
            bpf_object: encode_object(&object),
            ..self.clone()
        })
    }

    /// Attaches the object read from the payload's object member; it must
    /// have `bpf_object_size` bytes.
    pub fn set_raw_object(&mut self, object: Bytes) -> Result<(), Error> {
        if object.len() as u64 != self.bpf_object_size {
            return Err(Error::ObjectSizeMismatch {
                declared: self.bpf_object_size,
                actual: object.len() as u64,
            });
        }
        self.raw_object = RawObject(Some(object));
        Ok(())
    }

    /// Parses `package.json` bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Package, Error> {
        serde_json::from_slice(bytes).map_err(Error::PackageJson)
    }

    /// Pretty-printed JSON, deterministic (keys of unknown maps are sorted).
    pub fn to_json(&self) -> Vec<u8> {
        match serde_json::to_vec_pretty(self) {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                bytes
            }
            // Every map key is a string, so serialisation cannot fail.
            Err(e) => unreachable!("package.json serialisation failed: {e}"),
        }
    }

    /// The BPF ELF object: the bytes at hand, else base64 → zlib → size
    /// check against `bpf_object_size`.
    pub fn object(&self) -> Result<Bytes, Error> {
        if let Some(raw) = &self.raw_object.0 {
            return Ok(raw.clone());
        }
        if self.bpf_object.is_empty() {
            return Err(Error::MissingObject);
        }
        if self.bpf_object_size > MAX_OBJECT_SIZE {
            return Err(Error::ObjectTooLarge {
                declared: self.bpf_object_size,
                limit: MAX_OBJECT_SIZE,
            });
        }
        let compressed = STANDARD
            .decode(self.bpf_object.trim())
            .map_err(Error::ObjectBase64)?;
        let mut object = Vec::new();
        ZlibDecoder::new(compressed.as_slice())
            .take(self.bpf_object_size + 1)
            .read_to_end(&mut object)
            .map_err(Error::ObjectZlib)?;
        if object.len() as u64 != self.bpf_object_size {
            return Err(Error::ObjectSizeMismatch {
                declared: self.bpf_object_size,
                actual: object.len() as u64,
            });
        }
        Ok(Bytes::from(object))
    }
}

/// Standard base64 of the zlib-compressed object: `bpf_object`.
fn encode_object(object: &[u8]) -> String {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    match encoder.write_all(object).and_then(|()| encoder.finish()) {
        Ok(compressed) => STANDARD.encode(compressed),
        Err(e) => unreachable!("zlib into memory failed: {e}"),
    }
}

/// `meta`: eunomia's `EunomiaObjectMeta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The skeleton: object name, maps, programs, data sections.
    pub bpf_skel: BpfSkel,
    /// Event structs; `[0]` decodes ring/perf buffer records.
    #[serde(default, deserialize_with = "null_as_default")]
    pub export_types: Vec<ExportType>,
    /// The eunomia format version this package follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eunomia_version: Option<String>,
    /// Ring/perf buffer poll timeout in milliseconds (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_timeout_ms: Option<i32>,
    /// Whether every exporting map gets its own poller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_multiple_export_types: Option<bool>,
    /// Unknown keys (`perf_buffer_pages`, `debug_verbose`, ...), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Meta {
    /// Metadata with the given object name and nothing else, tagged with
    /// [`EUNOMIA_VERSION`].
    pub fn new(obj_name: impl Into<String>) -> Meta {
        Meta {
            bpf_skel: BpfSkel {
                obj_name: obj_name.into(),
                doc: None,
                maps: Vec::new(),
                progs: Vec::new(),
                data_sections: Vec::new(),
                extra: Map::new(),
            },
            export_types: Vec::new(),
            eunomia_version: Some(EUNOMIA_VERSION.to_owned()),
            poll_timeout_ms: None,
            enable_multiple_export_types: None,
            extra: Map::new(),
        }
    }

    /// `poll_timeout_ms`, or its default of 100.
    pub fn poll_timeout_ms(&self) -> i32 {
        self.poll_timeout_ms.unwrap_or(DEFAULT_POLL_TIMEOUT_MS)
    }
}

/// `meta.bpf_skel`: eunomia's `BpfSkeletonMeta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BpfSkel {
    /// The object name given to libbpf, `<file stem>_bpf`.
    pub obj_name: String,
    /// Documentation (`brief`, `version`, `details`, `description`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<Map<String, Value>>,
    /// Maps.
    #[serde(default, deserialize_with = "null_as_default")]
    pub maps: Vec<MapMeta>,
    /// Programs.
    #[serde(default, deserialize_with = "null_as_default")]
    pub progs: Vec<ProgMeta>,
    /// `.rodata` / `.bss` / `.data` sections and their variables.
    #[serde(default, deserialize_with = "null_as_default")]
    pub data_sections: Vec<DataSection>,
    /// Unknown keys, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BpfSkel {
    /// A string of `doc` (`brief`, `version`, `details`, `description`).
    pub fn doc_str(&self, key: &str) -> Option<&str> {
        self.doc.as_ref()?.get(key)?.as_str()
    }
}

/// One entry of `bpf_skel.maps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapMeta {
    /// The libbpf map name (internal maps: `<8 chars of obj_name><section>`).
    pub name: String,
    /// The skeleton identifier (`rodata`, `events`, ...).
    pub ident: String,
    /// Whether the map is memory-mapped (internal data maps).
    #[serde(default)]
    pub mmaped: bool,
    /// Sampling configuration of a histogram/key-value map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<Value>,
    /// Unknown keys (`export_config`, the misspelled `intepreter`, ...), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MapMeta {
    /// The struct this map's records are decoded with in eunomia's
    /// multiple-export mode: `export_config: {"btf_type_id": N}`.
    pub fn export_btf_type_id(&self) -> Option<u32> {
        let id = self
            .extra
            .get("export_config")?
            .get("btf_type_id")?
            .as_u64()?;
        u32::try_from(id).ok()
    }
}

/// One entry of `bpf_skel.progs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgMeta {
    /// The program (function) name.
    pub name: String,
    /// The ELF section name, e.g. `tp/sched/sched_process_exec`.
    pub attach: String,
    /// Whether the skeleton keeps a link for it.
    pub link: bool,
    /// Unknown keys (`ifindex`, `tchook`, `xdpopts`, ...), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `bpf_skel.data_sections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSection {
    /// `.rodata`, `.bss` or `.data`.
    pub name: String,
    /// The section's global variables.
    #[serde(default, deserialize_with = "null_as_default")]
    pub variables: Vec<Variable>,
    /// Unknown keys, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A global variable of a data section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    /// The variable name.
    pub name: String,
    /// Its C type, e.g. `unsigned int`, `char[16]`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Size in bytes (bpftool's `size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Offset inside the section (bpftool's `offset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Unknown keys (`value`, `description`, `cmdarg`, ...), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Variable {
    /// Its doc comment text (`description`).
    pub fn description(&self) -> Option<&str> {
        self.extra.get("description")?.as_str()
    }

    /// ecc's `cmdarg` (`long`, `short`, `default`, `help`).
    pub fn cmdarg(&self) -> Option<&Map<String, Value>> {
        self.extra.get("cmdarg")?.as_object()
    }
}

/// One entry of `meta.export_types`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportType {
    /// The struct name.
    pub name: String,
    /// The struct size in bytes.
    pub size: u64,
    /// The struct's type id in the object's own `.BTF`.
    pub type_id: u32,
    /// Its members.
    #[serde(default, deserialize_with = "null_as_default")]
    pub members: Vec<ExportMember>,
    /// Unknown keys, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A member of an exported struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportMember {
    /// The member name.
    pub name: String,
    /// Its C type (informational).
    #[serde(rename = "type")]
    pub ty: String,
    /// Unknown keys, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `bpf_compatible`: our provenance block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The payload format version (FORMAT.md).
    pub format_version: u32,
    /// The packer's version.
    pub packer_version: String,
    /// Hex SHA-256 of the uncompressed object.
    pub object_sha256: String,
    /// How many kernels the payload covers.
    pub kernels: u64,
    /// Unknown keys, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ecc_like() -> Value {
        let pkg = Package::new(b"\x7fELF object", Meta::new("x"));
        json!({
            "bpf_object": pkg.bpf_object,
            "bpf_object_size": 11,
            "future_key": {"a": 1},
            "meta": {
                "eunomia_version": "0.3.4",
                "perf_buffer_pages": 64,
                "bpf_skel": {
                    "obj_name": "bootstrap_bpf",
                    "doc": {"brief": "demo", "version": "0.1.0"},
                    "maps": [
                        {"name": "rb", "ident": "rb", "intepreter": "default_struct",
                         "export_config": {"btf_type_id": 4}},
                        {"name": "bootstra.rodata", "ident": "rodata", "mmaped": true}
                    ],
                    "progs": null,
                    "data_sections": [{"name": ".rodata", "variables": [
                        {"name": "min_duration_ns", "type": "unsigned long long",
                         "cmdarg": {"short": "d"}, "size": 8, "offset": 0}
                    ]}]
                },
                "export_types": [{"name": "event", "size": 32, "type_id": 42,
                                  "members": [{"name": "pid", "type": "int", "bit_offset": 0}]}]
            }
        })
    }

    #[test]
    fn reads_ecc_package_and_keeps_unknown_keys() {
        let bytes = serde_json::to_vec(&ecc_like()).unwrap();
        let pkg = Package::from_json(&bytes).unwrap();
        assert_eq!(&pkg.object().unwrap()[..], b"\x7fELF object");
        assert!(pkg.meta.bpf_skel.progs.is_empty());
        assert_eq!(
            pkg.meta.bpf_skel.maps[0].extra["intepreter"],
            "default_struct"
        );
        assert!(pkg.meta.bpf_skel.maps[1].mmaped);
        assert_eq!(pkg.meta.poll_timeout_ms(), 100);
        assert_eq!(pkg.meta.export_types[0].type_id, 42);
        let var = &pkg.meta.bpf_skel.data_sections[0].variables[0];
        assert_eq!((var.size, var.offset), (Some(8), Some(0)));
        assert_eq!(var.cmdarg().unwrap()["short"], "d");
        assert_eq!(var.description(), None);
        assert_eq!(pkg.meta.bpf_skel.maps[0].export_btf_type_id(), Some(4));
        assert_eq!(pkg.meta.bpf_skel.maps[1].export_btf_type_id(), None);
        assert_eq!(pkg.meta.bpf_skel.doc_str("brief"), Some("demo"));

        let again: Value = serde_json::from_slice(&pkg.to_json()).unwrap();
        let mut expected = ecc_like();
        expected["meta"]["bpf_skel"]["progs"] = json!([]);
        expected["meta"]["bpf_skel"]["maps"][0]["mmaped"] = json!(false);
        assert_eq!(again, expected);
    }

    #[test]
    fn null_maps_and_missing_optionals() {
        let json = br#"{"bpf_object":"","bpf_object_size":0,
            "meta":{"bpf_skel":{"obj_name":"a_bpf","maps":null,"progs":null,"data_sections":[]}}}"#;
        let pkg = Package::from_json(json).unwrap();
        assert!(pkg.meta.bpf_skel.maps.is_empty());
        assert!(pkg.meta.export_types.is_empty());
        assert!(pkg.bpf_compatible.is_none());
    }

    #[test]
    fn writes_zlib_base64() {
        let pkg = Package::new(&[7u8; 1000], Meta::new("t_bpf"));
        assert!(pkg.bpf_object.starts_with("eJ"), "zlib header 78 9c");
        assert_eq!(pkg.bpf_object_size, 1000);
        assert_eq!(pkg.object().unwrap().to_vec(), vec![7u8; 1000]);
        let back = Package::from_json(&pkg.to_json()).unwrap();
        assert_eq!(back, pkg);
    }

    #[test]
    fn object_errors_say_what_is_wrong() {
        let json = Package::new(b"abc", Meta::new("t_bpf")).to_json();
        let mut pkg = Package::from_json(&json).unwrap();
        pkg.bpf_object_size = 4;
        let e = pkg.object().unwrap_err().to_string();
        assert!(
            e.contains("3 bytes") && e.contains("bpf_object_size says 4"),
            "{e}"
        );

        pkg.bpf_object_size = 2;
        assert!(matches!(
            pkg.object(),
            Err(Error::ObjectSizeMismatch { declared: 2, .. })
        ));

        pkg.bpf_object = "not base64!".into();
        assert!(pkg.object().unwrap_err().to_string().contains("base64"));

        pkg.bpf_object = STANDARD.encode(b"not zlib");
        assert!(pkg.object().unwrap_err().to_string().contains("zlib"));

        pkg.bpf_object_size = u64::MAX;
        assert!(matches!(pkg.object(), Err(Error::ObjectTooLarge { .. })));
    }

    #[test]
    fn tool_form_carries_the_object_beside_the_json() {
        let pkg = Package::new(b"\x7fELF raw", Meta::new("t_bpf"));
        let json = pkg.without_encoded_object().to_json();
        assert!(!String::from_utf8_lossy(&json).contains("bpf_object\""));
        let mut back = Package::from_json(&json).unwrap();
        assert!(matches!(back.object(), Err(Error::MissingObject)));
        assert!(matches!(
            back.set_raw_object(Bytes::from_static(b"short")),
            Err(Error::ObjectSizeMismatch { .. })
        ));
        back.set_raw_object(Bytes::from_static(b"\x7fELF raw"))
            .unwrap();
        assert_eq!(&back.object().unwrap()[..], b"\x7fELF raw");
        let ecc = Package::from_json(&back.with_encoded_object().unwrap().to_json()).unwrap();
        assert_eq!(ecc, pkg);
        assert_eq!(&ecc.object().unwrap()[..], b"\x7fELF raw");
    }

    #[test]
    fn data_sections() {
        assert!(
            is_data_section(".rodata") && is_data_section(".data.x") && is_data_section(".bss")
        );
        assert!(
            !is_data_section(".rodatax") && !is_data_section(".maps") && !is_data_section(".text")
        );
    }

    #[test]
    fn invalid_json_is_an_error() {
        let e = Package::from_json(b"{\"meta\": 1}").unwrap_err();
        assert!(e.to_string().contains("package.json"), "{e}");
        assert!(Package::from_json(b"\x00garbage").is_err());
    }
}
