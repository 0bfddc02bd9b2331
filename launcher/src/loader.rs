//! Open, load and attach the package's BPF object with libbpf-rs.

use crate::btf_choice::PreparedBtf;
use crate::errors::{Failure, Kind, ResultExt};
use crate::libbpf_log;
use crate::options::Assignment;
use crate::tracefs;
use libbpf_rs::{Link, Object, ObjectBuilder, OpenObject};

/// A loaded object and the links that keep its programs attached.
/// Dropping it detaches the programs and unloads the object.
pub struct Loaded {
    /// Links, dropped first (detach) — field order matters.
    pub links: Vec<Link>,
    /// The loaded object (maps and programs).
    pub object: Object,
}

/// Open `object_bytes` as `obj_name`, load it against `btf` and attach every
/// program by its section (libbpf auto-attach).
pub fn load_and_attach(
    obj_name: &str,
    object_bytes: &[u8],
    btf: &PreparedBtf,
    assignments: &[Assignment],
    verbose: bool,
) -> Result<Loaded, Failure> {
    let mut builder = ObjectBuilder::default();
    // An empty name lets libbpf derive one; libbpf-rs passes a NUL-terminated copy.
    if !obj_name.is_empty() {
        builder.name(obj_name).kind_ctx(Kind::Payload, || {
            format!("package.json: meta.bpf_skel.obj_name {obj_name:?} is not a valid object name")
        })?;
    }
    if let Some(path) = &btf.custom_path {
        builder.btf_custom_path(path).kind_ctx(Kind::Other, || {
            format!("BTF path {} cannot be passed to libbpf", path.display())
        })?;
    }

    libbpf_log::clear();
    let open = builder
        .open_memory(object_bytes)
        .map_err(|e| libbpf_log::explain(&format!("libbpf cannot open BPF object {obj_name}"), e))
        .kind(Kind::Libbpf)?;

    let mut open = open;
    set_globals(&mut open, assignments)?;

    libbpf_log::clear();
    let object = open
        .load()
        .map_err(|e| {
            libbpf_log::explain(
                &format!("libbpf cannot load BPF object {obj_name} into the kernel"),
                e,
            )
        })
        .kind(Kind::Libbpf)?;

    let tracefs_hint = if object
        .progs()
        .any(|p| tracefs::section_needs_tracefs(&p.section().to_string_lossy()))
    {
        tracefs::ensure_mounted(verbose)
    } else {
        None
    };

    let mut links = Vec::new();
    let mut skipped = Vec::new();
    for prog in object.progs_mut() {
        if !prog.autoload() {
            continue;
        }
        let name = prog.name().to_string_lossy().into_owned();
        let section = prog.section().to_string_lossy().into_owned();
        libbpf_log::clear();
        match prog.attach() {
            Ok(link) => links.push(link),
            // libbpf has no automatic attach point for this section (xdp, tc, ...).
            Err(e) if e.kind() == libbpf_rs::ErrorKind::Unsupported => {
                let _ = libbpf_log::take();
                eprintln!(
                    "warning: program {name} (section {section}) cannot be attached automatically; \
                     it is loaded but not attached"
                );
                skipped.push(name);
            }
            Err(e) => {
                let mut failure = libbpf_log::explain(
                    &format!("libbpf cannot attach program {name} (section {section})"),
                    e,
                );
                if let Some(hint) = tracefs_hint
                    .as_ref()
                    .filter(|_| tracefs::section_needs_tracefs(&section))
                {
                    failure = failure.context(hint.clone());
                }
                return Err(failure).kind(Kind::Libbpf);
            }
        }
    }
    if links.is_empty() && !skipped.is_empty() {
        return Err(Failure::new(
            Kind::Libbpf,
            format!(
                "none of the programs ({}) can be attached automatically by libbpf; \
                 use section names libbpf can auto-attach (tp/, kprobe/, fentry/, ...)",
                skipped.join(", ")
            ),
        ));
    }
    Ok(Loaded { links, object })
}

/// Write the option values into the global-data maps' initial values
/// (libbpf copies them into the maps at load; `.rodata` is frozen after).
fn set_globals(open: &mut OpenObject, assignments: &[Assignment]) -> Result<(), Failure> {
    for a in assignments {
        let mut done = false;
        for mut map in open.maps_mut() {
            let name = map.name().to_string_lossy().into_owned();
            if !name.ends_with(&a.section) {
                continue;
            }
            let Some(data) = map.initial_value_mut() else {
                continue;
            };
            let end = a.offset.saturating_add(a.bytes.len());
            let Some(dst) = data.get_mut(a.offset..end) else {
                return Err(Failure::new(
                    Kind::Payload,
                    format!(
                        "global {} (bytes {}..{end} of {}) lies outside map {name} ({} bytes); \
                         the package does not match its object",
                        a.name,
                        a.offset,
                        a.section,
                        data.len()
                    ),
                ));
            };
            dst.copy_from_slice(&a.bytes);
            done = true;
            break;
        }
        if !done {
            return Err(Failure::new(
                Kind::Libbpf,
                format!(
                    "cannot set global {}: libbpf made no map for section {} of this object",
                    a.name, a.section
                ),
            ));
        }
    }
    Ok(())
}
