//! btfhub at scale, offline: `packer fetch` from a git repository made here
//! from the sample archive and served by `file://`, `packer kernels`,
//! building from the fetch cache, the build cache (reuse, changed objects,
//! a killed run, concurrent runs), `--keep-going`, payload compression and
//! `packer inspect`. Tests that need git, the sample archive or a BPF
//! object print a skip notice and pass without them.
#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use bundle::{codec::Codec, payload::Payload, trailer};

mod common;
use common::*;

fn have_git() -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP: git is not installed");
    }
    ok
}

/// Runs git in `dir`, which must succeed; returns its stdout.
#[track_caller]
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // Queries below must never download what a partial clone lacks.
        .env("GIT_NO_LAZY_FETCH", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dst = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &dst);
        } else {
            fs::write(&dst, fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

/// A git repository holding the sample archive, configured like GitHub to
/// serve partial clones; returns (its directory, its file:// URL).
fn sample_repo(base: &Path) -> Option<(PathBuf, String)> {
    let archive = archive()?;
    if !have_git() {
        return None;
    }
    let repo = base.join("btfhub-archive.git");
    copy_tree(&archive, &repo);
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "uploadpack.allowFilter", "true"]);
    git(&repo, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
    git(&repo, &["add", "-A"]);
    commit(&repo, "sample archive");
    let url = format!("file://{}", repo.display());
    Some((repo, url))
}

fn commit(repo: &Path, message: &str) {
    git(
        repo,
        &[
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.invalid",
            "commit",
            "-q",
            "-m",
            message,
        ],
    );
}

/// Files of a work tree, relative, without `.git`.
fn work_tree(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.insert(rel.display().to_string());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// The paths of the commit's blobs that the clone has not downloaded.
fn missing_blobs(clone: &Path) -> BTreeSet<String> {
    let missing: BTreeSet<String> =
        git(clone, &["rev-list", "--objects", "--missing=print", "HEAD"])
            .lines()
            .filter_map(|l| l.strip_prefix('?'))
            .map(str::to_owned)
            .collect();
    git(clone, &["ls-tree", "-r", "HEAD"])
        .lines()
        .filter_map(|l| {
            let (meta, path) = l.split_once('\t')?;
            let oid = meta.split_whitespace().nth(2)?;
            missing.contains(oid).then(|| path.to_owned())
        })
        .collect()
}

fn kernels_under(paths: &BTreeSet<String>, prefix: &str) -> usize {
    paths
        .iter()
        .filter(|p| p.starts_with(prefix) && p.ends_with(".btf.tar.xz"))
        .count()
}

#[test]
fn fetch_brings_only_what_is_selected_and_build_uses_it() {
    let base = tempdir();
    let Some((repo, url)) = sample_repo(base.path()) else {
        return;
    };
    let home = base.path().join("xdg");
    let clone = home.join("bpf-compatible/btfhub");
    let run = |args: &[&str]| {
        packer_cmd(args)
            .env("XDG_CACHE_HOME", &home)
            .output()
            .unwrap()
    };

    // First fetch: only ubuntu/20.04 arrives; other kernels are not even
    // downloaded (their blobs are missing from the clone).
    let out = run(&["fetch", "--repo", &url, "--kernels", "ubuntu/20.04"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("cloning"), "{}", stderr(&out));
    let files = work_tree(&clone);
    assert_eq!(
        kernels_under(&files, "ubuntu/20.04/x86_64/"),
        5,
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .all(|f| !f.starts_with("debian") && !f.starts_with("centos")),
        "{files:?}"
    );
    let missing = missing_blobs(&clone);
    assert_eq!(
        kernels_under(&missing, "debian/10/x86_64/"),
        4,
        "{missing:?}"
    );
    assert_eq!(
        kernels_under(&missing, "centos/8/x86_64/"),
        2,
        "{missing:?}"
    );
    assert_eq!(kernels_under(&missing, "ubuntu/"), 0, "{missing:?}");

    // `packer kernels` lists what is fetched and what the clone knows.
    let out = run(&["kernels"]);
    assert_ok(&out);
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        listing.contains("ubuntu/20.04/x86_64 (5 kernels)")
            && listing.contains("centos/8/x86_64 (2 kernels, not fetched")
            && listing.contains("5.4.0-26-generic"),
        "{listing}"
    );

    // Second fetch adds one debian kernel, without --repo (the clone's
    // origin), and updates to a new upstream commit.
    let extra = repo.join("ubuntu/20.04/x86_64/5.4.0-99-generic.btf.tar.xz");
    fs::copy(repo.join(SAMPLE_KERNEL), &extra).unwrap();
    git(&repo, &["add", "-A"]);
    commit(&repo, "one more kernel");
    let out = run(&["fetch", "--kernels", "debian/10/x86_64/4.19.0-17-amd64"]);
    assert_ok(&out);
    let files = work_tree(&clone);
    assert_eq!(
        kernels_under(&files, "ubuntu/20.04/x86_64/"),
        6,
        "update: {files:?}"
    );
    assert_eq!(kernels_under(&files, "debian/10/x86_64/"), 1, "{files:?}");
    let missing = missing_blobs(&clone);
    assert_eq!(
        kernels_under(&missing, "debian/10/x86_64/"),
        3,
        "{missing:?}"
    );
    assert_eq!(kernels_under(&missing, "centos/"), 2, "{missing:?}");

    // Build from the cache (no --btfhub, no BTFHUB_ARCHIVE).
    let Some(obj) = object() else { return };
    let pkg = base.path().join("pkg.tar");
    let out = run(&[
        "build",
        str_path(&obj),
        "--kernels",
        "ubuntu",
        "debian",
        "--tar",
        str_path(&pkg),
    ]);
    assert_ok(&out);
    let payload = Payload::from_bytes(&fs::read(&pkg).unwrap()).unwrap();
    assert_eq!(payload.btfs.len(), 7);

    // A kernel the cache has not fetched: the error says how to get it.
    let out = run(&[
        "build",
        str_path(&obj),
        "--kernels",
        "centos",
        "--tar",
        str_path(&pkg),
    ]);
    assert_fails(
        &out,
        1,
        &["'centos' matches no kernel", "packer fetch --kernels"],
    );

    // Another repository for the same cache is refused.
    let out = run(&[
        "fetch",
        "--repo",
        "file:///elsewhere",
        "--kernels",
        "ubuntu",
    ]);
    assert_fails(&out, 1, &["is a clone of", "--cache"]);
}

#[test]
fn fetch_errors_are_clear() {
    let base = tempdir();
    let cache = base.path().join("clone");
    let cache_arg = str_path(&cache).to_owned();
    let args = |repo: &'static str| -> Vec<String> {
        [
            "fetch",
            "--repo",
            repo,
            "--cache",
            &cache_arg,
            "--kernels",
            "ubuntu/20.04",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let run = |args: Vec<String>, path: Option<&Path>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = packer_cmd(&refs);
        if let Some(path) = path {
            cmd.env("PATH", path);
        }
        cmd.output().unwrap()
    };

    if have_git() {
        let missing_repo = base.path().join("no-such-repo");
        let mut a = args("placeholder");
        a[2] = str_path(&missing_repo).to_owned();
        let out = run(a, None);
        assert_fails(&out, 1, &["git clone", "no-such-repo", "--repo"]);
        assert!(!cache.exists(), "no half clone left");
        assert!(
            fs::read_dir(base.path()).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("partial")),
            "no partial clone left"
        );

        let out = run(args("https://127.0.0.1:9/btfhub-archive.git"), None);
        assert_fails(&out, 1, &["git clone", "127.0.0.1:9", "network"]);
    }

    // No git on PATH.
    let empty_path = base.path().join("empty-bin");
    fs::create_dir_all(&empty_path).unwrap();
    let out = run(args("file:///anything"), Some(&empty_path));
    assert_fails(&out, 1, &["git is not installed", "--btfhub"]);

    let out = packer(&["fetch", "--kernels", "host"]);
    assert_fails(&out, 1, &["needs no fetch"]);
    let out = packer(&["fetch", "--kernels", "/ubuntu"]);
    assert_fails(&out, 2, &["invalid kernel selector"]);
}

/// A directory with two good sample kernels and a damaged one.
fn archive_with_corrupt_kernel(base: &Path) -> Option<(PathBuf, PathBuf)> {
    let archive = archive()?;
    let dir = base.join("archive");
    for rel in [SAMPLE_KERNEL, "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz"] {
        let dst = dir.join(rel);
        fs::create_dir_all(dst.parent().unwrap()).unwrap();
        fs::copy(archive.join(rel), dst).unwrap();
    }
    let good = fs::read(archive.join(SAMPLE_KERNEL)).unwrap();
    let bad = dir.join("ubuntu/20.04/x86_64/9.9.9-damaged.btf.tar.xz");
    fs::write(&bad, &good[..good.len() / 2]).unwrap();
    Some((dir, bad))
}

#[test]
fn corrupt_kernel_is_named_and_keep_going_skips_it() {
    let base = tempdir();
    let (Some((dir, _bad)), Some(obj)) = (archive_with_corrupt_kernel(base.path()), object())
    else {
        return;
    };
    let pkg = base.path().join("pkg.tar");
    let args = build_tar_args(&obj, &dir, &["all"], &pkg);
    let out = packer(&args);
    assert_fails(
        &out,
        1,
        &[
            "9.9.9-damaged.btf.tar.xz",
            "1 of 3 kernels failed",
            "--keep-going",
        ],
    );
    assert!(!pkg.exists());

    let mut keep = args.clone();
    keep.push("--keep-going");
    let out = packer(&keep);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains("skipping kernel ubuntu/20.04/x86_64/9.9.9-damaged")
            && err.contains("9.9.9-damaged.btf.tar.xz")
            && err.contains("left out 1 of 3 kernels"),
        "{err}"
    );
    let payload = Payload::from_bytes(&fs::read(&pkg).unwrap()).unwrap();
    let names: Vec<String> = payload
        .btfs
        .kernels()
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "debian/10/x86_64/4.19.0-17-amd64",
            "ubuntu/20.04/x86_64/5.4.0-26-generic"
        ]
    );
}

