//! `linux.resources` written to the cgroup files: the v1 controllers (hybrid hosts included)
//! and cgroup v2, with runc's conversions of v1 values to v2 files. Only fields that are set
//! are written, so the same code serves `create` and `update` (absent fields keep their
//! current value).

use std::fs;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

use super::devices::{self, DeviceRule};
use super::Hierarchy;
use crate::error::{Error, Result};

/// Which directory holds which controller for one container.
#[derive(Debug, Clone)]
pub struct Layout {
    v1: Vec<(Hierarchy, PathBuf)>,
    v2: Option<PathBuf>,
    /// No v1 controller is mounted: everything goes to the cgroup2 directory.
    pub pure_v2: bool,
}

impl Layout {
    pub fn new(hs: &[Hierarchy], dirs: &[PathBuf]) -> Layout {
        let v1: Vec<(Hierarchy, PathBuf)> = hs
            .iter()
            .zip(dirs)
            .filter(|(h, _)| !h.v2)
            .map(|(h, d)| (h.clone(), d.clone()))
            .collect();
        let v2 = hs.iter().zip(dirs).find(|(h, _)| h.v2).map(|(_, d)| d.clone());
        let pure_v2 = v2.is_some()
            && v1
                .iter()
                .all(|(h, _)| h.controllers.iter().all(|c| c.starts_with("name=")));
        Layout { v1, v2, pure_v2 }
    }

    /// The layout of an existing container's cgroup directories (matched to the mounted
    /// hierarchies by their mount point).
    pub fn of(dirs: &[PathBuf]) -> Result<Layout> {
        let hs = super::hierarchies()?;
        let mut hv = Vec::new();
        let mut dv = Vec::new();
        for d in dirs {
            if let Some(h) = hs
                .iter()
                .filter(|h| d.starts_with(&h.mountpoint))
                .max_by_key(|h| h.mountpoint.as_os_str().len())
            {
                hv.push(h.clone());
                dv.push(d.clone());
            }
        }
        Ok(Layout::new(&hv, &dv))
    }

    /// The directory of v1 controller `ctrl`, if mounted.
    pub fn v1_dir(&self, ctrl: &str) -> Option<&Path> {
        self.v1.iter().find(|(h, _)| h.has(ctrl)).map(|(_, d)| d.as_path())
    }

    /// The cgroup2 directory.
    pub fn v2_dir(&self) -> Option<&Path> {
        self.v2.as_deref()
    }

    /// Where `field` goes: the v1 controller's directory, or the v2 directory on a pure v2
    /// host; a clear error otherwise.
    fn target(&self, field: &str, ctrl: &str) -> Result<Target<'_>> {
        if self.pure_v2 {
            return Ok(Target::V2(self.v2.as_deref().expect("pure v2 has a v2 dir")));
        }
        self.v1_dir(ctrl).map(Target::V1).ok_or_else(|| {
            Error::NotSupported(format!(
                "linux.resources.{field}: the {ctrl} cgroup controller is not mounted on this host"
            ))
        })
    }
}

enum Target<'a> {
    V1(&'a Path),
    V2(&'a Path),
}

pub(crate) fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    let p = dir.join(file);
    write_existing(&p, value).map_err(|e| Error::io("writing cgroup file", &p, e))
}

/// Write a cgroup file that must exist (never create one: a missing file is a missing
/// controller or kernel feature, reported as such).
fn write_existing(p: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(p)?
        .write_all(value.as_bytes())
}

fn read_u64(dir: &Path, file: &str) -> Option<u64> {
    fs::read_to_string(dir.join(file)).ok()?.trim().parse().ok()
}

fn not_v2(field: &str) -> Error {
    Error::NotSupported(format!("linux.resources.{field} on cgroup v2"))
}

