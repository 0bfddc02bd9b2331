//! Oracle test: `btf::minimize` against `bpftool gen min_core_btf` for every test-only object
//! and every example object, on every sample-archive kernel, the host kernel and the synthetic
//! kernels, one object at a time and all objects in one call.
//!
//! The outputs must be the same BTF: identical `bpftool btf dump ... format c` and `format raw`
//! dumps (byte identity is reported but not required: string-table order may differ). Where
//! bpftool refuses (exit status non-zero), `btf::minimize` must return `Err`, and vice versa.
//! The findings (matrix and diffs) are written to `$BPFC_ORACLE_FINDINGS` (default:
//! `<target tmpdir>/btf-tests/oracle-findings.md`).

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::kernels::Kernel;
use common::objects::BpfObjectFile;
use common::{btf_ext, env, kernels, objects, tools};

/// What comparing one (objects, kernel) case gave.
enum Outcome {
    /// Same dumps; `bytes` tells whether the files are byte-identical too.
    Same { bytes: bool },
    /// Both refused.
    BothRefused { ours: String },
    /// A difference, described.
    Differ(String),
}

impl Outcome {
    fn symbol(&self) -> &'static str {
        match self {
            Outcome::Same { bytes: true, .. } => "=",
            Outcome::Same { bytes: false, .. } => "~",
            Outcome::BothRefused { .. } => "R",
            Outcome::Differ(_) => "X",
        }
    }
}

struct Case {
    objects: String,
    kernel: String,
    outcome: Outcome,
}

/// Our side of one case: parse the objects, minimise.
fn ours(kernel: &Result<btf::Btf, String>, objs: &[&BpfObjectFile]) -> Result<Vec<u8>, String> {
    let kernel = kernel
        .as_ref()
        .map_err(|e| format!("our Btf::parse of the kernel failed: {e}"))?;
    let parsed: Vec<btf::BpfObject> = objs
        .iter()
        .map(|o| {
            btf::BpfObject::parse(&o.bytes)
                .map_err(|e| format!("BpfObject::parse({}): {e}", o.label))
        })
        .collect::<Result<_, _>>()?;
    let refs: Vec<&btf::BpfObject> = parsed.iter().collect();
    btf::minimize(kernel, &refs).map_err(|e| format!("btf::minimize: {e}"))
}

fn compare(
    bpftool: &Path,
    dir: &Path,
    kernel: &Kernel,
    parsed_kernel: &Result<btf::Btf, String>,
    objs: &[&BpfObjectFile],
    case_name: &str,
) -> Outcome {
    let stem = case_name.replace(['/', ' ', '+'], "_");
    let theirs_path = dir.join(format!("{stem}.bpftool.btf"));
    let paths: Vec<&Path> = objs.iter().map(|o| o.path.as_path()).collect();
    let theirs = tools::bpftool_min_core_btf(bpftool, &kernel.raw_path, &theirs_path, &paths);
    let mine = ours(parsed_kernel, objs);
    judge(bpftool, dir, &stem, theirs, mine)
}

/// Compare bpftool's result (its output file is `<dir>/<stem>.bpftool.btf`) with ours.
fn judge(
    bpftool: &Path,
    dir: &Path,
    stem: &str,
    theirs: Result<Vec<u8>, String>,
    mine: Result<Vec<u8>, String>,
) -> Outcome {
    let theirs_path = dir.join(format!("{stem}.bpftool.btf"));
    let ours_path = dir.join(format!("{stem}.ours.btf"));
    let (theirs, mine) = match (theirs, mine) {
        (Err(_), Err(ours)) => return Outcome::BothRefused { ours },
        (Ok(t), Err(o)) => {
            return Outcome::Differ(format!(
                "bpftool succeeded ({} bytes) but we refused: {o}",
                t.len()
            ))
        }
        (Err(t), Ok(m)) => {
            return Outcome::Differ(format!(
                "bpftool refused but we produced {} bytes; bpftool: {t}",
                m.len()
            ))
        }
        (Ok(t), Ok(m)) => (t, m),
    };
    env::write_atomic(&ours_path, &mine);
    if let Err(e) = btf::Btf::parse(&mine) {
        return Outcome::Differ(format!(
            "our output does not parse with btf::Btf::parse: {e}"
        ));
    }
    let mut problems = String::new();
    for format in ["c", "raw"] {
        let t = tools::bpftool_dump(bpftool, &theirs_path, format);
        let m = tools::bpftool_dump(bpftool, &ours_path, format);
        match (t, m) {
            (Ok(t), Ok(m)) if t == m => {}
            (Ok(t), Ok(m)) => {
                let diff = tools::unified_diff(
                    dir,
                    &format!("{stem}.bpftool.{format}"),
                    &t,
                    &format!("{stem}.ours.{format}"),
                    &m,
                    80,
                );
                let _ = writeln!(
                    problems,
                    "`format {format}` dumps differ (--- bpftool, +++ ours):\n{diff}"
                );
            }
            (Ok(_), Err(e)) => {
                let _ = writeln!(problems, "bpftool cannot read our output: {e}");
            }
            (Err(e), _) => {
                let _ = writeln!(problems, "bpftool cannot dump its own output: {e}");
            }
        }
    }
    if problems.is_empty() {
        Outcome::Same {
            bytes: theirs == mine,
        }
    } else {
        Outcome::Differ(format!(
            "bpftool output {} bytes, ours {} bytes\n{problems}",
            theirs.len(),
            mine.len()
        ))
    }
}

