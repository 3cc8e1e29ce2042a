//! Resource usage of a container's cgroup in runc's `events` shape (`types.Stats` of runc's
//! `types/events.go`, which go-runc decodes), read from the v1 or v2 files.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Serialize;

use super::resources::Layout;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Stats {
    pub cpu: Cpu,
    pub memory: Memory,
    pub pids: Pids,
    pub blkio: Blkio,
    pub hugetlb: BTreeMap<String, Hugetlb>,
    pub network_interfaces: Vec<NetworkInterface>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Cpu {
    pub usage: CpuUsage,
    pub throttling: Throttling,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CpuUsage {
    /// Nanoseconds.
    pub total: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    pub cache: u64,
    pub usage: MemoryEntry,
    pub swap: MemoryEntry,
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MemoryEntry {
    /// 0 when unlimited is not representable; runc prints the kernel's huge number on v1
    /// and `max` as the maximum u64 on v2.
    pub limit: u64,
    pub usage: u64,
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Pids {
    pub current: u64,
    /// 0 = unlimited.
    pub limit: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Blkio {
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    pub io_serviced_recursive: Vec<BlkioEntry>,
    pub io_queue_recursive: Vec<BlkioEntry>,
    pub io_service_time_recursive: Vec<BlkioEntry>,
    pub io_wait_time_recursive: Vec<BlkioEntry>,
    pub io_merged_recursive: Vec<BlkioEntry>,
    pub io_time_recursive: Vec<BlkioEntry>,
    pub sectors_recursive: Vec<BlkioEntry>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BlkioEntry {
    pub major: u64,
    pub minor: u64,
    pub op: String,
    pub value: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Hugetlb {
    pub usage: u64,
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterface {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

fn read(d: &Path, f: &str) -> Option<String> {
    fs::read_to_string(d.join(f)).ok()
}

/// A number, `max` as u64::MAX, absent as 0.
fn num(d: &Path, f: &str) -> u64 {
    read(d, f).map(|s| parse_num(s.trim())).unwrap_or(0)
}

fn parse_num(s: &str) -> u64 {
    if s == "max" {
        u64::MAX
    } else {
        s.parse().unwrap_or(0)
    }
}

/// `key value` lines (memory.stat, cpu.stat, memory.events...).
pub fn flat_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_string(), parse_num(it.next()?)))
        })
        .collect()
}

fn keyed(d: &Path, f: &str) -> BTreeMap<String, u64> {
    read(d, f).map(|t| flat_keyed(&t)).unwrap_or_default()
}

/// Read the statistics of a container's cgroups.
pub fn collect(l: &Layout) -> Stats {
    let mut s = Stats::default();
    if l.pure_v2 {
        let d = l.v2_dir().expect("pure v2");
        v2(d, &mut s);
    } else {
        v1(l, &mut s);
        if let Some(d) = l.v2_dir() {
            hugetlb_v2(d, &mut s);
        }
    }
    s
}

fn v1(l: &Layout, s: &mut Stats) {
    if let Some(d) = l.v1_dir("cpuacct") {
        s.cpu.usage.total = num(d, "cpuacct.usage");
        s.cpu.usage.percpu = read(d, "cpuacct.usage_percpu")
            .map(|t| t.split_whitespace().map(parse_num).collect())
            .unwrap_or_default();
        // cpuacct.stat is in USER_HZ (100 per second) ticks.
        let st = keyed(d, "cpuacct.stat");
        s.cpu.usage.user = st.get("user").copied().unwrap_or(0) * 10_000_000;
        s.cpu.usage.kernel = st.get("system").copied().unwrap_or(0) * 10_000_000;
    }
    if let Some(d) = l.v1_dir("cpu") {
        let st = keyed(d, "cpu.stat");
        s.cpu.throttling = Throttling {
            periods: st.get("nr_periods").copied().unwrap_or(0),
            throttled_periods: st.get("nr_throttled").copied().unwrap_or(0),
            throttled_time: st.get("throttled_time").copied().unwrap_or(0),
        };
    }
    if let Some(d) = l.v1_dir("memory") {
        let entry = |p: &str| MemoryEntry {
            limit: num(d, &format!("{p}limit_in_bytes")),
            usage: num(d, &format!("{p}usage_in_bytes")),
            max: num(d, &format!("{p}max_usage_in_bytes")),
            failcnt: num(d, &format!("{p}failcnt")),
        };
        s.memory.usage = entry("memory.");
        s.memory.swap = entry("memory.memsw.");
        s.memory.kernel = entry("memory.kmem.");
        s.memory.kernel_tcp = entry("memory.kmem.tcp.");
        s.memory.raw = keyed(d, "memory.stat");
        s.memory.cache = s.memory.raw.get("cache").copied().unwrap_or(0);
    }
    if let Some(d) = l.v1_dir("pids") {
        s.pids = Pids {
            current: num(d, "pids.current"),
            limit: limit_or_zero(num(d, "pids.max")),
        };
    }
    if let Some(d) = l.v1_dir("blkio") {
        let f = |name: &str| read(d, name).map(|t| blkio_v1(&t)).filter(|v| !v.is_empty());
        s.blkio.io_service_bytes_recursive = f("blkio.io_service_bytes_recursive")
            .or_else(|| f("blkio.throttle.io_service_bytes_recursive"))
            .unwrap_or_default();
        s.blkio.io_serviced_recursive = f("blkio.io_serviced_recursive")
            .or_else(|| f("blkio.throttle.io_serviced_recursive"))
            .unwrap_or_default();
    }
    if let Some(d) = l.v1_dir("hugetlb") {
        for size in page_sizes() {
            s.hugetlb.insert(
                size.clone(),
                Hugetlb {
                    usage: num(d, &format!("hugetlb.{size}.usage_in_bytes")),
                    max: num(d, &format!("hugetlb.{size}.max_usage_in_bytes")),
                    failcnt: num(d, &format!("hugetlb.{size}.failcnt")),
                },
            );
        }
    }
}

fn limit_or_zero(v: u64) -> u64 {
    if v == u64::MAX {
        0
    } else {
        v
    }
}

/// `8:0 Read 4096` lines (the `Total` line has no device and is skipped).
fn blkio_v1(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let v: Vec<&str> = l.split_whitespace().collect();
            if v.len() != 3 {
                return None;
            }
            let (ma, mi) = v[0].split_once(':')?;
            Some(BlkioEntry {
                major: ma.parse().ok()?,
                minor: mi.parse().ok()?,
                op: v[1].to_string(),
                value: v[2].parse().ok()?,
            })
        })
        .collect()
}

fn v2(d: &Path, s: &mut Stats) {
    let cpu = keyed(d, "cpu.stat");
    let g = |k: &str| cpu.get(k).copied().unwrap_or(0);
    s.cpu.usage.total = g("usage_usec") * 1000;
    s.cpu.usage.user = g("user_usec") * 1000;
    s.cpu.usage.kernel = g("system_usec") * 1000;
    s.cpu.throttling = Throttling {
        periods: g("nr_periods"),
        throttled_periods: g("nr_throttled"),
        throttled_time: g("throttled_usec") * 1000,
    };
    let events = keyed(d, "memory.events");
    s.memory.usage = MemoryEntry {
        limit: num(d, "memory.max"),
        usage: num(d, "memory.current"),
        max: num(d, "memory.peak"),
        failcnt: events.get("max").copied().unwrap_or(0),
    };
    s.memory.swap = MemoryEntry {
        limit: num(d, "memory.swap.max"),
        usage: num(d, "memory.swap.current"),
        max: num(d, "memory.swap.peak"),
        failcnt: keyed(d, "memory.swap.events").get("max").copied().unwrap_or(0),
    };
    s.memory.raw = keyed(d, "memory.stat");
    s.memory.cache = s.memory.raw.get("file").copied().unwrap_or(0);
    s.pids = Pids {
        current: num(d, "pids.current"),
        limit: limit_or_zero(num(d, "pids.max")),
    };
    for line in read(d, "io.stat").unwrap_or_default().lines() {
        let mut it = line.split_whitespace();
        let Some((ma, mi)) = it.next().and_then(|dev| dev.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (ma.parse(), mi.parse()) else {
            continue;
        };
        for kv in it {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let value = v.parse().unwrap_or(0);
            let (list, op) = match k {
                "rbytes" => (&mut s.blkio.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut s.blkio.io_service_bytes_recursive, "Write"),
                "rios" => (&mut s.blkio.io_serviced_recursive, "Read"),
                "wios" => (&mut s.blkio.io_serviced_recursive, "Write"),
                _ => continue,
            };
            list.push(BlkioEntry {
                major,
                minor,
                op: op.into(),
                value,
            });
        }
    }
    hugetlb_v2(d, s);
}

fn hugetlb_v2(d: &Path, s: &mut Stats) {
    for size in page_sizes() {
        if !d.join(format!("hugetlb.{size}.current")).exists() {
            continue;
        }
        s.hugetlb.insert(
            size.clone(),
            Hugetlb {
                usage: num(d, &format!("hugetlb.{size}.current")),
                max: num(d, &format!("hugetlb.{size}.max")),
                failcnt: keyed(d, &format!("hugetlb.{size}.events"))
                    .get("max")
                    .copied()
                    .unwrap_or(0),
            },
        );
    }
}

/// The host's huge page sizes in the cgroup file naming (`2MB`, `1GB`).
pub fn page_sizes() -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir("/sys/kernel/mm/hugepages") {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(kb) = n.strip_prefix("hugepages-").and_then(|s| s.strip_suffix("kB")) {
                if let Ok(kb) = kb.parse::<u64>() {
                    out.push(size_name(kb * 1024));
                }
            }
        }
    }
    out.sort();
    out
}

fn size_name(bytes: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes;
    let mut i = 0;
    while v >= 1024 && v % 1024 == 0 && i + 1 < units.len() {
        v /= 1024;
        i += 1;
    }
    format!("{v}{}", units[i])
}

/// How many times the kernel's OOM killer has killed a task in the cgroup (v1
/// `memory.oom_control`, v2 `memory.events`), or `None` without a memory controller.
pub fn oom_kills(l: &Layout) -> Option<u64> {
    if l.pure_v2 {
        let d = l.v2_dir()?;
        return read(d, "memory.events").map(|t| flat_keyed(&t).get("oom_kill").copied().unwrap_or(0));
    }
    let d = l.v1_dir("memory")?;
    read(d, "memory.oom_control").map(|t| flat_keyed(&t).get("oom_kill").copied().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        assert_eq!(size_name(2 * 1024 * 1024), "2MB");
        assert_eq!(size_name(1024 * 1024 * 1024), "1GB");
        let e = blkio_v1("8:0 Read 10\n8:0 Write 5\nTotal 15\n");
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].op, "Write");
        let k = flat_keyed("oom 1\noom_kill 2\nmax max\n");
        assert_eq!(k["oom_kill"], 2);
        assert_eq!(k["max"], u64::MAX);
    }

    #[test]
    fn json_shape() {
        let v = serde_json::to_value(Stats::default()).unwrap();
        for k in ["cpu", "memory", "pids", "blkio", "hugetlb", "network_interfaces"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert!(v["cpu"]["throttling"].get("throttledPeriods").is_some());
        assert!(v["memory"].get("kernelTCP").is_some());
        assert!(v["blkio"].get("ioServiceBytesRecursive").is_some());
    }
}