/// Apply `r` to a container's cgroups. `devices` is the complete rule list (configured rules,
/// then the default allow-list and the configured device nodes); `None` leaves device access
/// as it is (`update`).
pub fn apply(l: &Layout, r: &LinuxResources, devices: Option<&[DeviceRule]>) -> Result<()> {
    if let Some(rules) = devices {
        apply_devices(l, rules)?;
    }
    if let Some(m) = r.memory() {
        memory(l, m)?;
    }
    if let Some(c) = r.cpu() {
        cpu(l, c)?;
    }
    if let Some(p) = r.pids() {
        if p.limit() != 0 {
            let v = if p.limit() > 0 {
                p.limit().to_string()
            } else {
                "max".into()
            };
            match l.target("pids", "pids")? {
                Target::V1(d) | Target::V2(d) => write(d, "pids.max", &v)?,
            }
        }
    }
    if let Some(b) = r.block_io() {
        block_io(l, b)?;
    }
    if let Some(h) = r.hugepage_limits().as_deref().filter(|h| !h.is_empty()) {
        hugetlb(l, h)?;
    }
    if let Some(n) = r.network() {
        if l.pure_v2 && (n.class_id().is_some() || n.priorities().as_ref().is_some_and(|p| !p.is_empty())) {
            return Err(not_v2("network (net_cls/net_prio are cgroup v1 controllers)"));
        }
        if let Some(id) = n.class_id() {
            let Target::V1(d) = l.target("network.classID", "net_cls")? else {
                unreachable!()
            };
            write(d, "net_cls.classid", &id.to_string())?;
        }
        for p in n.priorities().as_deref().unwrap_or(&[]) {
            let Target::V1(d) = l.target("network.priorities", "net_prio")? else {
                unreachable!()
            };
            write(d, "net_prio.ifpriomap", &format!("{} {}", p.name(), p.priority()))?;
        }
    }
    if let Some(rd) = r.rdma().as_ref().filter(|m| !m.is_empty()) {
        let (Target::V1(d) | Target::V2(d)) = l.target("rdma", "rdma")?;
        let mut devs: Vec<_> = rd.iter().collect();
        devs.sort_by(|a, b| a.0.cmp(b.0));
        for (dev, lim) in devs {
            let mut line = dev.clone();
            if let Some(h) = lim.hca_handles() {
                line.push_str(&format!(" hca_handle={h}"));
            }
            if let Some(o) = lim.hca_objects() {
                line.push_str(&format!(" hca_object={o}"));
            }
            write(d, "rdma.max", &line)?;
        }
    }
    if let Some(u) = r.unified().as_ref().filter(|m| !m.is_empty()) {
        let d = l.v2_dir().ok_or_else(|| {
            Error::NotSupported("linux.resources.unified: this host has no cgroup v2 hierarchy".into())
        })?;
        let mut keys: Vec<_> = u.iter().collect();
        keys.sort();
        for (k, v) in keys {
            let p = d.join(k);
            write_existing(&p, v).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Error::NotSupported(format!(
                        "linux.resources.unified.{k}: {} does not exist (is the controller enabled for this cgroup?)",
                        p.display()
                    ))
                } else {
                    Error::io("writing cgroup file", &p, e)
                }
            })?;
        }
    }
    Ok(())
}

fn apply_devices(l: &Layout, rules: &[DeviceRule]) -> Result<()> {
    if let Some(d) = l.v1_dir("devices") {
        for rule in rules {
            let file = if rule.allow { "devices.allow" } else { "devices.deny" };
            write(d, file, &rule.v1_line())?;
        }
        return Ok(());
    }
    if l.pure_v2 {
        let d = l.v2_dir().expect("pure v2 has a v2 dir");
        let prog = devices::bpf_program(rules);
        let fd = crate::sys::bpf::load_device_prog(&prog)
            .map_err(|(e, log)| Error::sys(format!("loading the cgroup v2 device filter (BPF_PROG_LOAD): {log}"), e))?;
        let dir = fs::File::open(d).map_err(|e| Error::io("opening cgroup", d, e))?;
        return crate::sys::bpf::attach_device_prog(dir.as_fd(), fd.as_fd()).map_err(|e| {
            Error::sys(
                format!("attaching the device filter to {} (BPF_PROG_ATTACH)", d.display()),
                e,
            )
        });
    }
    Err(Error::NotSupported(
        "linux.resources.devices: no devices cgroup controller is mounted on this host".into(),
    ))
}

/// runc's conversion of `memory.swap` (memory+swap, v1 semantics) to `memory.swap.max`.
pub fn swap_to_v2(swap: i64, limit: i64) -> std::result::Result<i64, &'static str> {
    if limit == -1 && swap == 0 {
        return Ok(-1);
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if limit == 0 || limit == -1 {
        return Err("unable to set swap limit without memory limit");
    }
    if limit < 0 {
        return Err("invalid memory value");
    }
    if swap < limit {
        return Err("memory+swap limit should be >= memory limit");
    }
    Ok(swap - limit)
}

