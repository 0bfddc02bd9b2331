//! Runs the built `packer` binary on real BPF objects and the sample
//! btfhub archive.
//!
//! Objects: `$BPFC_EXAMPLES_DIR/execsnoop.bpf.o` when set, else a small CO-RE
//! program compiled here with clang against a `vmlinux.h` dumped from
//! `/sys/kernel/btf/vmlinux` by bpftool. Archive: `$BTFHUB_ARCHIVE`, else
//! `../shared/btfhub-archive` next to the repository. Tests that need a
//! missing piece print a skip notice and pass.
#![allow(clippy::unwrap_used)]

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use bundle::{identity::KernelId, payload::Payload, trailer};

mod common;
use common::*;

#[test]
fn min_btf_on_sample_kernel() {
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let dir = tempdir();
    let dst = dir.path().join("min.btf");
    let src = archive.join(SAMPLE_KERNEL);
    let out = packer(&["min-btf", str_path(&src), str_path(&dst), str_path(&obj)]);
    assert_ok(&out);
    let min = fs::read(&dst).unwrap();
    let btf = btf::Btf::parse(&min).unwrap();
    assert!(
        btf.ids_by_name("task_struct").next().is_some(),
        "task_struct kept"
    );
    let full = btf::decode_kernel_btf(&fs::read(&src).unwrap()).unwrap();
    assert!(
        min.len() * 10 < full.len(),
        "minimised {} vs full {}",
        min.len(),
        full.len()
    );
}

/// `packer min-btf` gives the same bytes as `bpftool gen min_core_btf`.
#[test]
fn min_btf_matches_bpftool() {
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let dir = tempdir();
    let full = dir.path().join("full.btf");
    let src = archive.join(SAMPLE_KERNEL);
    fs::write(
        &full,
        btf::decode_kernel_btf(&fs::read(&src).unwrap()).unwrap(),
    )
    .unwrap();
    let oracle = dir.path().join("oracle.btf");
    if let Err(e) = run_tool(
        Command::new("bpftool")
            .args(["gen", "min_core_btf"])
            .arg(&full)
            .arg(&oracle)
            .arg(&obj),
    ) {
        eprintln!("SKIP: bpftool oracle unavailable: {e}");
        return;
    }
    let ours = dir.path().join("ours.btf");
    assert_ok(&packer(&[
        "min-btf",
        str_path(&src),
        str_path(&ours),
        str_path(&obj),
    ]));
    assert!(
        fs::read(&oracle).unwrap() == fs::read(&ours).unwrap(),
        "differs from bpftool"
    );
}

/// `packer btfgen --inputdir INPUT --outputdir OUTDIR --obj OBJ...`.
fn btfgen(input: &Path, outdir: &Path, objs: &[&Path]) -> Output {
    let mut args = vec![
        "btfgen",
        "--inputdir",
        str_path(input),
        "--outputdir",
        str_path(outdir),
    ];
    for obj in objs {
        args.extend(["--obj", str_path(obj)]);
    }
    packer(&args)
}

#[test]
fn btfgen_on_sample_archive() {
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let dir = tempdir();
    let outdir = dir.path().join("out");
    let out = btfgen(&archive, &outdir, &[&obj, &obj]);
    assert_ok(&out);
    let inputs = bundle::btfhub::Archive::scan(&archive).unwrap();
    assert!(!inputs.entries.is_empty());
    for entry in &inputs.entries {
        let dst = outdir.join(entry.kernel.relative_path());
        let bytes = fs::read(&dst).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
        btf::Btf::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
    }
    let written = walk(&outdir);
    assert_eq!(written.len(), inputs.entries.len(), "{written:?}");
}