fn findings_path() -> PathBuf {
    std::env::var_os("BPFC_ORACLE_FINDINGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| env::work_dir().join("oracle-findings.md"))
}

fn report(cases: &[Case], kernels: &[Kernel], rows: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# btf::minimize vs bpftool gen min_core_btf\n");
    let _ = writeln!(
        out,
        "Legend: `=` byte-identical · `~` same C and raw dumps, bytes differ · `R` both refused · `X` differ\n"
    );
    for (i, k) in kernels.iter().enumerate() {
        let _ = writeln!(out, "- K{i}: {}", k.label);
    }
    let _ = write!(out, "\n| objects |");
    for i in 0..kernels.len() {
        let _ = write!(out, " K{i} |");
    }
    let _ = write!(out, "\n|---|");
    for _ in kernels {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for row in rows {
        let _ = write!(out, "| {row} |");
        for k in kernels {
            let sym = cases
                .iter()
                .find(|c| &c.objects == row && c.kernel == k.label)
                .map_or("?", |c| c.outcome.symbol());
            let _ = write!(out, " {sym} |");
        }
        out.push('\n');
    }
    let differ: Vec<&Case> = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Differ(_)))
        .collect();
    let same = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Same { .. }))
        .count();
    let refused = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::BothRefused { .. }))
        .count();
    let _ = writeln!(
        out,
        "\n{} cases ({} object sets × {} kernels): {same} same, {refused} both refused, {} differ\n",
        cases.len(),
        rows.len(),
        kernels.len(),
        differ.len()
    );
    for c in cases {
        if let Outcome::BothRefused { ours } = &c.outcome {
            let ours = ours.replace('\n', " / ");
            let _ = writeln!(
                out,
                "- refused by both: {} on {}: ours: {ours}",
                c.objects, c.kernel
            );
        }
    }
    for c in differ {
        if let Outcome::Differ(d) = &c.outcome {
            let _ = writeln!(out, "\n## {} on {}\n\n```\n{d}\n```", c.objects, c.kernel);
        }
    }
    out
}

