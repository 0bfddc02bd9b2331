//! Minimising many kernels for a set of objects: every kernel is read,
//! decoded in memory and parsed once, minimised for all objects, on every
//! core, largest input first; the build cache (see [`crate::cache`]) skips
//! xz decoding for kernels seen before and the whole kernel when the same
//! objects were minimised for it before.

use std::{
    path::Path,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
    time::Instant,
};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::{
    cache::{Key, Section, Store},
    cli::CacheArgs,
    fsutil,
    kernel::{self, KernelInput, LoadedObject},
    progress::Progress,
};

/// How to run a batch.
pub struct Options<'a> {
    /// The build cache, if any.
    pub cache: Option<&'a Store>,
    /// Leave out kernels that fail (with a warning) instead of failing.
    pub keep_going: bool,
    /// The progress bar's label.
    pub label: &'static str,
}

/// Where each kernel's BTF came from, counted.
#[derive(Debug, Default)]
struct Counters {
    reused: AtomicUsize,
    from_kernel_cache: AtomicUsize,
    decoded: AtomicUsize,
    raw: AtomicUsize,
}

/// The minimised BTFs of a batch, aligned with its inputs; `None` for a
/// kernel that failed.
pub struct Outcome {
    /// Per input kernel.
    pub btfs: Vec<Option<Vec<u8>>>,
    /// Set when kernels failed and `keep_going` was not given (or all
    /// failed): what to report.
    pub failure: Option<anyhow::Error>,
}

impl Outcome {
    /// The BTFs, or the failure.
    pub fn into_result(self) -> Result<Vec<Option<Vec<u8>>>> {
        match self.failure {
            Some(e) => Err(e),
            None => Ok(self.btfs),
        }
    }
}

/// Minimises every kernel of `inputs` for `objects`. Every failure is
/// printed as it happens (with `keep_going` as a warning naming the kernel
/// left out); the outcome says whether the batch as a whole failed.
pub fn minimize_all(
    inputs: &[KernelInput],
    objects: &[&LoadedObject],
    options: &Options<'_>,
) -> Result<Outcome> {
    let started = Instant::now();
    let objects_key = objects_key(objects);
    // Largest input first, so the cores finish together.
    let mut order: Vec<(u64, usize)> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| (std::fs::metadata(&input.path).map_or(0, |m| m.len()), i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

    let progress = Progress::new(inputs.len(), options.label);
    let counters = Counters::default();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Vec<u8>>>>> =
        Mutex::new((0..inputs.len()).map(|_| None).collect());
    let workers = rayon::current_num_threads().clamp(1, inputs.len().max(1));
    rayon::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                while let Some(&(_, i)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let Some(input) = inputs.get(i) else { break };
                    let result = one_kernel(input, objects, &objects_key, options.cache, &counters)
                        .with_context(|| format!("kernel {}", input.kernel));
                    if let (Err(e), true) = (&result, inputs.len() > 1) {
                        if options.keep_going {
                            progress.println(&format!(
                                "packer: warn: skipping {e:#} (the output will not cover it)"
                            ));
                        } else {
                            progress.println(&format!("packer: error: {e:#}"));
                        }
                    }
                    progress.step(&input.kernel.to_string());
                    if let Ok(mut slots) = results.lock() {
                        if let Some(slot) = slots.get_mut(i) {
                            *slot = Some(result);
                        }
                    }
                }
            });
        }
    });
    progress.finish();
    let results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker thread panicked"))?;
    log::info!(
        "{} kernels in {:.2}s: {} reused from the build cache, {} decoded from the kernel cache, \
         {} decoded from xz, {} read raw",
        inputs.len(),
        started.elapsed().as_secs_f64(),
        counters.reused.load(Ordering::Relaxed),
        counters.from_kernel_cache.load(Ordering::Relaxed),
        counters.decoded.load(Ordering::Relaxed),
        counters.raw.load(Ordering::Relaxed),
    );
    collect(inputs, results, options.keep_going)
}

fn collect(
    inputs: &[KernelInput],
    results: Vec<Option<Result<Vec<u8>>>>,
    keep_going: bool,
) -> Result<Outcome> {
    let total = inputs.len();
    let mut out = Vec::with_capacity(total);
    let mut failed: Vec<String> = Vec::new();
    let mut only_error = None;
    for (input, result) in inputs.iter().zip(results) {
        match result {
            Some(Ok(btf)) => out.push(Some(btf)),
            Some(Err(e)) => {
                failed.push(input.kernel.to_string());
                only_error = Some(e);
                out.push(None);
            }
            None => bail!("kernel {} was not processed", input.kernel),
        }
    }
    let failure = if failed.is_empty() {
        None
    } else if total == 1 {
        // Its error was not printed: it is the whole story.
        only_error
    } else if !keep_going {
        Some(anyhow::anyhow!(
            "{} of {total} kernels failed (errors above); fix or remove those files, or rerun with \
             --keep-going to build without them",
            failed.len()
        ))
    } else if failed.len() == total {
        Some(anyhow::anyhow!(
            "every kernel failed (errors above); nothing to build"
        ))
    } else {
        log::warn!(
            "left out {} of {total} kernels (--keep-going): {}",
            failed.len(),
            failed.join(", ")
        );
        None
    };
    Ok(Outcome { btfs: out, failure })
}