fn max_or(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

fn memory(l: &Layout, m: &LinuxMemory) -> Result<()> {
    let t = l.target("memory", "memory")?;
    match t {
        Target::V1(d) => {
            let limit = m.limit().unwrap_or(0);
            let mut swap = m.swap().unwrap_or(0);
            let has_memsw = d.join("memory.memsw.limit_in_bytes").exists();
            // runc: unlimited memory without an explicit swap value means unlimited swap too.
            if limit == -1 && swap == 0 && has_memsw {
                swap = -1;
            }
            let set_limit = |v: i64| {
                write(d, "memory.limit_in_bytes", &v.to_string()).map_err(|e| match &e {
                    Error::Io { source, path, .. } if source.raw_os_error() == Some(libc::EINVAL) && has_memsw => {
                        Error::InvalidArgument(format!(
                            "writing {v} to {}: the memory limit cannot exceed the memory+swap limit ({} in memory.memsw.limit_in_bytes): set the swap limit too",
                            path.display(),
                            read_u64(d, "memory.memsw.limit_in_bytes").unwrap_or(0)
                        ))
                    }
                    Error::Io { source, path, .. } if source.raw_os_error() == Some(libc::EBUSY) => {
                        Error::InvalidArgument(format!(
                            "writing {v} to {}: the container uses more memory ({} bytes) than the new limit",
                            path.display(),
                            read_u64(d, "memory.usage_in_bytes").unwrap_or(0)
                        ))
                    }
                    _ => e,
                })
            };
            let set_swap = |v: i64| write(d, "memory.memsw.limit_in_bytes", &v.to_string());
            // The kernel wants memory <= memory+swap at every moment: raise swap first when
            // the new swap is above the current memory limit.
            if limit != 0 && swap != 0 {
                let cur = read_u64(d, "memory.limit_in_bytes").unwrap_or(u64::MAX);
                if swap == -1 || cur < swap as u64 {
                    set_swap(swap)?;
                    set_limit(limit)?;
                } else {
                    set_limit(limit)?;
                    set_swap(swap)?;
                }
            } else {
                if limit != 0 {
                    set_limit(limit)?;
                }
                if swap != 0 {
                    set_swap(swap)?;
                }
            }
            if let Some(v) = m.reservation().filter(|v| *v != 0) {
                write(d, "memory.soft_limit_in_bytes", &v.to_string())?;
            }
            if let Some(v) = m.kernel().filter(|v| *v != 0) {
                write(d, "memory.kmem.limit_in_bytes", &v.to_string())?;
            }
            if let Some(v) = m.kernel_tcp().filter(|v| *v != 0) {
                write(d, "memory.kmem.tcp.limit_in_bytes", &v.to_string())?;
            }
            if let Some(s) = m.swappiness() {
                write(d, "memory.swappiness", &s.to_string())?;
            }
            if m.disable_oom_killer() == Some(true) {
                write(d, "memory.oom_control", "1")?;
            }
            if let Some(h) = m.use_hierarchy() {
                // Always 1 on recent kernels; writing it is refused there (EINVAL) for 0.
                let cur = read_u64(d, "memory.use_hierarchy");
                if cur != Some(u64::from(h)) {
                    write(d, "memory.use_hierarchy", if h { "1" } else { "0" })?;
                }
            }
        }
        Target::V2(d) => {
            if m.kernel().is_some_and(|v| v != 0) {
                return Err(not_v2("memory.kernel"));
            }
            if m.kernel_tcp().is_some_and(|v| v != 0) {
                return Err(not_v2("memory.kernelTCP"));
            }
            if m.swappiness().is_some() {
                return Err(not_v2("memory.swappiness"));
            }
            if m.disable_oom_killer() == Some(true) {
                return Err(not_v2("memory.disableOOMKiller"));
            }
            if m.use_hierarchy() == Some(false) {
                return Err(not_v2("memory.useHierarchy=false (cgroup v2 is always hierarchical)"));
            }
            let limit = m.limit().unwrap_or(0);
            if let Some(swap) = m.swap() {
                let v = swap_to_v2(swap, limit)
                    .map_err(|e| Error::InvalidArgument(format!("linux.resources.memory.swap: {e}")))?;
                if v != 0 {
                    // Raising memory.max over a lower swap is fine in v2: the files are independent.
                    write(d, "memory.swap.max", &max_or(v))?;
                }
            }
            if limit != 0 {
                write(d, "memory.max", &max_or(limit))?;
            }
            if let Some(v) = m.reservation().filter(|v| *v != 0) {
                write(d, "memory.low", &max_or(v))?;
            }
        }
    }
    Ok(())
}

/// runc's conversion of cpu shares [2, 262144] to cpu.weight [1, 10000].
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + ((shares.clamp(2, 262144) - 2) * 9999) / 262142
}