/// Builds the sample archive into a tar with the given cache home and
/// returns (tar bytes, stderr with RUST_LOG=info).
fn build_tar(
    obj: &Path,
    archive: &Path,
    home: &Path,
    out: &Path,
    extra: &[&str],
) -> (Vec<u8>, String) {
    let mut args = build_tar_args(obj, archive, &["all"], out);
    args.extend_from_slice(extra);
    let output = packer_cmd(&args)
        .env("XDG_CACHE_HOME", home)
        .env("RUST_LOG", "packer=info")
        .output()
        .unwrap();
    assert_ok(&output);
    (fs::read(out).unwrap(), stderr(&output))
}

/// Checks every entry of the build cache: a whole entry (header and the
/// length it announces) or a temporary file, never anything else.
fn assert_cache_entries_whole(cache: &Path) -> usize {
    let mut whole = 0;
    for section in ["kernels", "results"] {
        let Ok(dir) = fs::read_dir(cache.join(section)) else {
            continue;
        };
        for entry in dir {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                continue;
            }
            let bytes = fs::read(entry.path()).unwrap();
            assert_eq!(&bytes[..8], b"BPFCACH2", "{name}");
            let len = u64::from_le_bytes(bytes[8..16].try_into().unwrap());
            assert_eq!(bytes.len() as u64, 24 + len, "{section}/{name} is whole");
            whole += 1;
        }
    }
    whole
}

