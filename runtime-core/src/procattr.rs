//! Process attributes applied by the init (and `exec`) right before the credentials change:
//! `process.ioPriority` (ioprio_set(2)), `process.scheduler` (sched_setattr(2)),
//! `linux.personality` (personality(2)) and `linux.memoryPolicy` (set_mempolicy(2)).
//! This module turns the spec's values into the kernel's, validating them the way the
//! runtime-spec (`config.md`, `config-linux.md`) describes; the calls are in `sys`.

use oci_spec::runtime::{
    IOPriorityClass, LinuxIOPriority, LinuxMemoryPolicy, LinuxPersonality, LinuxPersonalityDomain, LinuxSchedulerFlag,
    LinuxSchedulerPolicy, MemoryPolicyFlagType, MemoryPolicyModeType, Scheduler,
};

/// `struct sched_attr` (SCHED_ATTR_SIZE_VER0, 48 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedAttr {
    pub size: u32,
    pub policy: u32,
    pub flags: u64,
    pub nice: i32,
    pub priority: u32,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
}

/// A memory policy for set_mempolicy(2): mode with its flags, and the node mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemPolicy {
    pub mode: i32,
    pub nodemask: Vec<u64>,
    /// `maxnode` for the call: the number of bits of `nodemask` the kernel reads, plus one.
    pub maxnode: u64,
}

/// The `ioprio` value: class in the top bits, level 0-7 below.
pub fn io_priority(p: &LinuxIOPriority) -> Result<u32, String> {
    let class = match p.class() {
        IOPriorityClass::IoprioClassRt => 1u32,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    let level = p.priority();
    if !(0..=7).contains(&level) {
        return Err(format!("priority {level} is out of range 0-7"));
    }
    Ok((class << 13) | level as u32)
}

/// The sched_attr for `process.scheduler`.
pub fn sched_attr(s: &Scheduler) -> Result<SchedAttr, String> {
    use LinuxSchedulerPolicy as P;
    let policy = match s.policy() {
        P::SchedOther => libc::SCHED_OTHER,
        P::SchedFifo => libc::SCHED_FIFO,
        P::SchedRr => libc::SCHED_RR,
        P::SchedBatch => libc::SCHED_BATCH,
        P::SchedIso => return Err("policy SCHED_ISO is not implemented by Linux".into()),
        P::SchedIdle => libc::SCHED_IDLE,
        P::SchedDeadline => 6, // SCHED_DEADLINE
    } as u32;
    let nice = s.nice().unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        return Err(format!("nice {nice} is out of range -20..19"));
    }
    if nice != 0 && !matches!(s.policy(), P::SchedOther | P::SchedBatch) {
        return Err("nice is only meaningful with SCHED_OTHER or SCHED_BATCH".into());
    }
    let priority = s.priority().unwrap_or(0);
    match s.policy() {
        P::SchedFifo | P::SchedRr if !(1..=99).contains(&priority) => {
            return Err(format!(
                "priority {priority} is out of range 1..99 for a real-time policy"
            ))
        }
        P::SchedFifo | P::SchedRr => {}
        _ if priority != 0 => return Err("priority must be 0 for a non-real-time policy".into()),
        _ => {}
    }
    let mut flags = 0u64;
    for f in s.flags().as_deref().unwrap_or(&[]) {
        flags |= match f {
            LinuxSchedulerFlag::SchedResetOnFork => 0x01,
            LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
            LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
            LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
            LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
            LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
            LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
        };
    }
    let (runtime, deadline, period) = (
        s.runtime().unwrap_or(0),
        s.deadline().unwrap_or(0),
        s.period().unwrap_or(0),
    );
    if *s.policy() == P::SchedDeadline {
        if runtime == 0 || deadline == 0 {
            return Err("SCHED_DEADLINE needs runtime and deadline".into());
        }
        let period_or_deadline = if period == 0 { deadline } else { period };
        if runtime > deadline || deadline > period_or_deadline {
            return Err("SCHED_DEADLINE needs runtime <= deadline <= period".into());
        }
    }
    Ok(SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy,
        flags,
        nice,
        priority: priority as u32,
        runtime,
        deadline,
        period,
    })
}

/// The persona for personality(2). The spec defines no flags yet, so any flag is an error.
pub fn personality(p: &LinuxPersonality) -> Result<u64, String> {
    if let Some(f) = p.flags().as_deref().and_then(|f| f.first()) {
        return Err(format!("flag {f:?} is not supported (the runtime-spec defines none)"));
    }
    Ok(match p.domain() {
        LinuxPersonalityDomain::PerLinux => 0x0000,
        LinuxPersonalityDomain::PerLinux32 => 0x0008,
    })
}