/// Reads, decodes, parses and minimises one kernel, using and filling the
/// cache.
fn one_kernel(
    input: &KernelInput,
    objects: &[&LoadedObject],
    objects_key: &Key,
    cache: Option<&Store>,
    counters: &Counters,
) -> Result<Vec<u8>> {
    let path = &input.path;
    let t0 = Instant::now();
    let file = fsutil::read(path)?;
    let content: Key = Sha256::digest(&file).into();
    let result_key: Key = Sha256::new()
        .chain_update(objects_key)
        .chain_update(content)
        .finalize()
        .into();
    if let Some(btf) = cache.and_then(|c| c.get(Section::Results, &result_key)) {
        counters.reused.fetch_add(1, Ordering::Relaxed);
        return Ok(btf);
    }
    // Raw BTF needs no decoding: hand the file's buffer over as it is.
    let raw = if btf::Endian::detect(&file).is_some() {
        counters.raw.fetch_add(1, Ordering::Relaxed);
        file
    } else if let Some(raw) = cache.and_then(|c| c.get(Section::Kernels, &content)) {
        counters.from_kernel_cache.fetch_add(1, Ordering::Relaxed);
        raw
    } else {
        let raw = decode(path, &file)?;
        counters.decoded.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = cache {
            let t = Instant::now();
            c.put(Section::Kernels, &content, &raw);
            log::debug!(
                "{}: decoded in {:.0} ms, stored in the kernel cache in {:.0} ms",
                input.kernel,
                (t - t0).as_secs_f64() * 1e3,
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        raw
    };
    let t1 = Instant::now();
    let kernel = btf::Btf::from_vec(raw)
        .with_context(|| format!("{}: invalid kernel BTF", path.display()))?;
    let t2 = Instant::now();
    let btf = kernel::minimize_parsed(path, &kernel, objects)?;
    if let Some(c) = cache {
        c.put(Section::Results, &result_key, &btf);
    }
    log::debug!(
        "{}: read+decode {:.0} ms, parse {:.0} ms, minimise {:.0} ms",
        input.kernel,
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64() * 1e3,
        t2.elapsed().as_secs_f64() * 1e3
    );
    Ok(btf)
}

fn decode(path: &Path, file: &[u8]) -> Result<Vec<u8>> {
    btf::decode_kernel_btf(file).with_context(|| {
        format!(
            "{}: cannot decode the kernel BTF (is the file damaged or truncated? fetch it again)",
            path.display()
        )
    })
}

/// What a result depends on besides the kernel: this packer build and the
/// objects, in order.
fn objects_key(objects: &[&LoadedObject]) -> Key {
    let mut hasher = Sha256::new();
    hasher.update(build_id());
    hasher.update((objects.len() as u64).to_le_bytes());
    for obj in objects {
        hasher.update(Sha256::digest(&obj.bytes));
    }
    hasher.finalize().into()
}

/// Identifies this packer build: its version and the SHA-256 of its
/// executable, so a rebuilt packer never reuses another build's results.
fn build_id() -> Key {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    match std::env::current_exe().and_then(std::fs::read) {
        Ok(exe) => hasher.update(&exe),
        Err(e) => log::debug!("cannot read the packer executable ({e}); results keyed by version"),
    }
    hasher.finalize().into()
}

/// The build cache, unless `--no-cache`; a cache that cannot be opened is a
/// warning, not an error.
pub fn open_cache(args: &CacheArgs) -> Option<Store> {
    if args.no_cache {
        return None;
    }
    match crate::dirs::build_cache().and_then(|dir| Store::open(&dir)) {
        Ok(store) => Some(store),
        Err(e) => {
            log::warn!("working without the build cache: {e:#}");
            None
        }
    }
}

/// Keeps the cache under its size limit after a run.
pub fn close_cache(cache: Option<Store>) {
    let Some(store) = cache else { return };
    match store.evict() {
        Ok(usage) => log::debug!(
            "build cache {}: {} entries, {}, {} evicted",
            store.root().display(),
            usage.entries,
            fsutil::human_size(usage.bytes),
            usage.evicted
        ),
        Err(e) => log::warn!("cannot trim the build cache: {e:#}"),
    }
}