/// runc's conversion of blkio weight [10, 1000] to io.weight [1, 10000].
pub fn blkio_weight_to_io(w: u64) -> u64 {
    if w == 0 {
        return 0;
    }
    1 + (w.clamp(10, 1000) - 10) * 9999 / 990
}

fn cpu(l: &Layout, c: &LinuxCpu) -> Result<()> {
    let has_cpu = c.shares().is_some()
        || c.quota().is_some()
        || c.period().is_some()
        || c.burst().is_some()
        || c.idle().is_some()
        || c.realtime_period().is_some()
        || c.realtime_runtime().is_some();
    if has_cpu {
        match l.target("cpu", "cpu")? {
            Target::V1(d) => {
                // Runtime before period when the period shrinks is runc's order too.
                if let Some(p) = c.realtime_period().filter(|p| *p != 0) {
                    write(d, "cpu.rt_period_us", &p.to_string())?;
                }
                if let Some(r) = c.realtime_runtime().filter(|r| *r != 0) {
                    write(d, "cpu.rt_runtime_us", &r.to_string())?;
                }
                if let Some(s) = c.shares().filter(|s| *s != 0) {
                    write(d, "cpu.shares", &s.to_string())?;
                }
                if let Some(p) = c.period().filter(|p| *p != 0) {
                    write(d, "cpu.cfs_period_us", &p.to_string())?;
                }
                if let Some(q) = c.quota().filter(|q| *q != 0) {
                    write(d, "cpu.cfs_quota_us", &q.to_string())?;
                }
                if let Some(b) = c.burst() {
                    write(d, "cpu.cfs_burst_us", &b.to_string())?;
                }
                if let Some(i) = c.idle() {
                    write(d, "cpu.idle", &i.to_string())?;
                }
            }
            Target::V2(d) => {
                if c.realtime_period().is_some_and(|v| v != 0) || c.realtime_runtime().is_some_and(|v| v != 0) {
                    return Err(not_v2("cpu.realtimePeriod/realtimeRuntime"));
                }
                if let Some(s) = c.shares().filter(|s| *s != 0) {
                    write(d, "cpu.weight", &shares_to_weight(s).to_string())?;
                }
                let quota = c.quota().unwrap_or(0);
                let period = c.period().unwrap_or(0);
                if quota != 0 || period != 0 {
                    let mut v = if quota > 0 { quota.to_string() } else { "max".into() };
                    if period != 0 {
                        v.push_str(&format!(" {period}"));
                    }
                    write(d, "cpu.max", &v)?;
                }
                if let Some(b) = c.burst() {
                    write(d, "cpu.max.burst", &b.to_string())?;
                }
                if let Some(i) = c.idle() {
                    write(d, "cpu.idle", &i.to_string())?;
                }
            }
        }
    }
    let cpus = c.cpus().as_deref().filter(|s| !s.is_empty());
    let mems = c.mems().as_deref().filter(|s| !s.is_empty());
    if cpus.is_some() || mems.is_some() {
        let (Target::V1(d) | Target::V2(d)) = l.target("cpu.cpus", "cpuset")?;
        if let Some(v) = cpus {
            write(d, "cpuset.cpus", v)?;
        }
        if let Some(v) = mems {
            write(d, "cpuset.mems", v)?;
        }
    }
    Ok(())
}

