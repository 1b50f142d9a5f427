//! Wall time, CPU time and peak memory of this process, from `/proc/self`
//! (Linux): CPU time is user + system of all its threads (`/proc/self/stat`,
//! in clock ticks of 10 ms), peak memory the high-water mark of the resident
//! set (`VmHWM` in `/proc/self/status`).

use std::time::Instant;

/// Clock ticks per second of `/proc/self/stat` (`getconf CLK_TCK`: 100 on
/// every Linux this runs on).
const TICKS: f64 = 100.0;

/// CPU time so far, in seconds.
#[derive(Clone, Copy)]
pub struct Cpu(f64);

impl Cpu {
    pub fn now() -> Cpu {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // The command name (field 2) may hold spaces: count from after its `)`.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15; `rest` starts at field 3.
        let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        Cpu((tick(11) + tick(12)) / TICKS)
    }
}

/// Wall and CPU seconds of a step.
pub struct Run {
    pub wall: f64,
    pub cpu: f64,
}

impl Run {
    pub fn since(t: Instant, cpu: Cpu) -> Run {
        Run { wall: t.elapsed().as_secs_f64(), cpu: Cpu::now().0 - cpu.0 }
    }
}

/// Peak resident memory of this process so far, in bytes.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