/// The whole matrix. Fails (after printing and writing every finding) if any case differs.
#[test]
fn minimize_matches_bpftool_for_every_object_and_kernel() {
    let Some(bpftool) = tools::bpftool() else {
        return;
    };
    let dir = env::run_dir("oracle");
    let kernels = kernels::all_kernels(&dir);
    let objects = objects::all_objects();
    assert!(
        !objects.is_empty(),
        "no BPF objects to compare (clang missing and no examples)"
    );

    let mut object_sets: Vec<(String, Vec<&BpfObjectFile>)> =
        objects.iter().map(|o| (o.label.clone(), vec![o])).collect();
    object_sets.push(("ALL objects".into(), objects.iter().collect()));
    let unambiguous: Vec<&BpfObjectFile> = objects
        .iter()
        .filter(|o| !objects::REFUSED_SOMEWHERE.contains(&o.label.as_str()))
        .collect();
    object_sets.push(("ALL but the ambiguous ones".into(), unambiguous));
    // Marking-order cases: a field relocation marks a pointer member (without following it)
    // before a type relocation reaches the same pointer and must follow it.
    for pair in [
        ["test/tags_field", "test/tags_type_tag"],
        ["test/tags_type_tag", "test/tags_field"],
        ["test/tags_field", "test/tags_fwd"],
        ["test/tags_fwd", "test/tags_field"],
    ] {
        let set: Vec<&BpfObjectFile> = pair
            .iter()
            .filter_map(|label| objects.iter().find(|o| o.label == *label))
            .collect();
        if set.len() == pair.len() {
            object_sets.push((pair.join(" + "), set));
        }
    }

    let mut cases = Vec::new();
    for kernel in &kernels {
        let parsed = btf::Btf::parse(&kernel.raw).map_err(|e| e.to_string());
        for (name, set) in &object_sets {
            let case_name = format!("{name}@{}", kernel.label);
            let outcome = compare(&bpftool, &dir, kernel, &parsed, set, &case_name);
            cases.push(Case {
                objects: name.clone(),
                kernel: kernel.label.clone(),
                outcome,
            });
        }
    }
    let rows: Vec<String> = object_sets.iter().map(|(n, _)| n.clone()).collect();
    let text = report(&cases, &kernels, &rows);
    let path = findings_path();
    env::write_atomic(&path, text.as_bytes());
    eprintln!("{text}");
    eprintln!("findings written to {}", path.display());
    let differ = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Differ(_)))
        .count();
    assert_eq!(
        differ,
        0,
        "{differ} of {} cases differ from bpftool; details above and in {}",
        cases.len(),
        path.display()
    );
    env::cleanup(&dir);
}

/// The ambiguous local type must be refused on both synthetic ambiguous kernels, by bpftool
/// (checks the test's premise) and by us; on the "rich" kernel the same object has no
/// candidate and both succeed.
#[test]
fn ambiguous_candidates_are_refused() {
    let Some(bpftool) = tools::bpftool() else {
        return;
    };
    let Some(test_objects) = objects::test_objects() else {
        return;
    };
    let dir = env::run_dir("ambiguous");
    let object = test_objects
        .iter()
        .find(|o| o.label == "test/ambiguous")
        .unwrap_or_else(|| panic!("tests/bpf/ambiguous.bpf.c was not compiled"));
    for kernel in kernels::synthetic_kernels(&dir) {
        let theirs = tools::bpftool_min_core_btf(
            &bpftool,
            &kernel.raw_path,
            &dir.join("out.btf"),
            &[&object.path],
        );
        let parsed = btf::Btf::parse(&kernel.raw).map_err(|e| e.to_string());
        let mine = ours(&parsed, &[object]);
        let expect_refusal = kernel.label.contains("ambiguous");
        assert_eq!(
            theirs.is_err(),
            expect_refusal,
            "premise: bpftool on {} should {}refuse: {theirs:?}",
            kernel.label,
            if expect_refusal { "" } else { "not " }
        );
        match (&mine, expect_refusal) {
            (Err(e), true) => eprintln!("{}: refused as expected: {e}", kernel.label),
            (Ok(_), false) => {}
            (Ok(b), true) => panic!(
                "{}: ambiguous candidates accepted, produced {} bytes",
                kernel.label,
                b.len()
            ),
            (Err(e), false) => panic!("{}: refused but bpftool accepts: {e}", kernel.label),
        }
    }
    env::cleanup(&dir);
}

/// Together the test-only objects contain every CO-RE relocation kind (0..=12).
#[test]
fn test_objects_cover_every_relocation_kind() {
    let Some(test_objects) = objects::test_objects() else {
        return;
    };
    let mut seen = [false; 13];
    for o in &test_objects {
        for r in btf_ext::core_relos(&o.bytes) {
            if let Some(s) = seen.get_mut(r.kind as usize) {
                *s = true;
            }
        }
    }
    let missing: Vec<&str> = seen
        .iter()
        .zip(btf_ext::KIND_NAMES)
        .filter(|(s, _)| !**s)
        .map(|(_, n)| n)
        .collect();
    assert!(
        missing.is_empty(),
        "relocation kinds no test object exercises: {missing:?}"
    );
}

