//! BPF objects: the test-only programs in tests/bpf/*.bpf.c (compiled here with clang against
//! a vmlinux.h generated from the host BTF) and the example objects of `make examples`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{btf_ext, env, tools};

/// One BPF object file.
#[derive(Clone, Debug)]
pub struct BpfObjectFile {
    /// "test/fields" or "example/execsnoop".
    pub label: String,
    /// The object on disk.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The test-only programs' sources.
pub fn test_sources() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.c"))
        .collect();
    sources.sort();
    sources
}

/// Test objects that some kernels must refuse (ambiguous candidates); left out of the
/// "all objects that succeed" sets.
pub const REFUSED_SOMEWHERE: [&str; 2] = ["test/ambiguous", "test/type_id_duplicates"];

/// Objects whose `bpf_core_type_exists()` relocations are rewritten to TYPE_MATCHES.
const TYPE_MATCHES_OBJECTS: [&str; 2] = ["type_matches", "tags_struct_matches"];

/// The compiled test-only objects (compiled once per process, cached on disk by mtime).
/// `None` (with a notice) when clang or bpftool is missing outside CI.
pub fn test_objects() -> Option<Vec<BpfObjectFile>> {
    static OBJECTS: OnceLock<Option<Vec<BpfObjectFile>>> = OnceLock::new();
    OBJECTS.get_or_init(compile_all).clone()
}

fn compile_all() -> Option<Vec<BpfObjectFile>> {
    let Some(clang) = tools::find_in_path("clang") else {
        if env::in_ci() {
            panic!("clang is not installed and CI=true: run `make deps`");
        }
        eprintln!("notice: clang not found; the test-only BPF objects are skipped");
        return None;
    };
    let include = vmlinux_include_dir()?;
    let out_dir = env::work_dir().join("objects");
    std::fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    let vmlinux_h = include.join("vmlinux.h");
    let bpf_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf");
    let all_inputs: Vec<PathBuf> = std::fs::read_dir(&bpf_dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    Some(
        test_sources()
            .iter()
            .map(|src| {
                let stem = src
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map(|n| n.trim_end_matches(".bpf.c").to_string())
                    .unwrap_or_default();
                let out = out_dir.join(format!("{stem}.bpf.o"));
                let this_file =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/objects.rs");
                // Any source or header of tests/bpf may be included by this one.
                let mut inputs: Vec<&Path> = all_inputs.iter().map(PathBuf::as_path).collect();
                inputs.extend([vmlinux_h.as_path(), this_file.as_path()]);
                if is_stale(&out, &inputs) {
                    compile(
                        &clang,
                        &include,
                        src,
                        &out,
                        TYPE_MATCHES_OBJECTS.contains(&stem.as_str()),
                    );
                }
                BpfObjectFile {
                    label: format!("test/{stem}"),
                    bytes: env::read(&out),
                    path: out,
                }
            })
            .collect(),
    )
}

fn is_stale(out: &Path, inputs: &[&Path]) -> bool {
    let Ok(built) = out.metadata().and_then(|m| m.modified()) else {
        return true;
    };
    inputs.iter().any(|i| {
        i.metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t > built)
    })
}

fn compile(clang: &Path, include: &Path, src: &Path, out: &Path, to_type_matches: bool) {
    let tmp = out.with_extension(format!("tmp.{}.o", std::process::id()));
    let mut cmd = Command::new(clang);
    cmd.args([
        "-g",
        "-O2",
        "-target",
        "bpf",
        "-D__TARGET_ARCH_x86",
        "-Wall",
    ])
    .arg(format!("-I{}", include.display()))
    .arg("-c")
    .arg(src)
    .arg("-o")
    .arg(&tmp);
    let output = tools::run(&mut cmd);
    if !output.status.success() {
        panic!(
            "compiling a test BPF program failed ({}):\n  {}\n{}",
            output.status,
            tools::describe(&cmd),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut bytes = env::read(&tmp);
    let _ = std::fs::remove_file(&tmp);
    if to_type_matches {
        let n = btf_ext::rewrite_kind(&mut bytes, 8, 12);
        assert!(
            n > 0,
            "{}: no TYPE_EXISTS relocation to rewrite to TYPE_MATCHES",
            src.display()
        );
    }
    env::write_atomic(out, &bytes);
}

/// A directory holding vmlinux.h, generated with bpftool from the host BTF (or, without it,
/// from the first sample-archive kernel).
fn vmlinux_include_dir() -> Option<PathBuf> {
    let dir = env::work_dir().join("include");
    let header = dir.join("vmlinux.h");
    if header.is_file() {
        return Some(dir);
    }
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let bpftool = tools::bpftool()?;
    let source = if Path::new(env::HOST_BTF).is_file() {
        PathBuf::from(env::HOST_BTF)
    } else {
        let kernels = super::kernels::archive_kernels(&env::work_dir());
        match kernels.first() {
            Some(k) => k.raw_path.clone(),
            None => {
                eprintln!("notice: no host BTF and no sample archive: cannot generate vmlinux.h; test objects skipped");
                return None;
            }
        }
    };
    let mut cmd = Command::new(&bpftool);
    cmd.args(["btf", "dump", "file"])
        .arg(&source)
        .args(["format", "c"]);
    let output = tools::run(&mut cmd);
    if !output.status.success() {
        panic!(
            "generating vmlinux.h failed: {}\n{}",
            tools::describe(&cmd),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    env::write_atomic(&header, &output.stdout);
    Some(dir)
}

/// The example objects (`$BPFC_EXAMPLES_DIR/*.bpf.o`); empty with a notice when absent.
pub fn example_objects() -> Vec<BpfObjectFile> {
    let dir = env::examples_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    if paths.is_empty() {
        eprintln!(
            "notice: no example objects in {} (run `make examples` or set BPFC_EXAMPLES_DIR); examples skipped",
            dir.display()
        );
    }
    paths
        .into_iter()
        .map(|path| {
            let stem = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(|n| n.trim_end_matches(".bpf.o").to_string())
                .unwrap_or_default();
            BpfObjectFile {
                label: format!("example/{stem}"),
                bytes: env::read(&path),
                path,
            }
        })
        .collect()
}

/// Test objects then examples.
pub fn all_objects() -> Vec<BpfObjectFile> {
    let mut objects = test_objects().unwrap_or_default();
    objects.extend(example_objects());
    objects
}