#[test]
fn btfgen_reports_bad_kernels_and_goes_on() {
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let dir = tempdir();
    let input = dir.path().join("in");
    let good = input.join(SAMPLE_KERNEL);
    fs::create_dir_all(good.parent().unwrap()).unwrap();
    fs::copy(archive.join(SAMPLE_KERNEL), &good).unwrap();
    let bad = input.join("ubuntu/20.04/x86_64/9.9.9-bad.btf.tar.xz");
    fs::write(&bad, b"not xz").unwrap();
    let outdir = dir.path().join("out");
    let out = btfgen(&input, &outdir, &[&obj]);
    assert_fails(&out, 1, &["9.9.9-bad.btf.tar.xz", "1 of 2 kernels failed"]);
    assert!(outdir
        .join("ubuntu/20.04/x86_64/5.4.0-26-generic.btf")
        .is_file());
    assert!(!outdir.join("ubuntu/20.04/x86_64/9.9.9-bad.btf").exists());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn build_tar_is_an_ecli_package() {
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let dir = tempdir();
    let tar = dir.path().join("pkg.tar");
    let out = packer(&build_tar_args(
        &obj,
        &archive,
        &["ubuntu/20.04", "centos,debian/10/x86_64/4.19.0-17-amd64"],
        &tar,
    ));
    assert_ok(&out);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("for 8 kernels"), "{summary}");

    let bytes = fs::read(&tar).unwrap();
    assert_eq!(
        &bytes[..12],
        b"package.json",
        "uncompressed tar, package.json first"
    );
    let payload = Payload::from_bytes(&bytes).unwrap();
    assert_eq!(payload.btfs.len(), 8);
    assert!(payload
        .btfs
        .contains(&KernelId::new("debian", "10", "x86_64", "4.19.0-17-amd64")));
    for btf in payload.btfs.load_all().unwrap().values() {
        btf::Btf::parse(btf).unwrap();
    }
    let pkg = &payload.package;
    assert_eq!(pkg.object().unwrap().to_vec(), fs::read(&obj).unwrap());
    let skel = &pkg.meta.bpf_skel;
    assert!(skel.obj_name.ends_with("_bpf"));
    assert!(skel.maps.iter().any(|m| m.name == "events" && !m.mmaped));
    assert!(skel
        .maps
        .iter()
        .any(|m| m.ident == "rodata" && m.mmaped && m.name.ends_with(".rodata")));
    assert!(
        skel.progs
            .iter()
            .all(|p| p.link && p.attach.starts_with("tp/")),
        "{:?}",
        skel.progs
    );
    let rodata = skel
        .data_sections
        .iter()
        .find(|d| d.name == ".rodata")
        .unwrap();
    assert!(
        rodata.variables.iter().all(|v| !v.ty.starts_with("const")),
        "{rodata:?}"
    );
    let event = &pkg.meta.export_types[0];
    assert_eq!(event.name, "event");
    assert!(
        event
            .members
            .iter()
            .any(|m| m.name == "comm" && m.ty == "char[16]"),
        "{event:?}"
    );
    let prov = pkg.bpf_compatible.as_ref().unwrap();
    assert_eq!(prov.kernels, 8);

    // Deterministic: the same inputs give the same bytes.
    let again = dir.path().join("again.tar");
    let out = packer(&[
        "build",
        str_path(&obj),
        "--btfhub",
        str_path(&archive),
        "-k",
        "centos",
        "ubuntu/20.04",
        "debian/10/x86_64/4.19.0-17-amd64",
        "--tar",
        str_path(&again),
    ]);
    assert_ok(&out);
    assert_eq!(fs::read(&again).unwrap(), bytes);

    let out = packer(&["inspect", str_path(&tar)]);
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kernels:  8") && text.contains("ubuntu/20.04/x86_64:"),
        "{text}"
    );
}