/// Types that exist in no kernel must not be emitted (independent of bpftool).
#[test]
fn types_without_candidates_are_not_emitted() {
    let Some(test_objects) = objects::test_objects() else {
        return;
    };
    let dir = env::run_dir("no-candidates");
    let mut kernels = kernels::archive_kernels(&dir);
    kernels.extend(kernels::host_kernel(&dir));
    for kernel in &kernels {
        let parsed = btf::Btf::parse(&kernel.raw)
            .unwrap_or_else(|e| panic!("Btf::parse({}) failed: {e}", kernel.label));
        for o in test_objects
            .iter()
            .filter(|o| o.label == "test/flavours" || o.label == "test/types")
        {
            let obj = btf::BpfObject::parse(&o.bytes)
                .unwrap_or_else(|e| panic!("BpfObject::parse({}): {e}", o.label));
            let out = btf::minimize(&parsed, &[&obj])
                .unwrap_or_else(|e| panic!("minimize({}, {}): {e}", o.label, kernel.label));
            let min = btf::Btf::parse(&out)
                .unwrap_or_else(|e| panic!("our output for {} does not parse: {e}", o.label));
            for name in [
                "bpfc_missing_type",
                "bpfc_missing_struct",
                "task_struct___never",
                "bpfc_member_nobody_has",
            ] {
                assert_eq!(
                    min.ids_by_name(name).count(),
                    0,
                    "{} on {}: `{name}` has no kernel candidate but was emitted",
                    o.label,
                    kernel.label
                );
            }
        }
    }
    env::cleanup(&dir);
}

/// `Minimizer` (kernel parsed once, objects added one by one) gives the same bytes as
/// `minimize`, independent of object order, and is deterministic; both the kernel and the
/// minimised BTF survive the delta form (`delta_encode` then `delta_decode`) byte for byte.
#[test]
fn minimizer_is_incremental_order_independent_and_deterministic() {
    let objects: Vec<BpfObjectFile> = objects::all_objects()
        .into_iter()
        .filter(|o| !objects::REFUSED_SOMEWHERE.contains(&o.label.as_str()))
        .collect();
    if objects.is_empty() {
        eprintln!("notice: no BPF objects; skipped");
        return;
    }
    let dir = env::run_dir("incremental");
    let parsed_objects: Vec<btf::BpfObject> = objects
        .iter()
        .map(|o| {
            btf::BpfObject::parse(&o.bytes)
                .unwrap_or_else(|e| panic!("BpfObject::parse({}): {e}", o.label))
        })
        .collect();
    let refs: Vec<&btf::BpfObject> = parsed_objects.iter().collect();
    let reversed: Vec<&btf::BpfObject> = parsed_objects.iter().rev().collect();
    let mut kernels = kernels::archive_kernels(&dir);
    kernels.extend(kernels::host_kernel(&dir));
    kernels.extend(
        kernels::synthetic_kernels(&dir)
            .into_iter()
            .filter(|k| k.label == "synthetic/rich"),
    );
    for kernel in &kernels {
        let k = btf::Btf::parse(&kernel.raw)
            .unwrap_or_else(|e| panic!("Btf::parse({}): {e}", kernel.label));
        let all = btf::minimize(&k, &refs)
            .unwrap_or_else(|e| panic!("minimize on {}: {e}", kernel.label));
        let again = btf::minimize(&k, &refs)
            .unwrap_or_else(|e| panic!("minimize on {}: {e}", kernel.label));
        assert!(
            all == again,
            "{}: minimize is not deterministic",
            kernel.label
        );
        let rev = btf::minimize(&k, &reversed)
            .unwrap_or_else(|e| panic!("minimize on {}: {e}", kernel.label));
        assert!(
            all == rev,
            "{}: output depends on the object order",
            kernel.label
        );
        let mut m = btf::Minimizer::new(&k);
        for (o, file) in parsed_objects.iter().zip(&objects) {
            m.add_object(o)
                .unwrap_or_else(|e| panic!("add_object({}) on {}: {e}", file.label, kernel.label));
        }
        assert!(
            m.finish() == all,
            "{}: Minimizer differs from minimize",
            kernel.label
        );
        // Canonical order keeps the meaning: minimising the canonical BTF again for the same
        // objects keeps every type (relocations resolve to the same targets, none becomes
        // ambiguous), and canonical order is a fixed point.
        let canonical = btf::canonical_order(&all)
            .unwrap_or_else(|e| panic!("canonical_order(minimised {}): {e}", kernel.label));
        let reparsed = btf::Btf::parse(&canonical)
            .unwrap_or_else(|e| panic!("parse canonical {}: {e}", kernel.label));
        let again = btf::minimize(&reparsed, &refs)
            .unwrap_or_else(|e| panic!("minimize canonical {}: {e}", kernel.label));
        assert!(
            btf::canonical_order(&again).ok().as_ref() == Some(&canonical),
            "{}: minimising the canonical BTF again changes it (a relocation resolved differently)",
            kernel.label
        );
        for (what, raw) in [("kernel", &kernel.raw), ("minimised", &all)] {
            let encoded = btf::delta_encode(raw)
                .unwrap_or_else(|e| panic!("delta_encode({what} {}): {e}", kernel.label));
            assert!(
                btf::delta_decode(&encoded).ok().as_ref() == Some(raw),
                "{what} {}: the delta form does not round-trip",
                kernel.label
            );
        }
    }
    env::cleanup(&dir);
}