#[test]
fn build_cache_reuses_kernels_and_results() {
    let base = tempdir();
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let home = base.path().join("xdg");
    let out = base.path().join("pkg.tar");
    let n = bundle::btfhub::Archive::scan(&archive)
        .unwrap()
        .entries
        .len();

    let (cold, log) = build_tar(&obj, &archive, &home, &out, &[]);
    assert!(
        log.contains(&format!(
            "0 reused from the build cache, 0 decoded from the kernel cache, {n} decoded from xz"
        )),
        "{log}"
    );
    let cache = home.join("bpf-compatible/build");
    assert_eq!(assert_cache_entries_whole(&cache), 2 * n);

    // The same object again: every result is reused, same bytes.
    let (warm, log) = build_tar(&obj, &archive, &home, &out, &[]);
    assert!(
        log.contains(&format!("{n} reused from the build cache")),
        "{log}"
    );
    assert_eq!(warm, cold);

    // A changed object: no xz decoding, kernels come from the cache.
    let changed = base.path().join("changed.bpf.o");
    let mut bytes = fs::read(&obj).unwrap();
    bytes.extend_from_slice(&[0; 8]);
    fs::write(&changed, bytes).unwrap();
    let (_, log) = build_tar(&changed, &archive, &home, &out, &[]);
    assert!(
        log.contains(&format!(
            "0 reused from the build cache, {n} decoded from the kernel cache, 0 decoded from xz"
        )),
        "{log}"
    );

    // --no-cache gives the same BTFs.
    let (uncached, log) = build_tar(
        &obj,
        &archive,
        &base.path().join("other"),
        &out,
        &["--no-cache"],
    );
    assert!(log.contains(&format!("{n} decoded from xz")), "{log}");
    assert_eq!(uncached, cold);
    assert!(!base.path().join("other/bpf-compatible/build").exists());

    // Damaged entries are noticed, removed and recomputed.
    for entry in fs::read_dir(cache.join("results")).unwrap() {
        let entry = entry.unwrap().path();
        let mut damaged = fs::read(&entry).unwrap();
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        fs::write(&entry, damaged).unwrap();
    }
    let (again, log) = build_tar(&obj, &archive, &home, &out, &[]);
    assert!(
        log.contains("is damaged")
            && log.contains(&format!(
                "0 reused from the build cache, {n} decoded from the kernel cache"
            )),
        "{log}"
    );
    assert_eq!(again, cold);
}

