//! What Linux tells about a process: resident memory (current and peak) and
//! CPU time, read from `/proc`. Elsewhere every figure is simply absent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinHandle;

/// `USER_HZ`: the unit of the CPU times in `/proc/*/stat`, 100 on every
/// mainstream Linux architecture (reading it properly needs libc's sysconf).
const TICKS_PER_SEC: f64 = 100.0;

/// A `VmRSS:` / `VmHWM:` style line of `/proc/PID/status`, in KiB.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

pub fn peak_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM")
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS, so the next
/// reading is the peak of what follows. Allowed for our own child process.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// User + system CPU seconds of a process (`None`: this process).
pub fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may contain spaces and parentheses: fields are
    // counted from after its closing parenthesis, where field 3 begins.
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SEC)
}

/// CPU seconds the whole machine spent busy (all cores), from `/proc/stat`.
pub fn machine_busy_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).unwrap_or(&0);
    Some(total.saturating_sub(idle) as f64 / TICKS_PER_SEC)
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The machine the figures were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_mib: u64,
    pub kernel: String,
}

impl Machine {
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: u64 = meminfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("MemTotal:")?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned());
        Self {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            memory_mib: memory_kib / 1024,
            kernel,
        }
    }
}

/// Watches the server while a scenario runs: its peak RSS and the CPU time
/// it and the generator used.
pub struct Monitor {
    pid: Option<u32>,
    peak_was_reset: bool,
    sampled_max_kib: Arc<AtomicU64>,
    sampler: Option<JoinHandle<()>>,
    server_cpu: Option<f64>,
    bench_cpu: Option<f64>,
    machine_busy: Option<f64>,
    started: Instant,
}

/// What the monitor saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub peak_rss_kib: Option<u64>,
    /// Percent of one core, averaged over the scenario.
    pub server_cpu_pct: Option<f64>,
    pub bench_cpu_pct: Option<f64>,
    /// Everything else on the machine: the database server, other work.
    pub other_cpu_pct: Option<f64>,
}

impl Monitor {
    /// `pid` is the server's, when it runs as a separate process here.
    pub fn start(pid: Option<u32>) -> Self {
        let sampled_max_kib = Arc::new(AtomicU64::new(0));
        let peak_was_reset = pid.is_some_and(reset_peak);
        // Sampling backs the kernel's peak up where it cannot be reset.
        let sampler = pid.map(|pid| {
            let max = sampled_max_kib.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(50));
                loop {
                    tick.tick().await;
                    if let Some(kib) = rss_kib(pid) {
                        max.fetch_max(kib, Ordering::Relaxed);
                    }
                }
            })
        });
        Self {
            pid,
            peak_was_reset,
            sampled_max_kib,
            sampler,
            server_cpu: pid.and_then(|p| cpu_secs(Some(p))),
            bench_cpu: cpu_secs(None),
            machine_busy: machine_busy_secs(),
            started: Instant::now(),
        }
    }

    pub fn finish(self) -> Usage {
        if let Some(sampler) = &self.sampler {
            sampler.abort();
        }
        let Some(pid) = self.pid else {
            return Usage::default();
        };
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let pct = |before: Option<f64>, after: Option<f64>| Some((after? - before?) / secs * 100.0);
        let sampled = self.sampled_max_kib.load(Ordering::Relaxed);
        let kernel_peak = if self.peak_was_reset {
            peak_kib(pid)
        } else {
            None
        };
        let server_cpu_pct = pct(self.server_cpu, cpu_secs(Some(pid)));
        let bench_cpu_pct = pct(self.bench_cpu, cpu_secs(None));
        let machine_pct = pct(self.machine_busy, machine_busy_secs());
        Usage {
            peak_rss_kib: kernel_peak.map_or(Some(sampled), |k| Some(k.max(sampled))),
            server_cpu_pct,
            bench_cpu_pct,
            other_cpu_pct: machine_pct.map(|m| {
                (m - server_cpu_pct.unwrap_or(0.0) - bench_cpu_pct.unwrap_or(0.0)).max(0.0)
            }),
        }
    }
}