/// `decode_kernel_btf` of a btfhub `.btf.tar.xz` gives the same bytes as `tar -xJO`.
#[test]
fn decode_kernel_btf_agrees_with_tar() {
    let Some(archive) = env::archive_dir() else {
        return;
    };
    if tools::find_in_path("tar").is_none() || tools::find_in_path("xz").is_none() {
        eprintln!("notice: tar or xz missing; skipped");
        return;
    }
    for file in kernels::archive_files(&archive) {
        if !file.to_string_lossy().ends_with(".tar.xz") {
            continue;
        }
        let output = tools::run(std::process::Command::new("tar").arg("-xJOf").arg(&file));
        assert!(
            output.status.success(),
            "tar -xJOf {} failed",
            file.display()
        );
        let ours = btf::decode_kernel_btf(&env::read(&file))
            .unwrap_or_else(|e| panic!("decode_kernel_btf({}): {e}", file.display()));
        assert!(
            ours == output.stdout,
            "decode_kernel_btf({}) gives {} bytes, tar gives {}",
            file.display(),
            ours.len(),
            output.stdout.len()
        );
        // The raw form and the ELF-free form decode to themselves.
        let again = btf::decode_kernel_btf(&ours)
            .unwrap_or_else(|e| panic!("decode_kernel_btf(raw {}): {e}", file.display()));
        assert!(
            again == ours,
            "decode_kernel_btf of raw BTF is not the identity ({})",
            file.display()
        );
    }
}

/// A small deterministic generator for the relocation mutants.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        if n == 0 {
            0
        } else {
            (x % n as u64) as usize
        }
    }
}

/// Structurally valid but semantically shuffled CO-RE records: a record gets another kind
/// (0..=12), another record's access string and/or another record's root type. Differential
/// test of the whole CO-RE matching: refusal and output must agree with bpftool.
fn relocation_mutant(elf: &[u8], rng: &mut XorShift) -> Option<(Vec<u8>, String)> {
    let relos = btf_ext::core_relos(elf);
    if relos.is_empty() {
        return None;
    }
    let mut out = elf.to_vec();
    let mut what = Vec::new();
    for _ in 0..1 + rng.below(2) {
        let i = rng.below(relos.len());
        let r = relos[i];
        match rng.below(4) {
            0 => {
                let kind = rng.below(13) as u32;
                btf_ext::put_u32(&mut out, r.file_offset + 12, kind);
                what.push(format!("relo #{i}: kind {} -> {kind}", r.kind));
            }
            1 => {
                let other = relos[rng.below(relos.len())];
                btf_ext::put_u32(&mut out, r.file_offset + 8, other.access_str_off);
                what.push(format!("relo #{i}: access string of another relo"));
            }
            2 => {
                let other = relos[rng.below(relos.len())];
                btf_ext::put_u32(&mut out, r.file_offset + 4, other.type_id);
                what.push(format!(
                    "relo #{i}: root type {} -> {}",
                    r.type_id, other.type_id
                ));
            }
            _ => {
                let other = relos[rng.below(relos.len())];
                let kind = rng.below(13) as u32;
                btf_ext::put_u32(&mut out, r.file_offset + 4, other.type_id);
                btf_ext::put_u32(&mut out, r.file_offset + 8, other.access_str_off);
                btf_ext::put_u32(&mut out, r.file_offset + 12, kind);
                what.push(format!(
                    "relo #{i}: root type {} -> {}, another access string, kind {} -> {kind}",
                    r.type_id, other.type_id, r.kind
                ));
            }
        }
    }
    Some((out, what.join("; ")))
}