fn block_io(l: &Layout, b: &LinuxBlockIo) -> Result<()> {
    let throttles = [
        ("blkio.throttle.read_bps_device", "rbps", b.throttle_read_bps_device()),
        ("blkio.throttle.write_bps_device", "wbps", b.throttle_write_bps_device()),
        (
            "blkio.throttle.read_iops_device",
            "riops",
            b.throttle_read_iops_device(),
        ),
        (
            "blkio.throttle.write_iops_device",
            "wiops",
            b.throttle_write_iops_device(),
        ),
    ];
    let wd = b.weight_device().as_deref().unwrap_or(&[]);
    let anything = b.weight().is_some()
        || b.leaf_weight().is_some()
        || !wd.is_empty()
        || throttles.iter().any(|t| t.2.as_ref().is_some_and(|v| !v.is_empty()));
    if !anything {
        return Ok(());
    }
    match l.target("blockIO", "blkio")? {
        Target::V1(d) => {
            let bfq = !d.join("blkio.weight").exists() && d.join("blkio.bfq.weight").exists();
            let (wfile, wdfile) = if bfq {
                ("blkio.bfq.weight", "blkio.bfq.weight_device")
            } else {
                ("blkio.weight", "blkio.weight_device")
            };
            if let Some(w) = b.weight().filter(|w| *w != 0) {
                write(d, wfile, &w.to_string())?;
            }
            if let Some(w) = b.leaf_weight().filter(|w| *w != 0) {
                write(d, "blkio.leaf_weight", &w.to_string())?;
            }
            for dev in wd {
                if let Some(w) = dev.weight() {
                    write(d, wdfile, &format!("{}:{} {w}", dev.major(), dev.minor()))?;
                }
                if let Some(w) = dev.leaf_weight() {
                    write(
                        d,
                        "blkio.leaf_weight_device",
                        &format!("{}:{} {w}", dev.major(), dev.minor()),
                    )?;
                }
            }
            for (file, _, list) in &throttles {
                for t in list.as_deref().unwrap_or(&[]) {
                    write(d, file, &format!("{}:{} {}", t.major(), t.minor(), t.rate()))?;
                }
            }
        }
        Target::V2(d) => {
            if b.leaf_weight().is_some_and(|w| w != 0) || wd.iter().any(|w| w.leaf_weight().is_some()) {
                return Err(not_v2("blockIO.leafWeight"));
            }
            let bfq = d.join("io.bfq.weight").exists();
            if let Some(w) = b.weight().filter(|w| *w != 0) {
                if bfq {
                    write(d, "io.bfq.weight", &w.to_string())?;
                } else {
                    write(d, "io.weight", &blkio_weight_to_io(u64::from(w)).to_string())?;
                }
            }
            for dev in wd {
                if let Some(w) = dev.weight() {
                    if bfq {
                        write(d, "io.bfq.weight", &format!("{}:{} {w}", dev.major(), dev.minor()))?;
                    } else {
                        let v = blkio_weight_to_io(u64::from(w));
                        write(d, "io.weight", &format!("{}:{} {v}", dev.major(), dev.minor()))?;
                    }
                }
            }
            for (_, key, list) in &throttles {
                for t in list.as_deref().unwrap_or(&[]) {
                    let rate = if t.rate() == 0 {
                        "max".to_string()
                    } else {
                        t.rate().to_string()
                    };
                    write(d, "io.max", &format!("{}:{} {key}={rate}", t.major(), t.minor()))?;
                }
            }
        }
    }
    Ok(())
}

fn hugetlb(l: &Layout, limits: &[oci_spec::runtime::LinuxHugepageLimit]) -> Result<()> {
    // v1 hugetlb controller if mounted, else the cgroup2 directory (on hybrid hosts such as
    // this project's test machines, hugetlb is the one controller cgroup2 owns).
    if let Some(d) = l.v1_dir("hugetlb") {
        for h in limits {
            write(
                d,
                &format!("hugetlb.{}.limit_in_bytes", h.page_size()),
                &h.limit().to_string(),
            )?;
        }
        return Ok(());
    }
    let d = l.v2_dir().ok_or_else(|| {
        Error::NotSupported("linux.resources.hugepageLimits: no hugetlb cgroup controller on this host".into())
    })?;
    for h in limits {
        let file = format!("hugetlb.{}.max", h.page_size());
        let p = d.join(&file);
        if !p.exists() {
            return Err(Error::NotSupported(format!(
                "linux.resources.hugepageLimits: {} does not exist: the hugetlb controller is not enabled for this cgroup (cgroup.subtree_control of its parents)",
                p.display()
            )));
        }
        write(d, &file, &h.limit().to_string())?;
        let rsvd = format!("hugetlb.{}.rsvd.max", h.page_size());
        if d.join(&rsvd).exists() {
            write(d, &rsvd, &h.limit().to_string())?;
        }
    }
    Ok(())
}

