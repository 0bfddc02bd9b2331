//! `cargo bench -p btf --bench minimize`: our parse + minimise against
//! `bpftool gen min_core_btf`, per kernel (every sample-archive kernel, decoded to raw BTF
//! first, and the host), then one object against three objects with the kernel parsed once.
//!
//! Medians of `BENCH_ITERATIONS` (default 11) runs; ours in-process, bpftool as processes.
//! Ours takes the raw BTF as an owned buffer ([`btf::Btf::from_vec`], no copy), as packer does
//! with the buffer its decoder fills; each run's buffer is made before the clock starts. The
//! N-objects table also shows [`btf::Btf::parse`], which copies the blob first.
//! Nothing here asserts timings.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::objects::BpfObjectFile;
use common::{env, kernels, objects, tools};

fn iterations() -> usize {
    std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(11)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median wall time of `f`, which must succeed.
fn time_ours(n: usize, mut f: impl FnMut() -> Result<usize, String>) -> Result<Duration, String> {
    time_ours_with(n, || (), |()| f())
}

/// Median wall time of `f` on an input made by `setup` before the clock starts.
fn time_ours_with<S>(
    n: usize,
    mut setup: impl FnMut() -> S,
    mut f: impl FnMut(S) -> Result<usize, String>,
) -> Result<Duration, String> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let input = setup();
        let start = Instant::now();
        f(input)?;
        samples.push(start.elapsed());
    }
    Ok(median(samples))
}