/// Differential test: mutated relocations (`BPFC_ORACLE_MUTANTS` per object, default 20) on
/// the host kernel, one archive kernel with duplicate type names and the synthetic kernel.
#[test]
fn relocation_mutants_match_bpftool() {
    let Some(bpftool) = tools::bpftool() else {
        return;
    };
    let per_object: usize = std::env::var("BPFC_ORACLE_MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = env::run_dir("mutants");
    let mut kernels: Vec<Kernel> = kernels::archive_kernels(&dir)
        .into_iter()
        .filter(|k| k.label.contains("4.18.0-80") || k.label.contains("5.4.0-91"))
        .take(1)
        .collect();
    kernels.extend(kernels::host_kernel(&dir));
    kernels.extend(
        kernels::synthetic_kernels(&dir)
            .into_iter()
            .filter(|k| k.label == "synthetic/rich"),
    );
    let parsed: Vec<Result<btf::Btf, String>> = kernels
        .iter()
        .map(|k| btf::Btf::parse(&k.raw).map_err(|e| e.to_string()))
        .collect();
    let mut rng = XorShift(0x0bad_cafe_1234_5678);
    let (mut same, mut refused, mut differ) = (0, 0, Vec::new());
    for object in objects::all_objects() {
        for m in 0..per_object {
            let Some((bytes, what)) = relocation_mutant(&object.bytes, &mut rng) else {
                break;
            };
            let label = format!("{}#mutant{m}", object.label);
            let path = dir.join(format!("{}.o", label.replace(['/', '#'], "_")));
            env::write_atomic(&path, &bytes);
            let mutant = BpfObjectFile {
                label: label.clone(),
                path,
                bytes,
            };
            for (kernel, parsed_kernel) in kernels.iter().zip(&parsed) {
                let case = format!("{label}@{}", kernel.label);
                match compare(&bpftool, &dir, kernel, parsed_kernel, &[&mutant], &case) {
                    Outcome::Same { .. } => same += 1,
                    Outcome::BothRefused { .. } => refused += 1,
                    Outcome::Differ(d) => {
                        differ.push(format!("## {case} ({what})\n\n```\n{d}\n```\n"))
                    }
                }
            }
        }
    }
    let summary = format!(
        "relocation mutants: {same} same, {refused} both refused, {} differ",
        differ.len()
    );
    eprintln!("{summary}");
    if !differ.is_empty() {
        let path = findings_path().with_extension("mutants.md");
        let text = format!("# {summary}\n\n{}", differ.join("\n"));
        env::write_atomic(&path, text.as_bytes());
        panic!(
            "{summary}; details in {}; first:\n{}",
            path.display(),
            differ.first().map(String::as_str).unwrap_or_default()
        );
    }
    env::cleanup(&dir);
}

/// The comparison itself can fail: bpftool's output for one object judged against bpftool's
/// output for another object must be reported as a difference, with a diff; a refusal on one
/// side only must be reported too.
#[test]
fn the_oracle_detects_differences() {
    let Some(bpftool) = tools::bpftool() else {
        return;
    };
    let Some(test_objects) = objects::test_objects() else {
        return;
    };
    let dir = env::run_dir("self-check");
    let Some(host) = kernels::host_kernel(&dir) else {
        return;
    };
    let find = |label: &str| {
        test_objects
            .iter()
            .find(|o| o.label == label)
            .unwrap_or_else(|| panic!("{label} was not compiled"))
    };
    let (fields, types) = (find("test/fields"), find("test/types"));
    let out = |name: &str, o: &BpfObjectFile| {
        tools::bpftool_min_core_btf(&bpftool, &host.raw_path, &dir.join(name), &[&o.path])
            .unwrap_or_else(|e| panic!("bpftool on {}: {e}", o.label))
    };
    let theirs = out("self.bpftool.btf", fields);
    let other = out("other.btf", types);
    match judge(&bpftool, &dir, "self", Ok(theirs.clone()), Ok(other)) {
        Outcome::Differ(d) => assert!(
            d.contains("@@") && d.contains("format c"),
            "a difference was found but not shown as a diff: {d}"
        ),
        _ => panic!("different outputs were not reported as a difference"),
    }
    assert!(
        matches!(
            judge(
                &bpftool,
                &dir,
                "self",
                Ok(theirs.clone()),
                Ok(theirs.clone())
            ),
            Outcome::Same { bytes: true }
        ),
        "identical outputs were not reported as identical"
    );
    assert!(
        matches!(
            judge(&bpftool, &dir, "self", Ok(theirs), Err("refused".into())),
            Outcome::Differ(_)
        ),
        "a one-sided refusal was not reported"
    );
    env::cleanup(&dir);
}

/// `section_vars` of the writesize example: every `.rodata` global with the offset the
/// symbol table gives, its size and its initial bytes, as libbpf would lay them out.
#[test]
fn section_vars_of_an_example() {
    let path = env::examples_dir().join("writesize.bpf.o");
    let Ok(elf) = std::fs::read(&path) else {
        eprintln!(
            "notice: {} not built (make examples); skipped",
            path.display()
        );
        return;
    };
    let btf = btf::Btf::from_elf(&elf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let vars = btf::section_vars(&elf, &btf).unwrap_or_else(|e| panic!("section_vars: {e}"));
    let rodata: Vec<&btf::SectionVar> = vars.iter().filter(|v| v.section == ".rodata").collect();
    let find = |name: &str| {
        rodata
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("no .rodata variable {name} in {rodata:?}"))
    };
    let (pid, skip, comm) = (find("target_pid"), find("skip_stdio"), find("target_comm"));
    assert_eq!((pid.size, pid.initial.as_slice()), (4, &[0u8; 4][..]));
    assert_eq!(
        (skip.size, skip.initial.as_slice()),
        (1, &[1u8][..]),
        "skip_stdio = true"
    );
    assert_eq!(comm.size, 16);
    assert_eq!(btf.unqualified_c_type_name(comm.type_id), "char[16]");
    // Offsets come from the symbol table: distinct, in bounds, non-overlapping.
    let mut spans: Vec<(u64, u64)> = rodata
        .iter()
        .map(|v| (v.offset, v.offset + v.size))
        .collect();
    spans.sort();
    assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "{spans:?}");
    assert!(rodata.iter().all(|v| !v.is_static));
    // The map definitions of `.maps` are there too, without initial values to speak of.
    assert!(vars.iter().any(|v| v.section == ".maps"));
}