/// Fill, for `update`, the values that a new request depends on from the previous ones:
/// quota/period (one without the other keeps the old value) and memory limit/swap (the v2
/// swap file is derived from both).
pub fn merge_for_update(prev: Option<&LinuxResources>, new: &LinuxResources) -> LinuxResources {
    let mut eff = new.clone();
    let Some(prev) = prev else { return eff };
    if let (Some(nc), Some(pc)) = (new.cpu(), prev.cpu()) {
        let mut c = nc.clone();
        if c.quota().is_some() && c.period().is_none() {
            c.set_period(pc.period());
        }
        if c.period().is_some() && c.quota().is_none() {
            c.set_quota(pc.quota());
        }
        eff.set_cpu(Some(c));
    }
    if let (Some(nm), Some(pm)) = (new.memory(), prev.memory()) {
        let mut m = *nm;
        if m.swap().is_some() && m.limit().is_none() {
            m.set_limit(pm.limit());
        }
        // memory.swap.max is derived from both values: recompute it for a new limit alone.
        if m.limit().is_some() && m.swap().is_none() && pm.swap().is_some_and(|s| s > 0) {
            m.set_swap(pm.swap());
        }
        eff.set_memory(Some(m));
    }
    eff
}

/// The resources after an update: `prev` with every field set in `new` replaced.
pub fn merged(prev: Option<&LinuxResources>, new: &LinuxResources) -> LinuxResources {
    let mut out = prev.cloned().unwrap_or_default();
    if let Some(n) = new.memory() {
        let mut m = out.memory().unwrap_or_default();
        macro_rules! take {
            ($get:ident, $set:ident) => {
                if n.$get().is_some() {
                    m.$set(n.$get());
                }
            };
        }
        take!(limit, set_limit);
        take!(reservation, set_reservation);
        take!(swap, set_swap);
        take!(kernel, set_kernel);
        take!(kernel_tcp, set_kernel_tcp);
        take!(swappiness, set_swappiness);
        take!(disable_oom_killer, set_disable_oom_killer);
        take!(use_hierarchy, set_use_hierarchy);
        take!(check_before_update, set_check_before_update);
        out.set_memory(Some(m));
    }
    if let Some(n) = new.cpu() {
        let mut c = out.cpu().clone().unwrap_or_default();
        macro_rules! take {
            ($get:ident, $set:ident) => {
                if n.$get().is_some() {
                    c.$set(n.$get());
                }
            };
        }
        take!(shares, set_shares);
        take!(quota, set_quota);
        take!(period, set_period);
        take!(burst, set_burst);
        take!(idle, set_idle);
        take!(realtime_runtime, set_realtime_runtime);
        take!(realtime_period, set_realtime_period);
        if n.cpus().is_some() {
            c.set_cpus(n.cpus().clone());
        }
        if n.mems().is_some() {
            c.set_mems(n.mems().clone());
        }
        out.set_cpu(Some(c));
    }
    if new.pids().is_some() {
        out.set_pids(*new.pids());
    }
    if new.block_io().is_some() {
        out.set_block_io(new.block_io().clone());
    }
    if new.hugepage_limits().is_some() {
        out.set_hugepage_limits(new.hugepage_limits().clone());
    }
    if new.network().is_some() {
        out.set_network(new.network().clone());
    }
    if new.rdma().is_some() {
        out.set_rdma(new.rdma().clone());
    }
    if let Some(u) = new.unified() {
        let mut all = out.unified().clone().unwrap_or_default();
        all.extend(u.clone());
        out.set_unified(Some(all));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_runc() {
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262144), 10000);
        assert_eq!(shares_to_weight(0), 0);
        assert_eq!(blkio_weight_to_io(10), 1);
        assert_eq!(blkio_weight_to_io(500), 4950);
        assert_eq!(blkio_weight_to_io(1000), 10000);
        assert_eq!(swap_to_v2(0, -1), Ok(-1));
        assert_eq!(swap_to_v2(-1, 100), Ok(-1));
        assert_eq!(swap_to_v2(300, 100), Ok(200));
        assert!(swap_to_v2(50, 100).is_err());
        assert!(swap_to_v2(50, 0).is_err());
    }

    #[test]
    fn layout_kinds() {
        let hs = super::super::parse_mountinfo("31 30 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
        let l = Layout::new(&hs, &[PathBuf::from("/sys/fs/cgroup/x")]);
        assert!(l.pure_v2);
        let hybrid = super::super::parse_mountinfo(
            "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n35 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
        );
        let l = Layout::new(&hybrid, &[PathBuf::from("/u/x"), PathBuf::from("/m/x")]);
        assert!(!l.pure_v2);
        assert_eq!(l.v1_dir("memory"), Some(Path::new("/m/x")));
        assert!(l.target("pids", "pids").is_err());
    }

    #[test]
    fn update_merging() {
        let prev: LinuxResources = serde_json::from_str(
            r#"{"memory":{"limit":100,"swap":200},"cpu":{"quota":20000,"period":100000},"pids":{"limit":20}}"#,
        )
        .unwrap();
        let new: LinuxResources = serde_json::from_str(r#"{"cpu":{"quota":50000},"memory":{"swap":400}}"#).unwrap();
        let eff = merge_for_update(Some(&prev), &new);
        assert_eq!(eff.cpu().as_ref().unwrap().period(), Some(100000));
        assert_eq!(eff.memory().unwrap().limit(), Some(100));
        let limit_only: LinuxResources = serde_json::from_str(r#"{"memory":{"limit":150}}"#).unwrap();
        assert_eq!(
            merge_for_update(Some(&prev), &limit_only).memory().unwrap().swap(),
            Some(200)
        );
        let all = merged(Some(&prev), &new);
        assert_eq!(all.pids().unwrap().limit(), 20);
        assert_eq!(all.cpu().as_ref().unwrap().quota(), Some(50000));
        assert_eq!(all.memory().unwrap().swap(), Some(400));
    }
}

/// docker's `RAMInBytes` (what runc's `update --memory` accepts): a number with an optional
/// binary unit `b`, `k`, `m`, `g`, `t`, `p` (and an optional trailing `b`, any case); `-1` is
/// unlimited.
pub fn parse_memory(v: &str) -> std::result::Result<i64, String> {
    if v.trim() == "-1" {
        return Ok(-1);
    }
    let s = v.trim().to_ascii_lowercase();
    let num_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (n, unit) = s.split_at(num_end);
    let n: f64 = n.parse().map_err(|_| format!("invalid size: {v:?}"))?;
    let mult: f64 = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024f64.powi(4),
        "p" | "pb" | "pib" => 1024f64.powi(5),
        _ => return Err(format!("invalid size: {v:?}")),
    };
    Ok((n * mult) as i64)
}

/// runc's individual `update` flags (name without dashes, value) as a resources object; the
/// names are those of runc's `update.go`. `kernel-memory*` are accepted and ignored, as runc
/// does; the Intel RDT schemata are not supported.
pub fn from_update_flags(flags: &[(&str, &str)]) -> Result<LinuxResources> {
    use serde_json::{json, Map, Value};
    let mut mem = Map::new();
    let mut cpu = Map::new();
    let mut out = Map::new();
    for (name, v) in flags {
        let bad = |what: &str| Error::InvalidArgument(format!("invalid value for --{name}: {v:?} ({what})"));
        let int = || v.trim().parse::<i64>().map_err(|_| bad("not an integer"));
        let uint = || v.trim().parse::<u64>().map_err(|_| bad("not a non-negative integer"));
        let memv = || parse_memory(v).map_err(|e| bad(&e));
        match *name {
            "memory" => {
                mem.insert("limit".into(), json!(memv()?));
            }
            "memory-reservation" => {
                mem.insert("reservation".into(), json!(memv()?));
            }
            "memory-swap" => {
                mem.insert("swap".into(), json!(memv()?));
            }
            "kernel-memory" | "kernel-memory-tcp" => {}
            "cpu-period" => {
                cpu.insert("period".into(), json!(uint()?));
            }
            "cpu-quota" => {
                cpu.insert("quota".into(), json!(int()?));
            }
            "cpu-burst" => {
                cpu.insert("burst".into(), json!(uint()?));
            }
            "cpu-share" => {
                cpu.insert("shares".into(), json!(uint()?));
            }
            "cpu-rt-period" => {
                cpu.insert("realtimePeriod".into(), json!(uint()?));
            }
            "cpu-rt-runtime" => {
                cpu.insert("realtimeRuntime".into(), json!(int()?));
            }
            "cpu-idle" => {
                cpu.insert("idle".into(), json!(int()?));
            }
            "cpuset-cpus" => {
                cpu.insert("cpus".into(), json!(v));
            }
            "cpuset-mems" => {
                cpu.insert("mems".into(), json!(v));
            }
            "pids-limit" => {
                out.insert("pids".into(), json!({"limit": int()?}));
            }
            "blkio-weight" => {
                let w = uint()?;
                if w > u64::from(u16::MAX) {
                    return Err(bad("out of range"));
                }
                out.insert("blockIO".into(), json!({"weight": w}));
            }
            "l3-cache-schema" | "mem-bw-schema" => {
                return Err(Error::NotSupported(format!("--{name} (Intel RDT)")));
            }
            other => return Err(Error::InvalidArgument(format!("unknown update flag --{other}"))),
        }
    }
    if !mem.is_empty() {
        out.insert("memory".into(), Value::Object(mem));
    }
    if !cpu.is_empty() {
        out.insert("cpu".into(), Value::Object(cpu));
    }
    serde_json::from_value(Value::Object(out)).map_err(|e| Error::InvalidArgument(format!("update flags: {e}")))
}

#[cfg(test)]
mod flag_tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("512m"), Ok(512 << 20));
        assert_eq!(parse_memory("1G"), Ok(1 << 30));
        assert_eq!(parse_memory("100"), Ok(100));
        assert_eq!(parse_memory("-1"), Ok(-1));
        assert_eq!(parse_memory("64MiB"), Ok(64 << 20));
        assert!(parse_memory("x").is_err());
    }

    #[test]
    fn flags() {
        let r = from_update_flags(&[("memory", "64m"), ("cpu-quota", "-1"), ("pids-limit", "5")]).unwrap();
        assert_eq!(r.memory().unwrap().limit(), Some(64 << 20));
        assert_eq!(r.cpu().as_ref().unwrap().quota(), Some(-1));
        assert_eq!(r.pids().unwrap().limit(), 5);
        assert!(from_update_flags(&[("cpu-period", "-5")]).is_err());
        assert!(from_update_flags(&[("l3-cache-schema", "x")]).is_err());
    }
}