#[test]
fn build_tool_appends_payload_to_launcher() {
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let dir = tempdir();
    let launcher = fake_launcher(dir.path());
    let tool = dir.path().join("mytool");
    let args = [
        "build",
        str_path(&obj),
        "--btfhub",
        str_path(&archive),
        "--kernels",
        "debian/10",
        "--launcher",
        str_path(&launcher),
        "-o",
        str_path(&tool),
    ];
    assert_ok(&packer(&args));
    let bytes = fs::read(&tool).unwrap();
    assert!(bytes.starts_with(b"\x7fELF not really a launcher"));
    assert_eq!(
        fs::metadata(&tool).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let payload = trailer::read_payload(&bytes).unwrap().unwrap();
    assert!(
        payload.starts_with(&[0x04, 0x22, 0x4d, 0x18]),
        "lz4 payload by default"
    );
    let payload = Payload::from_bytes(&payload).unwrap();
    assert_eq!(payload.btfs.len(), 4);

    // Packing a packed tool as launcher replaces its payload.
    let tool2 = dir.path().join("mytool2");
    let mut args2 = args;
    args2[7] = str_path(&tool);
    args2[9] = str_path(&tool2);
    assert_ok(&packer(&args2));
    assert_eq!(fs::read(&tool2).unwrap(), bytes);

    let out = packer(&["inspect", str_path(&tool)]);
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("packed tool"));

    // The tool's package, written out in the ecc layout: every kernel as a
    // btfhub-archive/ member, the object back in package.json.
    let tar = dir.path().join("mytool.tar");
    assert_ok(&packer(&[
        "inspect",
        str_path(&tool),
        "--tar",
        str_path(&tar),
    ]));
    let tar_bytes = fs::read(&tar).unwrap();
    let names: Vec<String> = tar::Archive::new(&tar_bytes[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.contains(&"btfhub-archive/debian/10/x86_64/4.19.0-17-amd64.btf".to_string()));
    let unpacked = Payload::from_bytes(&tar_bytes).unwrap();
    assert_eq!(unpacked.btfs, payload.btfs);
    assert!(!unpacked.package.bpf_object.is_empty());
    assert_eq!(
        unpacked.package.object().unwrap().to_vec(),
        fs::read(&obj).unwrap()
    );
}

#[test]
fn build_host_kernel() {
    let Some(obj) = object() else { return };
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("SKIP: no /sys/kernel/btf/vmlinux");
        return;
    }
    let dir = tempdir();
    let tar = dir.path().join("host.tar");
    assert_ok(&packer(&[
        "build",
        str_path(&obj),
        "--kernels",
        "host",
        "--tar",
        str_path(&tar),
    ]));
    let payload = Payload::from_bytes(&fs::read(&tar).unwrap()).unwrap();
    let me = bundle::identity::detect().unwrap();
    assert_eq!(payload.btfs.kernels(), [&me]);

    // The object may also follow the selectors.
    let tar2 = dir.path().join("host2.tar");
    assert_ok(&packer(&[
        "build",
        "--kernels",
        "host",
        str_path(&obj),
        "--tar",
        str_path(&tar2),
    ]));
    assert_eq!(fs::read(&tar2).unwrap(), fs::read(&tar).unwrap());
}

#[test]
fn missing_object() {
    let out = packer(&[
        "build",
        "/nonexistent/x.bpf.o",
        "--kernels",
        "host",
        "--tar",
        "/tmp/x.tar",
    ]);
    assert_fails(&out, 1, &["/nonexistent/x.bpf.o", "cannot read"]);
}

#[test]
fn garbage_object() {
    let dir = tempdir();
    let obj = dir.path().join("garbage.bpf.o");
    fs::write(&obj, b"this is not an ELF file at all").unwrap();
    let out = packer(&[
        "build",
        str_path(&obj),
        "--kernels",
        "host",
        "--tar",
        "x.tar",
    ]);
    assert_fails(&out, 1, &["garbage.bpf.o"]);
    let out = packer(&[
        "min-btf",
        "/sys/kernel/btf/vmlinux",
        "x.btf",
        str_path(&obj),
    ]);
    assert_fails(&out, 1, &["garbage.bpf.o"]);
}

#[test]
fn object_without_btf_ext() {
    let Some(obj) = object() else { return };
    let dir = tempdir();
    let stripped = dir.path().join("noext.bpf.o");
    if let Err(e) = run_tool(
        Command::new("llvm-objcopy")
            .args(["--remove-section", ".BTF.ext"])
            .arg(&obj)
            .arg(&stripped),
    ) {
        eprintln!("SKIP: {e}");
        return;
    }
    let out = packer(&[
        "min-btf",
        "/sys/kernel/btf/vmlinux",
        "x.btf",
        str_path(&stripped),
    ]);
    assert_fails(&out, 1, &["noext.bpf.o"]);
}

