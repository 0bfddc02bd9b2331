//! Poll every ring buffer and perf buffer map of the object in one loop
//! until SIGINT/SIGTERM (or stdout is closed).

use crate::errors::{Failure, Kind};
use crate::layout::EventLayout;
use crate::printer::Printer;
use crate::sampler::Sampler;
use crate::signals;
use libbpf_rs::{MapCore, MapType, Object, PerfBufferBuilder, RingBufferBuilder};
use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

/// What happened while polling.
#[derive(Debug, Default)]
pub struct PollStats {
    /// Samples the kernel reported lost (perf buffers).
    pub lost: u64,
    /// Records that could not be decoded.
    pub decode_errors: u64,
}

/// Names of the maps events are read from (ring and perf buffers).
pub fn output_maps(object: &Object) -> Vec<String> {
    object
        .maps()
        .filter(|m| matches!(m.map_type(), MapType::RingBuf | MapType::PerfEventArray))
        .map(|m| m.name().to_string_lossy().into_owned())
        .collect()
}

type Shared = Rc<RefCell<Printer>>;

/// One printer per distinct event layout; maps with the same layout share it.
struct Printers {
    all: Vec<Shared>,
    make: Box<dyn Fn(Option<EventLayout>) -> Printer>,
}

impl Printers {
    fn for_layout(&mut self, layout: Option<EventLayout>) -> Shared {
        if let Some(p) = self
            .all
            .iter()
            .find(|p| p.borrow().layout() == layout.as_ref())
        {
            return Rc::clone(p);
        }
        let p = Rc::new(RefCell::new((self.make)(layout)));
        self.all.push(Rc::clone(&p));
        p
    }

    fn closed(&self) -> bool {
        self.all.iter().any(|p| p.borrow().closed)
    }
}

/// Poll until stopped: records of each ring/perf buffer map go to a printer
/// for `layout_of(map name)` (made by `make_printer`); sampled maps are printed
/// on their schedule and once more at the end.
pub fn run(
    object: &Object,
    layout_of: impl Fn(&str) -> Option<EventLayout>,
    make_printer: impl Fn(Option<EventLayout>) -> Printer + 'static,
    samplers: &mut [Sampler],
    json: bool,
    timeout_ms: i32,
) -> Result<PollStats, Failure> {
    let mut printers = Printers {
        all: Vec::new(),
        make: Box::new(make_printer),
    };
    let lost = Rc::new(Cell::new(0u64));
    let timeout_ms: libc::c_int = timeout_ms.max(1);

    let maps: Vec<_> = object.maps().collect();
    let mut ring_builder = RingBufferBuilder::new();
    let mut ring_count = 0;
    let mut perf_buffers = Vec::new();
    for map in &maps {
        let name = map.name().to_string_lossy().into_owned();
        match map.map_type() {
            MapType::RingBuf => {
                let p = printers.for_layout(layout_of(&name));
                ring_builder
                    .add(map, move |data: &[u8]| {
                        let mut p = p.borrow_mut();
                        p.record(data);
                        if p.closed {
                            -1
                        } else {
                            0
                        }
                    })
                    .map_err(|e| setup_error("ring buffer", &name, e))?;
                ring_count += 1;
            }
            MapType::PerfEventArray => {
                let p = printers.for_layout(layout_of(&name));
                let l = Rc::clone(&lost);
                let perf = PerfBufferBuilder::new(map)
                    .sample_cb(move |_cpu, data: &[u8]| p.borrow_mut().record(data))
                    .lost_cb(move |_cpu, n| l.set(l.get().saturating_add(n)))
                    .build()
                    .map_err(|e| setup_error("perf buffer", &name, e))?;
                perf_buffers.push(perf);
            }
            _ => {}
        }
    }
    let ring = if ring_count > 0 {
        Some(
            ring_builder
                .build()
                .map_err(|e| setup_error("ring buffer", "(all)", e))?,
        )
    } else {
        None
    };

    let mut fds: Vec<RawFd> = ring.iter().map(|r| r.epoll_fd()).collect();
    fds.extend(perf_buffers.iter().map(|p| p.epoll_fd()));
    let mut waiter = Waiter::new(&fds);

    // One event table and nothing else: its header right away (ecli does);
    // otherwise each header just before its first record.
    match printers.all.as_slice() {
        [only] if samplers.is_empty() => only.borrow_mut().header(),
        many => many.iter().for_each(|p| p.borrow_mut().lazy_header()),
    }
    let mut stdout_closed = false;
    while !signals::stop_requested() && !printers.closed() && !stdout_closed {
        let now = Instant::now();
        let wait_ms = samplers
            .iter()
            .map(|s| s.due().saturating_duration_since(now).as_millis())
            .min()
            .map_or(timeout_ms, |ms| {
                libc::c_int::try_from(ms)
                    .unwrap_or(timeout_ms)
                    .clamp(1, timeout_ms)
            });
        let ready = waiter.wait(wait_ms)?;
        if ready {
            if let Some(r) = &ring {
                if let Err(e) = r.consume() {
                    if !printers.closed() {
                        return Err(poll_error("ring buffer", e));
                    }
                }
            }
            for perf in &perf_buffers {
                perf.consume().map_err(|e| poll_error("perf buffer", e))?;
            }
        }
        for s in samplers.iter_mut() {
            stdout_closed |= !s.tick(object, json, false);
        }
    }
    // A last look at the sampled maps, so a short run still shows them.
    if !stdout_closed && !printers.closed() {
        for s in samplers.iter_mut() {
            if !s.tick(object, json, true) {
                break;
            }
        }
    }
    let decode_errors = printers.all.iter().map(|p| p.borrow().decode_errors).sum();
    Ok(PollStats {
        lost: lost.get(),
        decode_errors,
    })
}

/// poll(2) over the buffers' epoll fds (each is readable when any of its
/// ring/perf fds has data).
struct Waiter {
    pollfds: Vec<libc::pollfd>,
}

impl Waiter {
    fn new(fds: &[RawFd]) -> Self {
        let pollfds = fds
            .iter()
            .map(|fd| libc::pollfd {
                fd: *fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        Waiter { pollfds }
    }

    /// Wait up to `timeout_ms`; `true` when some buffer has data. A signal
    /// (EINTR) returns `false` so the caller can check the stop flag.
    fn wait(&mut self, timeout_ms: libc::c_int) -> Result<bool, Failure> {
        let len = self.pollfds.len() as libc::nfds_t;
        // SAFETY: `pollfds` is a valid, exclusively borrowed array of `len` pollfd structs.
        let n = unsafe { libc::poll(self.pollfds.as_mut_ptr(), len, timeout_ms) };
        if n >= 0 {
            return Ok(n > 0);
        }
        let err = std::io::Error::last_os_error();
        if err.kind() == std::io::ErrorKind::Interrupted {
            return Ok(false);
        }
        Err(Failure {
            kind: Kind::Other,
            error: anyhow::anyhow!("polling the event buffers failed: {err}"),
        })
    }
}

fn setup_error(what: &str, map: &str, e: libbpf_rs::Error) -> Failure {
    Failure {
        kind: Kind::Libbpf,
        error: anyhow::anyhow!("cannot set up the {what} for map {map}: {e:#}"),
    }
}

fn poll_error(what: &str, e: libbpf_rs::Error) -> Failure {
    Failure {
        kind: Kind::Other,
        error: anyhow::anyhow!("reading the {what} failed: {e:#}"),
    }
}