/// The memory policy for set_mempolicy(2).
pub fn mem_policy(m: &LinuxMemoryPolicy) -> Result<MemPolicy, String> {
    use MemoryPolicyModeType as M;
    let mode = match m.mode() {
        M::MpolDefault => 0,
        M::MpolPreferred => 1,
        M::MpolBind => 2,
        M::MpolInterleave => 3,
        M::MpolLocal => 4,
        M::MpolPreferredMany => 5,
        M::MpolWeightedInterleave => 6,
    };
    let nodes = parse_nodes(m.nodes().as_deref().unwrap_or(""))?;
    match m.mode() {
        M::MpolDefault | M::MpolLocal if !nodes.is_empty() => {
            return Err(format!("nodes must be empty for {}", m.mode()))
        }
        M::MpolBind | M::MpolInterleave | M::MpolPreferredMany | M::MpolWeightedInterleave if nodes.is_empty() => {
            return Err(format!("{} needs nodes", m.mode()))
        }
        _ => {}
    }
    let mut flags = 0i32;
    for f in m.flags().as_deref().unwrap_or(&[]) {
        flags |= match f {
            MemoryPolicyFlagType::MpolFStaticNodes => 1 << 15,
            MemoryPolicyFlagType::MpolFRelativeNodes => 1 << 14,
            MemoryPolicyFlagType::MpolFNumaBalancing => 1 << 13,
        };
    }
    let max = nodes.iter().copied().max();
    let words = max.map_or(0, |n| n as usize / 64 + 1);
    let mut nodemask = vec![0u64; words];
    for n in &nodes {
        nodemask[*n as usize / 64] |= 1 << (n % 64);
    }
    Ok(MemPolicy {
        mode: mode | flags,
        maxnode: max.map_or(0, |n| u64::from(n) + 2),
        nodemask,
    })
}

/// A node list such as `0-3,7` (at most 1024 nodes, the kernel's MAX_NUMNODES bound).
fn parse_nodes(s: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num = |t: &str| -> Result<u32, String> {
            let n: u32 = t.trim().parse().map_err(|_| format!("invalid node {t:?} in {s:?}"))?;
            if n >= 1024 {
                return Err(format!("node {n} is out of range"));
            }
            Ok(n)
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("invalid node range {part:?}"));
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("valid json")
    }

    #[test]
    fn io_priority_encodes_class_and_level() {
        let p: LinuxIOPriority = from(json!({"class": "IOPRIO_CLASS_IDLE", "priority": 7}));
        assert_eq!(io_priority(&p), Ok((3 << 13) | 7));
        let p: LinuxIOPriority = from(json!({"class": "IOPRIO_CLASS_RT", "priority": 8}));
        assert!(io_priority(&p).is_err());
    }

    #[test]
    fn scheduler_validation() {
        let s: Scheduler = from(json!({"policy": "SCHED_BATCH", "nice": 5}));
        let a = sched_attr(&s).unwrap();
        assert_eq!((a.policy, a.nice, a.size), (3, 5, 48));
        let s: Scheduler = from(json!({"policy": "SCHED_FIFO", "priority": 0}));
        assert!(sched_attr(&s).is_err());
        let s: Scheduler = from(json!({"policy": "SCHED_RR", "priority": 10, "flags": ["SCHED_RESET_ON_FORK"]}));
        assert_eq!(sched_attr(&s).unwrap().flags, 1);
        let s: Scheduler = from(json!({"policy": "SCHED_DEADLINE", "runtime": 20, "deadline": 10}));
        assert!(sched_attr(&s).is_err());
        let s: Scheduler = from(json!({"policy": "SCHED_IDLE", "nice": 3}));
        assert!(sched_attr(&s).is_err());
    }

    #[test]
    fn personality_domains_and_flags() {
        let p: LinuxPersonality = from(json!({"domain": "LINUX32"}));
        assert_eq!(personality(&p), Ok(8));
        let p: LinuxPersonality = from(json!({"domain": "LINUX", "flags": ["X"]}));
        assert!(personality(&p).is_err());
    }

    #[test]
    fn mem_policy_nodes_and_flags() {
        let m: LinuxMemoryPolicy =
            from(json!({"mode": "MPOL_BIND", "nodes": "0-2,65", "flags": ["MPOL_F_STATIC_NODES"]}));
        let p = mem_policy(&m).unwrap();
        assert_eq!(p.mode, 2 | 1 << 15);
        assert_eq!(p.nodemask, vec![0b111, 0b10]);
        assert_eq!(p.maxnode, 67);
        let m: LinuxMemoryPolicy = from(json!({"mode": "MPOL_DEFAULT"}));
        assert_eq!(mem_policy(&m).unwrap().maxnode, 0);
        let m: LinuxMemoryPolicy = from(json!({"mode": "MPOL_INTERLEAVE"}));
        assert!(mem_policy(&m).is_err());
        let m: LinuxMemoryPolicy = from(json!({"mode": "MPOL_BIND", "nodes": "3-1"}));
        assert!(mem_policy(&m).is_err());
        let m: LinuxMemoryPolicy = from(json!({"mode": "MPOL_LOCAL", "nodes": "0"}));
        assert!(mem_policy(&m).is_err());
    }
}
