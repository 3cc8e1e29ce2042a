//! Device access rules: the v1 `devices.allow`/`devices.deny` lines and, for cgroup v2, an
//! eBPF `BPF_PROG_TYPE_CGROUP_DEVICE` program with the same meaning, assembled here.
//!
//! Semantics are those of the v1 controller (kernel `security/device_cgroup.c`), which runc
//! reproduces on v2 with an emulator: a cgroup has a default (allow or deny) and a list of
//! exceptions. An `a` rule sets the default and clears the list; a rule against the default
//! adds its access bits to the exception with the same type and numbers, a rule along the
//! default removes them (it does not add a negative entry). With a deny default, a request
//! is allowed when one exception covers the device and every access asked for; with an
//! allow default, it is denied when one exception matches the device and any access asked.
//! [`emulate`] computes that state and [`bpf_program`] compiles it.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use crate::sys::bpf::Insn;

/// One device rule, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    pub allow: bool,
    /// 'a' (all), 'c' or 'b'.
    pub kind: char,
    /// `None` is the wildcard `*`.
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// A subset of "rwm".
    pub access: String,
}

impl DeviceRule {
    pub fn allow(kind: char, major: Option<u32>, minor: Option<u32>, access: &str) -> Self {
        DeviceRule {
            allow: true,
            kind,
            major,
            minor,
            access: access.to_string(),
        }
    }

    /// From a `linux.resources.devices` entry (absent type = all, absent access = rwm, a
    /// negative number = wildcard).
    pub fn from_spec(d: &LinuxDeviceCgroup) -> Self {
        let kind = match d.typ() {
            None | Some(LinuxDeviceType::A) => 'a',
            Some(LinuxDeviceType::B) => 'b',
            Some(_) => 'c',
        };
        let num = |v: Option<i64>| v.filter(|n| *n >= 0).map(|n| n as u32);
        DeviceRule {
            allow: d.allow(),
            kind,
            major: num(d.major()),
            minor: num(d.minor()),
            access: d
                .access()
                .clone()
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "rwm".into()),
        }
    }

    /// The v1 `devices.allow`/`devices.deny` line.
    pub fn v1_line(&self) -> String {
        if self.kind == 'a' && self.major.is_none() && self.minor.is_none() {
            return "a".into();
        }
        let n = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_else(|| "*".into());
        format!("{} {}:{} {}", self.kind, n(self.major), n(self.minor), self.access)
    }

    fn access_bits(&self) -> i32 {
        let mut b = 0;
        for c in self.access.chars() {
            b |= match c {
                'm' => ACC_MKNOD,
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                _ => 0,
            };
        }
        b
    }
}

/// runc's default device allow-list (`m` for all, the standard character devices, ptys, tun).
pub fn default_allowed() -> Vec<DeviceRule> {
    vec![
        DeviceRule::allow('c', None, None, "m"),
        DeviceRule::allow('b', None, None, "m"),
        DeviceRule::allow('c', Some(1), Some(3), "rwm"),
        DeviceRule::allow('c', Some(1), Some(8), "rwm"),
        DeviceRule::allow('c', Some(1), Some(7), "rwm"),
        DeviceRule::allow('c', Some(5), Some(0), "rwm"),
        DeviceRule::allow('c', Some(1), Some(5), "rwm"),
        DeviceRule::allow('c', Some(1), Some(9), "rwm"),
        DeviceRule::allow('c', Some(136), None, "rwm"),
        DeviceRule::allow('c', Some(5), Some(2), "rwm"),
        DeviceRule::allow('c', Some(10), Some(200), "rwm"),
    ]
}

// struct bpf_cgroup_dev_ctx { u32 access_type /* access << 16 | type */; u32 major; u32 minor; }
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

// Opcodes (class | op | source).
const LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const MOV32_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const AND32_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RSH32_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const MOV64_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const JNE32_K: u8 = 0x56; // BPF_JMP32 | BPF_JNE | BPF_K
const JEQ32_K: u8 = 0x16; // BPF_JMP32 | BPF_JEQ | BPF_K
const JSET32_K: u8 = 0x46; // BPF_JMP32 | BPF_JSET | BPF_K
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The device cgroup state that `rules` (applied in order to a new cgroup) leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emulated {
    pub default_allow: bool,
    /// (kind, major, minor, access bits).
    pub exceptions: Vec<(char, Option<u32>, Option<u32>, i32)>,
}

