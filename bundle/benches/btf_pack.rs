//! How a BTF pack scales with the number of kernels (`cargo bench -p bundle`,
//! part of `make bench`): for packs of 10 to 1000 distinct, similar BTFs
//! (one struct of 60 members whose offsets shift the way kernel releases
//! shift them, a few kilobytes each like a real minimised BTF), the pack
//! size, the time to write it, and the launcher's costs: opening the pack
//! (index only; all a tool on native BTF pays), getting the first and the
//! last kernel's BTF (decoding up to it), and reading everything. Medians of
//! several runs; prints a table, asserts nothing.

use std::{collections::BTreeMap, hint::black_box, sync::Arc, time::Instant};

use btf::{BtfBuilder, IntEncoding};
use bundle::{btf_pack, identity::KernelId};

/// Number of runs each measurement takes the median of.
const RUNS: usize = 7;

/// A BTF like one object's minimised BTF for "release" `n`: the members
/// after a few insertion points move by 64 bits more every few releases.
fn synthetic_btf(n: u32) -> Arc<[u8]> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let long = b.add_int("long unsigned int", 8, IntEncoding::default());
    let ptr = b.add_ptr(0);
    for s in 0..6u32 {
        b.add_struct(&format!("struct_{s}_of_the_kernel"), 4096 + n * 8);
        let mut offset = 0u32;
        for m in 0..10u32 {
            if (m + s) % 4 == 0 {
                offset += 64 * ((n + m) / (3 + s));
            }
            let ty = [int, long, ptr][(m % 3) as usize];
            let _ = b.add_member(&format!("member_{m}_of_{s}"), ty, offset, 0);
            offset += 64;
        }
    }
    Arc::from(b.to_bytes())
}

fn median_us(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[RUNS / 2]
}

fn main() {
    println!("BTF pack scaling (synthetic similar BTFs; medians of {RUNS} runs)");
    println!("| kernels | plain KiB | pack KiB | write ms | open (index) us | get first us | get last us | read all us |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for count in [10u32, 100, 300, 1000] {
        let btfs: BTreeMap<KernelId, Arc<[u8]>> = (0..count)
            .map(|n| {
                let kernel =
                    KernelId::new("ubuntu", "20.04", "x86_64", format!("5.4.0-{n}-generic"));
                (kernel, synthetic_btf(n))
            })
            .collect();
        let plain: usize = btfs.values().map(|b| b.len()).sum();
        let mut pack = Vec::new();
        let write_us = median_us(|| pack = btf_pack::write(&btfs).expect("write"));
        let pack: Arc<[u8]> = Arc::from(pack);
        let open_us = median_us(|| {
            black_box(btf_pack::Pack::open(pack.clone()).expect("open"));
        });
        let opened = btf_pack::Pack::open(pack.clone()).expect("open");
        let (order_first, order_last) = (
            kernel_with_release(&btfs, std::cmp::Ordering::Less),
            kernel_with_release(&btfs, std::cmp::Ordering::Greater),
        );
        let get_first_us = median_us(|| {
            black_box(opened.get(&order_first).expect("get"));
        });
        let get_last_us = median_us(|| {
            black_box(opened.get(&order_last).expect("get"));
        });
        let all_us = median_us(|| {
            black_box(opened.read_all().expect("read"));
        });
        println!(
            "| {count} | {:.1} | {:.1} | {:.1} | {open_us:.0} | {get_first_us:.0} | {get_last_us:.0} | {all_us:.0} |",
            plain as f64 / 1024.0,
            pack.len() as f64 / 1024.0,
            write_us / 1000.0
        );
    }
}

/// The kernel whose blob comes first (`Less`) or last (`Greater`) in the
/// pack, whose blobs are in release order.
fn kernel_with_release(btfs: &BTreeMap<KernelId, Arc<[u8]>>, end: std::cmp::Ordering) -> KernelId {
    btfs.keys()
        .max_by(|a, b| {
            let order = bundle::compare_releases(&a.release, &b.release);
            if end == std::cmp::Ordering::Less {
                order.reverse()
            } else {
                order
            }
        })
        .expect("kernels")
        .clone()
}
