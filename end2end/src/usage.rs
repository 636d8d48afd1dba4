//! What a process costs, read from `/proc`: CPU seconds (user + system) and resident memory,
//! for itself and its children (Fanout's ffmpeg).

/// Clock ticks per second of `/proc/<pid>/stat` times (Linux's USER_HZ).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system) a process has used.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / TICKS_PER_SECOND)
}

/// A memory figure (`VmRSS:`, `VmHWM:` …) of `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()))
}

/// Resident memory of a process, in KiB.
pub fn resident_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// The pids whose parent is `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat")).ok().and_then(|stat| {
                let rest = stat.get(stat.rfind(')')? + 2..)?.to_string();
                rest.split_whitespace().nth(1)?.parse::<u32>().ok()
            }) == Some(pid)
        })
        .collect()
}

/// Peak resident memory of a process (`VmHWM`), in KiB.
pub fn peak_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// A process and all its descendants.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut at = 0;
    while at < all.len() {
        all.extend(children(all[at]));
        at += 1;
    }
    all
}

/// CPU seconds used by a process and its descendants (those alive now).
pub fn tree_cpu_seconds(pid: u32) -> f64 {
    tree(pid).into_iter().filter_map(cpu_seconds).sum()
}

/// Peak resident memory of a process and its descendants, summed, in KiB.
pub fn tree_peak_kib(pid: u32) -> u64 {
    tree(pid).into_iter().filter_map(peak_kib).sum()
}