/// Median wall time of `bpftool gen min_core_btf kernel out objects...` as a process.
fn time_bpftool(
    n: usize,
    bpftool: &Path,
    kernel: &Path,
    out: &Path,
    objs: &[&BpfObjectFile],
) -> Result<Duration, String> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let mut cmd = Command::new(bpftool);
        cmd.args(["gen", "min_core_btf"])
            .arg(kernel)
            .arg(out)
            .args(objs.iter().map(|o| &o.path));
        let start = Instant::now();
        let output = tools::run(&mut cmd);
        samples.push(start.elapsed());
        if !output.status.success() {
            return Err(format!(
                "{}: {}",
                tools::describe(&cmd),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    Ok(median(samples))
}

fn parse_objects(objs: &[&BpfObjectFile]) -> Result<Vec<btf::BpfObject>, String> {
    objs.iter()
        .map(|o| btf::BpfObject::parse(&o.bytes).map_err(|e| format!("{}: {e}", o.label)))
        .collect()
}

/// Parse the kernel (taking the buffer) and the objects, minimise: the whole job of one
/// `bpftool` run.
fn ours_once(raw: Vec<u8>, objs: &[&BpfObjectFile]) -> Result<usize, String> {
    let kernel = btf::Btf::from_vec(raw).map_err(|e| e.to_string())?;
    let parsed = parse_objects(objs)?;
    let refs: Vec<&btf::BpfObject> = parsed.iter().collect();
    btf::minimize(&kernel, &refs)
        .map(|b| b.len())
        .map_err(|e| e.to_string())
}

fn main() {
    // `cargo test --benches` runs bench binaries without `--bench`: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = iterations();
    let Some(bpftool) = tools::bpftool() else {
        return;
    };
    let dir = env::run_dir("bench");
    let mut kernels = kernels::archive_kernels(&dir);
    kernels.extend(kernels::host_kernel(&dir));
    if kernels.is_empty() {
        eprintln!("bench: no kernels (no archive, no host BTF); nothing to do");
        return;
    }
    // Example objects when built, else the test-only objects that real kernels match.
    let mut objects = objects::example_objects();
    if objects.is_empty() {
        objects = objects::test_objects()
            .unwrap_or_default()
            .into_iter()
            .filter(|o| ["test/fields", "test/types", "test/flavours"].contains(&o.label.as_str()))
            .collect();
    }
    let Some(first) = objects.first() else {
        eprintln!("bench: no BPF objects (run `make examples`); nothing to do");
        return;
    };
    let one = [first];
    let three: Vec<&BpfObjectFile> = objects.iter().take(3).collect();
    let out = dir.join("bpftool-out.btf");

    println!("\nbtf::minimize vs bpftool gen min_core_btf (median of {n}; object {}; ours = Btf::from_vec(raw BTF in memory) + parse object + minimise, in-process; bpftool = one process run on the raw BTF file)\n", first.label);
    println!("| kernel | raw BTF MB | ours ms | bpftool ms | bpftool/ours |");
    println!("|---|---:|---:|---:|---:|");
    let (mut sum_ours, mut sum_theirs) = (0.0, 0.0);
    for k in &kernels {
        let ours = time_ours_with(n, || k.raw.clone(), |raw| ours_once(raw, &one));
        let theirs = time_bpftool(n, &bpftool, &k.raw_path, &out, &one);
        let mb = k.raw.len() as f64 / 1e6;
        match (ours, theirs) {
            (Ok(o), Ok(t)) => {
                sum_ours += ms(o);
                sum_theirs += ms(t);
                println!(
                    "| {} | {mb:.1} | {:.1} | {:.1} | {:.2}× |",
                    k.label,
                    ms(o),
                    ms(t),
                    ms(t) / ms(o)
                );
            }
            (o, t) => println!(
                "| {} | {mb:.1} | {} | {} | — |",
                k.label,
                o.map_or_else(|e| format!("error: {e}"), |d| format!("{:.1}", ms(d))),
                t.map_or_else(|e| format!("error: {e}"), |d| format!("{:.1}", ms(d)))
            ),
        }
    }
    println!(
        "| **total** | | {sum_ours:.1} | {sum_theirs:.1} | {:.2}× |",
        sum_theirs / sum_ours.max(1e-9)
    );

    // One kernel, 1 object vs 3 objects: the kernel is parsed once whatever the count.
    let Some(k) = kernels
        .iter()
        .find(|k| k.label == "host")
        .or(kernels.first())
    else {
        return;
    };
    println!(
        "\nN objects on {} ({} object(s): {})\n",
        k.label,
        three.len(),
        three
            .iter()
            .map(|o| o.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("| step | 1 object ms | {} objects ms |", three.len());
    println!("|---|---:|---:|");
    let parse = time_ours(n, || {
        btf::Btf::parse(&k.raw)
            .map(|b| b.type_count() as usize)
            .map_err(|e| e.to_string())
    });
    let kernel = match btf::Btf::parse(&k.raw) {
        Ok(b) => b,
        Err(e) => {
            println!("our Btf::parse({}) failed: {e}", k.label);
            return;
        }
    };
    let minimise_only = |objs: &[&BpfObjectFile]| {
        let parsed = parse_objects(objs)?;
        time_ours(n, || {
            let mut m = btf::Minimizer::new(&kernel);
            for o in &parsed {
                m.add_object(o).map_err(|e| e.to_string())?;
            }
            Ok(m.finish().len())
        })
    };
    let show = |r: Result<Duration, String>| {
        r.map_or_else(|e| format!("error: {e}"), |d| format!("{:.2}", ms(d)))
    };
    let parse_s = show(parse.clone());
    println!("| ours: Btf::parse(kernel) (copies the blob), once | {parse_s} | {parse_s} |");
    let from_vec_s = show(time_ours_with(
        n,
        || k.raw.clone(),
        |raw| {
            btf::Btf::from_vec(raw)
                .map(|b| b.type_count() as usize)
                .map_err(|e| e.to_string())
        },
    ));
    println!("| ours: Btf::from_vec(kernel) (no copy), once | {from_vec_s} | {from_vec_s} |");
    println!(
        "| ours: Minimizer add_object×N + finish (kernel parsed) | {} | {} |",
        show(minimise_only(&one)),
        show(minimise_only(&three))
    );
    println!(
        "| ours: total (parse kernel + objects + minimise) | {} | {} |",
        show(time_ours_with(
            n,
            || k.raw.clone(),
            |raw| ours_once(raw, &one)
        )),
        show(time_ours_with(
            n,
            || k.raw.clone(),
            |raw| ours_once(raw, &three)
        ))
    );
    println!(
        "| bpftool gen min_core_btf (one process) | {} | {} |",
        show(time_bpftool(n, &bpftool, &k.raw_path, &out, &one)),
        show(time_bpftool(n, &bpftool, &k.raw_path, &out, &three))
    );
    env::cleanup(&dir);
}