#[test]
fn killed_build_leaves_no_half_written_cache_entry() {
    let base = tempdir();
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let home = base.path().join("xdg");
    let cache = home.join("bpf-compatible/build");
    let out = base.path().join("pkg.tar");
    let mut child = packer_cmd(&build_tar_args(&obj, &archive, &["all"], &out))
        .env("XDG_CACHE_HOME", &home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as it is writing a cache entry (or whenever it is
    // done, if it is too quick to catch).
    let deadline = Instant::now() + Duration::from_secs(120);
    let caught_writing = loop {
        let writing = fs::read_dir(cache.join("kernels"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".tmp-"));
        if writing || Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            break writing;
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let _ = child.kill();
    child.wait().unwrap();
    eprintln!("killed while a cache entry was being written: {caught_writing}");

    assert_cache_entries_whole(&cache);
    // The next run completes and gives what an uncached build gives.
    let (after, log) = build_tar(&obj, &archive, &home, &out, &[]);
    assert!(!log.contains("damaged"), "{log}");
    assert_cache_entries_whole(&cache);
    let (uncached, _) = build_tar(&obj, &archive, &home, &out, &["--no-cache"]);
    assert_eq!(after, uncached);
}

#[test]
fn concurrent_builds_share_the_cache() {
    let base = tempdir();
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let home = base.path().join("xdg");
    let outs: Vec<PathBuf> = (0..3)
        .map(|i| base.path().join(format!("pkg{i}.tar")))
        .collect();
    let children: Vec<_> = outs
        .iter()
        .map(|out| {
            packer_cmd(&build_tar_args(&obj, &archive, &["all"], out))
                .env("XDG_CACHE_HOME", &home)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_ok(&output);
    }
    let first = fs::read(&outs[0]).unwrap();
    for out in &outs[1..] {
        assert_eq!(fs::read(out).unwrap(), first);
    }
    assert_cache_entries_whole(&home.join("bpf-compatible/build"));
}

#[test]
fn compression_choices_and_inspect() {
    let base = tempdir();
    let Some((archive, obj)) = archive_and_object() else {
        return;
    };
    let launcher = fake_launcher(base.path());
    let mut sizes = Vec::new();
    for codec in Codec::ALL {
        let tool = base.path().join(format!("tool-{codec}"));
        let out = packer(&[
            "build",
            str_path(&obj),
            "--btfhub",
            str_path(&archive),
            "--kernels",
            "all",
            "--launcher",
            str_path(&launcher),
            "--compression",
            codec.name(),
            "-o",
            str_path(&tool),
        ]);
        assert_ok(&out);
        let bytes = fs::read(&tool).unwrap();
        let payload = trailer::read_payload(&bytes).unwrap().unwrap();
        assert_eq!(Codec::sniff(&payload), codec);
        let parsed = Payload::from_bytes(&payload).unwrap();
        sizes.push(payload.len());

        let out = packer(&["inspect", str_path(&tool)]);
        assert_ok(&out);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let kind = match codec {
            Codec::None => "(uncompressed tar, tool layout".to_owned(),
            c => format!("({c}-compressed tar, tool layout"),
        };
        let kernels = format!(
            "kernels:  {} ({} unique BTFs",
            parsed.btfs.len(),
            parsed.unique_btf_count()
        );
        assert!(text.contains(&kind) && text.contains(&kernels), "{text}");
        assert!(
            text.contains("ubuntu/20.04/x86_64: 5 kernels, ")
                && text.contains("centos/8/x86_64: 2 kernels, "),
            "{text}"
        );
    }
    assert!(
        sizes[1] < sizes[2] && sizes[2] < sizes[3] && sizes[0] < sizes[3],
        "[lz4, xz, gzip, none]: xz < gzip < none, lz4 < none: {sizes:?}"
    );

    let out = packer(&[
        "build",
        str_path(&obj),
        "--kernels",
        "all",
        "--compression",
        "zstd",
    ]);
    assert_fails(&out, 2, &["unknown compression 'zstd'"]);
}
