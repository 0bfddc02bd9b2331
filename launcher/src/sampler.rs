//! Reading sampled maps from the kernel on their schedule (see `sample` for
//! what is printed).

use crate::errors::{Failure, Kind};
use crate::output::local_hms;
use crate::printer::print_line;
use crate::sample::{render, MapTypes, SampleSpec};
use libbpf_rs::{MapCore, MapFlags, MapType, Object};
use std::time::Instant;

/// One sampled map and when it is due.
pub struct Sampler {
    spec: SampleSpec,
    types: MapTypes,
    due: Instant,
    warned: bool,
}

impl Sampler {
    /// Samplers for `specs`; every map must exist in `object`.
    pub fn new(
        object: &Object,
        specs: Vec<SampleSpec>,
        types: impl Fn(&str) -> MapTypes,
    ) -> Result<Vec<Sampler>, Failure> {
        let maps: Vec<(String, MapType)> = object
            .maps()
            .map(|m| (m.name().to_string_lossy().into_owned(), m.map_type()))
            .collect();
        let now = Instant::now();
        specs
            .into_iter()
            .map(|spec| {
                let (kind, whose) = if spec.from_package {
                    (Kind::Payload, "package.json: a `sample` entry names")
                } else {
                    (Kind::Usage, "--sample")
                };
                match maps.iter().find(|(n, _)| *n == spec.map) {
                    None => {
                        let names: Vec<&str> = maps.iter().map(|(n, _)| n.as_str()).collect();
                        return Err(Failure::new(
                            kind,
                            format!(
                                "{whose} map {}, but the object has no such map; its maps are: {}",
                                spec.map,
                                names.join(", ")
                            ),
                        ));
                    }
                    Some((_, MapType::RingBuf | MapType::PerfEventArray)) => {
                        return Err(Failure::new(
                            kind,
                            format!(
                                "{whose} map {}, a ring/perf buffer: its records are printed as \
                                 events; only maps with keys (hash, array, ...) can be sampled",
                                spec.map
                            ),
                        ));
                    }
                    Some(_) => {}
                }
                Ok(Sampler {
                    types: types(&spec.map),
                    due: now + spec.interval,
                    spec,
                    warned: false,
                })
            })
            .collect()
    }

    /// When this map is printed next.
    pub fn due(&self) -> Instant {
        self.due
    }

    /// Print the map if it is due (or `force`); returns `false` when stdout
    /// is closed.
    pub fn tick(&mut self, object: &Object, json: bool, force: bool) -> bool {
        let now = Instant::now();
        if !force && now < self.due {
            return true;
        }
        self.due = now + self.spec.interval;
        let Some(map) = object
            .maps()
            .find(|m| m.name().to_string_lossy() == self.spec.map)
        else {
            return true;
        };
        let percpu = map.map_type().is_percpu();
        let mut entries = Vec::new();
        for key in map.keys() {
            let value = if percpu {
                map.lookup_percpu(&key, MapFlags::ANY)
                    .map(|v| v.map(|cpus| sum_per_cpu(&cpus)))
            } else {
                map.lookup(&key, MapFlags::ANY)
            };
            match value {
                Ok(Some(v)) => entries.push((key, v)),
                Ok(None) => {}
                Err(e) => {
                    if !self.warned {
                        eprintln!("warning: reading map {}: {e}", self.spec.map);
                        self.warned = true;
                    }
                }
            }
        }
        let lines = render(&self.spec, &self.types, &entries, json, &local_hms());
        for line in &lines {
            if !print_line(line) {
                return false;
            }
        }
        if self.spec.clear {
            let array = matches!(map.map_type(), MapType::Array | MapType::PercpuArray);
            for (key, value) in &entries {
                let _ = if array && !percpu {
                    map.update(key, &vec![0u8; value.len()], MapFlags::ANY)
                } else {
                    map.delete(key)
                };
            }
        }
        true
    }
}

/// Per-CPU values summed word by word (u64 words when the size allows,
/// else u32): right for counters and histogram slots that do not overflow
/// a word; other layouts should not be sampled per CPU.
fn sum_per_cpu(cpus: &[Vec<u8>]) -> Vec<u8> {
    let len = cpus.first().map_or(0, Vec::len);
    let word = if len % 8 == 0 { 8 } else { 4 };
    let mut out = vec![0u8; len];
    for (i, chunk) in out.chunks_mut(word).enumerate() {
        let total = cpus.iter().fold(0u64, |acc, cpu| {
            let bytes = cpu.get(i * word..i * word + chunk.len()).unwrap_or(&[]);
            let mut b = [0u8; 8];
            for (d, s) in b.iter_mut().zip(bytes) {
                *d = *s;
            }
            acc.wrapping_add(u64::from_le_bytes(b))
        });
        for (d, s) in chunk.iter_mut().zip(total.to_le_bytes()) {
            *d = s;
        }
    }
    out
}