/// Apply `rules` as the v1 controller would, starting from allow-all (a cgroup below the
/// root, whose list is "a *:* rwm").
pub fn emulate(rules: &[DeviceRule]) -> Emulated {
    let mut st = Emulated {
        default_allow: true,
        exceptions: Vec::new(),
    };
    for r in rules {
        if r.kind == 'a' {
            st.default_allow = r.allow;
            st.exceptions.clear();
            continue;
        }
        let bits = r.access_bits();
        let pos = st
            .exceptions
            .iter()
            .position(|e| e.0 == r.kind && e.1 == r.major && e.2 == r.minor);
        if r.allow != st.default_allow {
            match pos {
                Some(i) => st.exceptions[i].3 |= bits,
                None => st.exceptions.push((r.kind, r.major, r.minor, bits)),
            }
        } else if let Some(i) = pos {
            st.exceptions[i].3 &= !bits;
            if st.exceptions[i].3 == 0 {
                st.exceptions.remove(i);
            }
        }
    }
    st
}

/// Assemble the device filter for `rules` (in configuration order).
///
/// Registers after the prologue: r2 = device type, r3 = requested access bits, r4 = major,
/// r5 = minor; r1 is scratch. Each exception is a block of conditional jumps to the next
/// block, ending in `r0 = verdict; exit`; after the last block, the default.
pub fn bpf_program(rules: &[DeviceRule]) -> Vec<Insn> {
    let st = emulate(rules);
    let mut p = vec![
        insn(LDX_W, 2, 1, 0, 0),
        insn(MOV32_X, 3, 2, 0, 0),
        insn(AND32_K, 2, 0, 0, 0xffff),
        insn(RSH32_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0),
        insn(LDX_W, 5, 1, 8, 0),
    ];
    for &(kind, major, minor, acc) in &st.exceptions {
        // Jumps are recorded with off = -1 and patched to the end of the block.
        let mut block: Vec<Insn> = Vec::new();
        block.push(insn(JNE32_K, 2, 0, -1, if kind == 'b' { DEV_BLOCK } else { DEV_CHAR }));
        if st.default_allow {
            // A deny exception matches when any access asked for is in it.
            block.push(insn(MOV32_X, 1, 3, 0, 0));
            block.push(insn(AND32_K, 1, 0, 0, acc));
            block.push(insn(JEQ32_K, 1, 0, -1, 0));
        } else {
            // An allow exception matches when it grants every access asked for.
            let missing = !acc & 7;
            if missing != 0 {
                block.push(insn(JSET32_K, 3, 0, -1, missing));
            }
        }
        if let Some(m) = major {
            block.push(insn(JNE32_K, 4, 0, -1, m as i32));
        }
        if let Some(m) = minor {
            block.push(insn(JNE32_K, 5, 0, -1, m as i32));
        }
        block.push(insn(MOV64_K, 0, 0, 0, i32::from(!st.default_allow)));
        block.push(insn(EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.off == -1 {
                ins.off = (len - i - 1) as i16;
            }
        }
        p.extend(block);
    }
    p.push(insn(MOV64_K, 0, 0, 0, i32::from(st.default_allow)));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

/// Whether `rules` allow an access (`kind` 'c' or 'b', `access` a subset of "rwm"), by the
/// kernel's rules on the emulated state; the unit tests check the program against it.
pub fn allows(rules: &[DeviceRule], kind: char, major: u32, minor: u32, access: &str) -> bool {
    let want = DeviceRule::allow(kind, None, None, access).access_bits();
    let st = emulate(rules);
    let hit = |e: &&(char, Option<u32>, Option<u32>, i32)| {
        e.0 == kind && e.1.is_none_or(|m| m == major) && e.2.is_none_or(|m| m == minor)
    };
    if st.default_allow {
        !st.exceptions.iter().filter(hit).any(|e| want & e.3 != 0)
    } else {
        st.exceptions.iter().filter(hit).any(|e| want & !e.3 == 0)
    }
}

/// Interpret a generated program for one request (a tiny eBPF interpreter for the opcodes
/// above), so unit tests check the bytes, not only the model.
#[cfg(test)]
fn run(prog: &[Insn], typ: i32, access: i32, major: u32, minor: u32) -> u64 {
    let ctx = [((access << 16) | typ) as u32, major, minor];
    let mut reg = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let i = prog[pc];
        let (d, s) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
        pc += 1;
        let imm = i.imm as u32 as u64;
        let jump = |cond: bool, pc: &mut usize| {
            if cond {
                *pc = (*pc as i64 + i.off as i64) as usize;
            }
        };
        let dv = reg[d] as u32 as u64;
        match i.code {
            LDX_W => reg[d] = ctx[(i.off / 4) as usize] as u64,
            MOV32_X => reg[d] = reg[s] as u32 as u64,
            AND32_K => reg[d] = dv & imm,
            RSH32_K => reg[d] = dv >> imm,
            MOV64_K => reg[d] = i.imm as i64 as u64,
            JNE32_K => jump(dv != imm, &mut pc),
            JEQ32_K => jump(dv == imm, &mut pc),
            JSET32_K => jump(dv & imm != 0, &mut pc),
            EXIT => return reg[0],
            c => panic!("unknown opcode {c:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deny_all() -> DeviceRule {
        DeviceRule {
            allow: false,
            kind: 'a',
            major: None,
            minor: None,
            access: "rwm".into(),
        }
    }

    fn check_same(rules: &[DeviceRule]) {
        let prog = bpf_program(rules);
        for (kind, typ) in [('c', DEV_CHAR), ('b', DEV_BLOCK)] {
            for (major, minor) in [(1, 3), (1, 5), (5, 2), (136, 4), (8, 0), (10, 200), (10, 229)] {
                for (acc, bits) in [("r", 2), ("w", 4), ("m", 1), ("rw", 6), ("rwm", 7)] {
                    let model = allows(rules, kind, major, minor, acc);
                    let got = run(&prog, typ, bits, major, minor) == 1;
                    assert_eq!(model, got, "{kind} {major}:{minor} {acc} with {rules:?}");
                }
            }
        }
    }

    #[test]
    fn default_list_semantics() {
        let mut rules = vec![deny_all()];
        rules.extend(default_allowed());
        assert!(allows(&rules, 'c', 1, 3, "rw"));
        assert!(allows(&rules, 'b', 8, 0, "m"));
        assert!(!allows(&rules, 'b', 8, 0, "r"));
        assert!(allows(&rules, 'c', 136, 7, "rw"));
        check_same(&rules);
    }

    #[test]
    fn later_rule_overrides() {
        let mut rules = vec![deny_all()];
        rules.extend(default_allowed());
        rules.push(DeviceRule {
            allow: false,
            kind: 'c',
            major: Some(1),
            minor: Some(3),
            access: "w".into(),
        });
        assert!(!allows(&rules, 'c', 1, 3, "rw"));
        assert!(allows(&rules, 'c', 1, 3, "r"));
        check_same(&rules);
        // A deny rule removes an exception; it does not shadow a wider one ("c *:* m").
        let mut rules = vec![deny_all()];
        rules.extend(default_allowed());
        rules.push(DeviceRule {
            allow: false,
            kind: 'c',
            major: Some(1),
            minor: Some(3),
            access: "rwm".into(),
        });
        assert!(allows(&rules, 'c', 1, 3, "m"));
        assert!(!allows(&rules, 'c', 1, 3, "r"));
        check_same(&rules);
        // Allow-all default with deny exceptions.
        let rules = vec![
            DeviceRule::allow('a', None, None, "rwm"),
            DeviceRule {
                allow: false,
                kind: 'b',
                major: Some(8),
                minor: None,
                access: "w".into(),
            },
        ];
        assert!(!allows(&rules, 'b', 8, 0, "rw"));
        assert!(allows(&rules, 'b', 8, 0, "r"));
        assert!(allows(&rules, 'c', 1, 3, "rwm"));
        check_same(&rules);
        let all = vec![DeviceRule::allow('a', None, None, "rwm")];
        assert_eq!(bpf_program(&all).len(), 8);
        check_same(&all);
        check_same(&[]);
    }

    /// The kernel's verifier accepts the generated programs (needs root: CAP_BPF).
    #[test]
    fn kernel_verifier_accepts_programs() {
        if !nix::unistd::geteuid().is_root() {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "needs root under CI");
            eprintln!("SKIP: kernel_verifier_accepts_programs needs root");
            return;
        }
        let mut rules = vec![deny_all()];
        rules.extend(default_allowed());
        rules.push(DeviceRule {
            allow: false,
            kind: 'c',
            major: Some(1),
            minor: Some(3),
            access: "rw".into(),
        });
        for set in [rules, vec![], vec![DeviceRule::allow('a', None, None, "rwm")]] {
            if let Err((e, log)) = crate::sys::bpf::load_device_prog(&bpf_program(&set)) {
                panic!("BPF_PROG_LOAD: {e}: {log}");
            }
        }
    }

    #[test]
    fn v1_lines() {
        assert_eq!(deny_all().v1_line(), "a");
        assert_eq!(default_allowed()[8].v1_line(), "c 136:* rwm");
    }
}