/// `Btf::from_elf` and `section_vars` read the ELF with their own name lookup
/// (btf/src/elf.rs); the `object` crate's full reader is the reference: the
/// same `.BTF` bytes, and for every variable the offset of its symbol and its
/// bytes in its section (zeros in `.bss`-like ones), on every test and
/// example object.
#[test]
fn elf_reading_agrees_with_the_object_crate() {
    use object::{Object, ObjectSection, ObjectSymbol, SectionKind};

    let objects = objects::all_objects();
    assert!(
        !objects.is_empty() || !env::in_ci(),
        "no test or example objects in CI"
    );
    let mut checked_vars = 0;
    for obj in &objects {
        let elf = &obj.bytes;
        let file =
            object::File::parse(elf.as_slice()).unwrap_or_else(|e| panic!("{}: {e}", obj.label));
        let btf_section = file
            .section_by_name(".BTF")
            .and_then(|s| s.data().ok())
            .unwrap_or_else(|| panic!("{}: no .BTF", obj.label));
        let btf = btf::Btf::from_elf(elf).unwrap_or_else(|e| panic!("{}: {e}", obj.label));
        assert_eq!(
            btf.to_bytes(),
            btf::Btf::parse(btf_section)
                .unwrap_or_else(|e| panic!("{}: {e}", obj.label))
                .to_bytes(),
            "{}: .BTF",
            obj.label
        );
        let vars = btf::section_vars(elf, &btf).unwrap_or_else(|e| panic!("{}: {e}", obj.label));
        for v in &vars {
            let section = file
                .section_by_name(&v.section)
                .unwrap_or_else(|| panic!("{}: no section {}", obj.label, v.section));
            let symbol = file
                .symbols()
                .find(|s| s.section_index() == Some(section.index()) && s.name() == Ok(&v.name));
            if let Some(symbol) = symbol {
                assert_eq!(v.offset, symbol.address(), "{}: {}", obj.label, v.name);
            }
            let expected = if section.kind() == SectionKind::UninitializedData {
                vec![0; v.size as usize]
            } else {
                let data = section.data().unwrap_or(&[]);
                data.get(v.offset as usize..(v.offset + v.size) as usize)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default()
            };
            assert_eq!(v.initial, expected, "{}: {}", obj.label, v.name);
            checked_vars += 1;
        }
    }
    eprintln!(
        "checked .BTF of {} objects and {checked_vars} section variables",
        objects.len()
    );
}