#[test]
fn bad_kernel_selectors() {
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let out = packer(&[
        "build",
        str_path(&obj),
        "--btfhub",
        str_path(&archive),
        "-k",
        "fedora/38",
        "--tar",
        "x.tar",
    ]);
    assert_fails(
        &out,
        1,
        &[
            "'fedora/38' matches no kernel",
            "ubuntu/20.04/x86_64 (5 kernels)",
        ],
    );
    let out = packer(&["build", str_path(&obj), "-k", "a/b/c/d/e", "--tar", "x.tar"]);
    assert_fails(&out, 2, &["invalid kernel selector 'a/b/c/d/e'"]);
    let out = packer(&[
        "build",
        str_path(&obj),
        "-k",
        "ubuntu",
        "--tar",
        "x.tar",
        "--btfhub",
        "/nonexistent/archive",
    ]);
    assert_fails(&out, 1, &["/nonexistent/archive"]);
}

#[test]
fn missing_launcher() {
    let Some(obj) = object() else { return };
    let dir = tempdir();
    let out = packer(&[
        "build",
        str_path(&obj),
        "-k",
        "host",
        "--launcher",
        "/nonexistent/launcher",
        "-o",
        str_path(&dir.path().join("tool")),
    ]);
    assert_fails(
        &out,
        1,
        &[
            "launcher not found at /nonexistent/launcher",
            "make build",
            "--launcher",
        ],
    );
}

/// Without --launcher, the launcher next to the packer executable is used.
#[test]
fn default_launcher_is_next_to_packer() {
    let Some(obj) = object() else { return };
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("SKIP: no /sys/kernel/btf/vmlinux");
        return;
    }
    let dir = tempdir();
    let bin = dir.path().join("packer");
    fs::copy(env!("CARGO_BIN_EXE_packer"), &bin).unwrap();
    let tool = dir.path().join("tool");
    let build = || {
        Command::new(&bin)
            .args(["build", str_path(&obj), "-k", "host", "-o", str_path(&tool)])
            .output()
            .unwrap()
    };
    let expected = format!(
        "launcher not found at {}",
        dir.path().join("launcher").display()
    );
    assert_fails(&build(), 1, &[&expected, "make build"]);
    fake_launcher(dir.path());
    assert_ok(&build());
    assert!(fs::read(&tool).unwrap().starts_with(b"\x7fELF not really"));
}

#[test]
fn unknown_event_type() {
    let Some(obj) = object() else { return };
    let out = packer(&[
        "build",
        str_path(&obj),
        "-k",
        "host",
        "--tar",
        "x.tar",
        "--event-type",
        "nosuch",
    ]);
    assert_fails(&out, 1, &["no struct named 'nosuch'", "event"]);
}

#[test]
fn inspect_rejects_non_packages() {
    let dir = tempdir();
    let junk = dir.path().join("junk");
    fs::write(&junk, [7u8; 2000]).unwrap();
    assert_fails(&packer(&["inspect", str_path(&junk)]), 1, &["junk", "tar"]);
    let mut corrupt = trailer::append_payload(b"\x7fELF", b"payload");
    corrupt[6] ^= 1;
    fs::write(&junk, corrupt).unwrap();
    assert_fails(
        &packer(&["inspect", str_path(&junk)]),
        1,
        &["junk", "corrupt"],
    );
}

#[test]
fn usage_errors() {
    assert_fails(&packer(&[]), 2, &["Usage"]);
    assert_fails(&packer(&["build"]), 2, &["--kernels"]);
    assert_fails(
        &packer(&["build", "-k", "host", "--tar", "x.tar"]),
        2,
        &["object is missing"],
    );
    assert_fails(
        &packer(&["build", "-k", "host", "nosuch.o"]),
        2,
        &["object is missing"],
    );
    assert_fails(&packer(&["frobnicate"]), 2, &["frobnicate"]);
    let help = packer(&["build", "--help"]);
    assert_ok(&help);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--event-type"));
}