#[cfg(test)]
mod v2_files {
    use super::*;

    /// The v2 files written for a v1-style configuration, in a fake cgroup directory.
    #[test]
    fn writes_converted_values() {
        let dir = std::env::temp_dir().join(format!("rc-cg-v2-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for f in [
            "memory.max",
            "memory.swap.max",
            "memory.low",
            "cpu.weight",
            "cpu.max",
            "cpu.max.burst",
            "cpuset.cpus",
            "pids.max",
            "io.weight",
            "io.max",
            "hugetlb.2MB.max",
            "rdma.max",
            "memory.high",
        ] {
            fs::write(dir.join(f), "").unwrap();
        }
        let hs = vec![Hierarchy {
            mountpoint: PathBuf::from("/"),
            controllers: vec![],
            v2: true,
        }];
        let l = Layout::new(&hs, std::slice::from_ref(&dir));
        let r: LinuxResources = serde_json::from_str(
            r#"{"memory":{"limit":1000,"swap":3000,"reservation":500},
                "cpu":{"shares":1024,"quota":20000,"period":100000,"burst":5000,"cpus":"0-1"},
                "pids":{"limit":-1},
                "blockIO":{"weight":500,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}]},
                "hugepageLimits":[{"pageSize":"2MB","limit":4194304}],
                "rdma":{"mlx4_0":{"hcaHandles":2,"hcaObjects":2000}},
                "unified":{"memory.high":"900"}}"#,
        )
        .unwrap();
        apply(&l, &r, None).unwrap();
        let read = |f: &str| fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("memory.max"), "1000");
        assert_eq!(read("memory.swap.max"), "2000");
        assert_eq!(read("memory.low"), "500");
        assert_eq!(read("cpu.weight"), "39");
        assert_eq!(read("cpu.max"), "20000 100000");
        assert_eq!(read("cpu.max.burst"), "5000");
        assert_eq!(read("cpuset.cpus"), "0-1");
        assert_eq!(read("pids.max"), "max");
        assert_eq!(read("io.weight"), "4950");
        assert_eq!(read("io.max"), "8:0 rbps=1048576");
        assert_eq!(read("hugetlb.2MB.max"), "4194304");
        assert_eq!(read("rdma.max"), "mlx4_0 hca_handle=2 hca_object=2000");
        assert_eq!(read("memory.high"), "900");
        // v1-only fields are refused on v2, naming the field.
        let bad: LinuxResources = serde_json::from_str(r#"{"memory":{"swappiness":10}}"#).unwrap();
        let e = apply(&l, &bad, None).unwrap_err().to_string();
        assert!(e.contains("memory.swappiness"), "{e}");
        let bad: LinuxResources = serde_json::from_str(r#"{"network":{"classID":1}}"#).unwrap();
        assert!(apply(&l, &bad, None).is_err());
        // A file the kernel does not have is an error naming it.
        let bad: LinuxResources = serde_json::from_str(r#"{"unified":{"nope.max":"1"}}"#).unwrap();
        let e = apply(&l, &bad, None).unwrap_err().to_string();
        assert!(e.contains("nope.max"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
