//! The seccomp filter of `linux.seccomp`: compiled to BPF with libseccomp in the parent,
//! installed by the container's init right before execve.
//!
//! Decide before fork: [`SeccompProgram::compile`] makes every decision (runc's semantics)
//! and exports the BPF bytes; [`SeccompProgram::load`] is one seccomp(2) call that neither
//! allocates nor calls libseccomp, so it is safe in the child of a multi-threaded parent.

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::OwnedFd;

use libseccomp::error::SeccompError as LibseccompError;
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use nix::errno::Errno;
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag, LinuxSeccompOperator, LinuxSyscall,
};

use crate::sys::seccomp::{seccomp_set_mode_filter, BPF_INSN_LEN, BPF_MAXINSNS};

/// Number of syscall arguments a condition can name (`args[].index` is 0..=5).
const SYSCALL_MAX_ARGS: usize = 6;

const FLAG_TSYNC: u32 = libc::SECCOMP_FILTER_FLAG_TSYNC as u32;
const FLAG_LOG: u32 = libc::SECCOMP_FILTER_FLAG_LOG as u32;
const FLAG_SPEC_ALLOW: u32 = libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW as u32;
const FLAG_NEW_LISTENER: u32 = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32;
const FLAG_TSYNC_ESRCH: u32 = libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH as u32;
const FLAG_WAIT_KILLABLE_RECV: u32 = libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV as u32;

/// Why `linux.seccomp` could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action")]
    NotifyAsDefault,
    // runc's rule: the init reports the listener to the parent with write(2) after loading
    // the filter, so notifying `write` would hang the container's creation.
    #[error("linux.seccomp.syscalls[{index}]: SCMP_ACT_NOTIFY cannot be used for the write syscall")]
    NotifyOnWrite { index: usize },
    #[error("linux.seccomp.{field}: {value} is out of range (at most 65535)")]
    ReturnCodeOutOfRange { field: String, value: u32 },
    #[error(
        "linux.seccomp.syscalls[{index}].args[{arg}]: index {arg_index} is out of range \
         (a syscall has {SYSCALL_MAX_ARGS} arguments)"
    )]
    ArgIndexOutOfRange { index: usize, arg: usize, arg_index: usize },
    #[error("creating the seccomp filter (default action {action:?})")]
    Init {
        action: ScmpAction,
        #[source]
        source: LibseccompError,
    },
    #[error("linux.seccomp.architectures: adding {arch}")]
    AddArch {
        arch: Arch,
        #[source]
        source: LibseccompError,
    },
    #[error("linux.seccomp.syscalls[{index}]: adding the rule for syscall {name}")]
    AddRule {
        index: usize,
        name: String,
        #[source]
        source: LibseccompError,
    },
    #[error("preparing a memfd to export the seccomp BPF program into")]
    ExportBuffer(#[source] std::io::Error),
    #[error("exporting the seccomp BPF program")]
    Export(#[source] LibseccompError),
    #[error("the exported seccomp BPF program is {bytes} bytes, not a whole number of instructions")]
    BadExport { bytes: usize },
    #[error(
        "the seccomp BPF program has {instructions} instructions; the kernel accepts at most \
         {BPF_MAXINSNS}"
    )]
    TooLong { instructions: usize },
}

/// Where the notification fd of a filter with SCMP_ACT_NOTIFY rules goes: the unix socket
/// at `linux.seccomp.listenerPath`, with `listenerMetadata` in the state sent along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub path: std::path::PathBuf,
    pub metadata: String,
}

/// The runtime-spec's container process state, sent with the fd to the listener.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerProcessState<'a> {
    oci_version: &'a str,
    fds: [&'a str; 1],
    pid: i32,
    metadata: &'a str,
    state: serde_json::Value,
}

/// Send the notification fd of process `pid` to the seccomp agent listening at
/// `listener.path`, as runc does: connect a stream socket, then one `sendmsg` whose payload
/// is the container process state (runtime spec, "Container Process State") and whose
/// SCM_RIGHTS carries the fd named `seccompFd` in `fds`. `state` is the container's state
/// JSON.
pub fn send_to_listener(
    listener: &Listener,
    pid: i32,
    state: &[u8],
    fd: std::os::fd::BorrowedFd<'_>,
) -> crate::error::Result<()> {
    use crate::error::Error;
    let state: serde_json::Value = serde_json::from_slice(state)
        .map_err(|e| Error::InvalidArgument(format!("container state is not JSON: {e}")))?;
    let msg = serde_json::to_vec(&ContainerProcessState {
        oci_version: crate::OCI_VERSION,
        fds: ["seccompFd"],
        pid,
        metadata: &listener.metadata,
        state,
    })
    .map_err(|e| Error::InvalidArgument(format!("container process state: {e}")))?;
    let conn = std::os::unix::net::UnixStream::connect(&listener.path)
        .map_err(|e| Error::io("connecting to the seccomp listener", &listener.path, e))?;
    crate::sys::send_fd(std::os::fd::AsFd::as_fd(&conn), fd, &msg).map_err(|e| {
        Error::io(
            "sending the seccomp notify fd to",
            &listener.path,
            std::io::Error::from(e),
        )
    })
}

/// A seccomp filter ready to install: BPF bytes plus the seccomp(2) flags to install them
/// with. Built in the parent; loaded in the child.
#[derive(Clone, PartialEq, Eq)]
pub struct SeccompProgram {
    /// `struct sock_filter` array as written by `seccomp_export_bpf(3)`.
    bpf: Vec<u8>,
    /// `SECCOMP_FILTER_FLAG_*` for seccomp(2).
    flags: u32,
    /// Whether the spec uses SCMP_ACT_NOTIFY, i.e. the load asks for a listener
    /// (`SECCOMP_FILTER_FLAG_NEW_LISTENER`).
    notify: bool,
    /// Syscall names libseccomp does not know, skipped as runc does.
    unknown: Vec<String>,
}

impl fmt::Debug for SeccompProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeccompProgram")
            .field("instructions", &self.instructions())
            .field("flags", &format_args!("{:#x}", self.flags))
            .field("notify", &self.notify)
            .field("unknown", &self.unknown)
            .finish()
    }
}

impl SeccompProgram {
    /// Compile `linux.seccomp` with runc's semantics: defaultAction/defaultErrnoRet, extra
    /// architectures, filter flags, and one libseccomp rule per syscall name (split per
    /// argument when an argument index repeats). Unknown syscall names are skipped and listed
    /// in [`unknown_syscalls`](Self::unknown_syscalls) for the caller to log at debug level.
    pub fn compile(s: &LinuxSeccomp) -> Result<Self, SeccompError> {
        if s.default_action() == LinuxSeccompAction::ScmpActNotify {
            return Err(SeccompError::NotifyAsDefault);
        }
        let default = action(s.default_action(), s.default_errno_ret(), || {
            "defaultErrnoRet".to_string()
        })?;
        let mut ctx = ScmpFilterContext::new(default).map_err(|source| SeccompError::Init {
            action: default,
            source,
        })?;
        add_architectures(&mut ctx, s.architectures().as_deref().unwrap_or_default())?;

        let syscalls = s.syscalls().as_deref().unwrap_or_default();
        let mut unknown = Vec::new();
        for (index, rule) in syscalls.iter().enumerate() {
            add_syscall_rule(&mut ctx, default, index, rule, &mut unknown)?;
        }

        // As runc: a listener is requested whenever the spec uses NOTIFY, even if all its
        // names were unknown, so that a configured seccomp agent always gets its fd.
        let notify = syscalls.iter().any(|r| r.action() == LinuxSeccompAction::ScmpActNotify);
        let flags = filter_flags(s.flags().as_deref().unwrap_or_default(), notify);
        let bpf = export(&ctx)?;
        Ok(SeccompProgram {
            bpf,
            flags,
            notify,
            unknown,
        })
    }

    /// Install the filter on the calling thread with seccomp(2). Called by the container's
    /// init right before execve, after `no_new_privs`; it neither allocates nor calls
    /// libseccomp. Returns the notification listener when the spec uses SCMP_ACT_NOTIFY.
    pub fn load(&self) -> Result<Option<OwnedFd>, Errno> {
        match seccomp_set_mode_filter(&self.bpf, self.flags) {
            // WAIT_KILLABLE_RECV needs Linux 5.19; older kernels reject unknown flags with
            // EINVAL, and the flag only changes how a notified task waits, so do without.
            Err(Errno::EINVAL) if self.flags & FLAG_WAIT_KILLABLE_RECV != 0 => {
                seccomp_set_mode_filter(&self.bpf, self.flags & !FLAG_WAIT_KILLABLE_RECV)
            }
            r => r,
        }
    }

    /// The BPF program: `struct sock_filter` entries in native byte order.
    pub fn bpf(&self) -> &[u8] {
        &self.bpf
    }

    /// Number of BPF instructions.
    pub fn instructions(&self) -> usize {
        self.bpf.len() / BPF_INSN_LEN
    }

    /// The `SECCOMP_FILTER_FLAG_*` bits [`load`](Self::load) passes to seccomp(2).
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Whether [`load`](Self::load) returns a notification listener.
    pub fn notify(&self) -> bool {
        self.notify
    }

    /// Syscall names that libseccomp does not know (for example newer than libseccomp
    /// itself), skipped without error as runc does; in spec order, without duplicates.
    pub fn unknown_syscalls(&self) -> &[String] {
        &self.unknown
    }
}

/// The libseccomp action for an OCI action. ERRNO and TRACE take `errno_ret` as their
/// return code / message number, EPERM when absent (runc).
fn action(
    act: LinuxSeccompAction,
    errno_ret: Option<u32>,
    field: impl FnOnce() -> String,
) -> Result<ScmpAction, SeccompError> {
    let ret = || -> Result<u16, SeccompError> {
        let value = errno_ret.unwrap_or(libc::EPERM as u32);
        u16::try_from(value).map_err(|_| SeccompError::ReturnCodeOutOfRange { field: field(), value })
    };
    Ok(match act {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => ScmpAction::KillThread,
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(i32::from(ret()?)),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(ret()?),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActNotify => ScmpAction::Notify,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
    })
}

/// Add `architectures` to the filter (the native one is always present), so that syscalls
/// made through another ABI (x86 or x32 on x86_64) are matched by name too rather than
/// killed as a bad architecture.
fn add_architectures(ctx: &mut ScmpFilterContext, arches: &[Arch]) -> Result<(), SeccompError> {
    for &arch in arches {
        ctx.add_arch(scmp_arch(arch))
            .map_err(|source| SeccompError::AddArch { arch, source })?;
    }
    Ok(())
}

fn scmp_arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

/// Add `linux.seccomp.syscalls[index]`: one rule per known name, skipped entirely when its
/// action equals the default action (libseccomp refuses such rules, and they are no-ops).
fn add_syscall_rule(
    ctx: &mut ScmpFilterContext,
    default: ScmpAction,
    index: usize,
    rule: &LinuxSyscall,
    unknown: &mut Vec<String>,
) -> Result<(), SeccompError> {
    let act = action(rule.action(), rule.errno_ret(), || {
        format!("syscalls[{index}].errnoRet")
    })?;
    if act == ScmpAction::Notify && rule.names().iter().any(|n| n == "write") {
        return Err(SeccompError::NotifyOnWrite { index });
    }
    let conditions = conditions(index, rule.args().as_deref().unwrap_or_default())?;
    if act == default {
        return Ok(());
    }
    for name in rule.names() {
        // Names libseccomp cannot resolve are syscalls this libseccomp (or any arch) does
        // not know; runc skips them so that one profile serves old and new hosts.
        let Ok(nr) = ScmpSyscall::from_name(name) else {
            if !unknown.contains(name) {
                unknown.push(name.clone());
            }
            continue;
        };
        let added = match &conditions {
            Conditions::All(all) => ctx.add_rule_conditional(act, nr, all).map(drop),
            Conditions::EachAlone(each) => each
                .iter()
                .try_for_each(|c| ctx.add_rule_conditional(act, nr, &[*c]).map(drop)),
        };
        added.map_err(|source| SeccompError::AddRule {
            index,
            name: name.clone(),
            source,
        })?;
    }
    Ok(())
}

/// How the conditions of one syscall entry become libseccomp rules.
enum Conditions {
    /// One rule matching when all conditions hold (no argument index repeats; also the
    /// unconditional rule when empty).
    All(Vec<ScmpArgCompare>),
    /// One rule per condition, matching when any holds: runc's behaviour when an argument
    /// index repeats, since libseccomp allows one comparison per argument in a rule.
    EachAlone(Vec<ScmpArgCompare>),
}

fn conditions(index: usize, args: &[LinuxSeccompArg]) -> Result<Conditions, SeccompError> {
    let mut seen = [0usize; SYSCALL_MAX_ARGS];
    let mut out = Vec::with_capacity(args.len());
    for (arg, a) in args.iter().enumerate() {
        let arg_index = a.index();
        let count = seen
            .get_mut(arg_index)
            .ok_or(SeccompError::ArgIndexOutOfRange { index, arg, arg_index })?;
        *count += 1;
        out.push(condition(a));
    }
    Ok(if seen.iter().any(|&n| n > 1) {
        Conditions::EachAlone(out)
    } else {
        Conditions::All(out)
    })
}

/// One argument comparison; the index was checked by the caller. For MASKED_EQ, `value` is
/// the mask and `valueTwo` the value compared with the masked argument (runc, libseccomp).
fn condition(a: &LinuxSeccompArg) -> ScmpArgCompare {
    let (op, datum) = match a.op() {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, a.value()),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, a.value()),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, a.value()),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, a.value()),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, a.value()),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, a.value()),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (ScmpCompareOp::MaskedEqual(a.value()), a.value_two().unwrap_or(0)),
    };
    // `index` < SYSCALL_MAX_ARGS, checked by `conditions`.
    ScmpArgCompare::new(a.index() as u32, op, datum)
}

/// The seccomp(2) flags for `linux.seccomp.flags`. These are arguments of seccomp(2), not
/// part of the BPF, so they are computed here rather than set as libseccomp attributes
/// (libseccomp 2.5 also has no attribute for WAIT_KILLABLE_RECV).
fn filter_flags(requested: &[LinuxSeccompFilterFlag], notify: bool) -> u32 {
    let mut flags = if notify { FLAG_NEW_LISTENER } else { 0 };
    for flag in requested {
        flags |= match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => FLAG_SPEC_ALLOW,
            // The kernel refuses TSYNC with NEW_LISTENER unless TSYNC_ESRCH (Linux 5.7)
            // says how a thread that cannot sync is reported.
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync if notify => FLAG_TSYNC | FLAG_TSYNC_ESRCH,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => FLAG_TSYNC,
            // Meaningless (and EINVAL) without a listener.
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv if notify => FLAG_WAIT_KILLABLE_RECV,
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => 0,
        };
    }
    flags
}

/// Export the filter as BPF bytes through a memfd (libseccomp 2.5 has no in-memory export).
fn export(ctx: &ScmpFilterContext) -> Result<Vec<u8>, SeccompError> {
    let fd = nix::sys::memfd::memfd_create(c"seccomp-bpf", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
        .map_err(|e| SeccompError::ExportBuffer(e.into()))?;
    let mut file = std::fs::File::from(fd);
    ctx.export_bpf(&file).map_err(SeccompError::Export)?;
    let mut bpf = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bpf))
        .map_err(SeccompError::ExportBuffer)?;
    if bpf.is_empty() || bpf.len() % BPF_INSN_LEN != 0 {
        return Err(SeccompError::BadExport { bytes: bpf.len() });
    }
    let instructions = bpf.len() / BPF_INSN_LEN;
    if instructions > BPF_MAXINSNS {
        return Err(SeccompError::TooLong { instructions });
    }
    Ok(bpf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    fn spec(json: &str) -> LinuxSeccomp {
        serde_json::from_str(json).expect("test profile parses")
    }

    fn compile(json: &str) -> SeccompProgram {
        SeccompProgram::compile(&spec(json)).expect("profile compiles")
    }

    /// Whether this libseccomp and kernel support SCMP_ACT_NOTIFY (API level 6).
    fn notify_supported() -> bool {
        libseccomp::get_api() >= 6
    }

    #[test]
    fn default_like_profile_compiles() {
        let p = compile(
            r#"{
                "defaultAction": "SCMP_ACT_ERRNO",
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                "syscalls": [
                    {"names": ["read", "write", "exit", "exit_group", "rt_sigreturn"],
                     "action": "SCMP_ACT_ALLOW"},
                    {"names": ["openat", "close", "execve"], "action": "SCMP_ACT_ALLOW"}
                ]
            }"#,
        );
        assert!(p.instructions() > 5, "{p:?}");
        assert_eq!(p.bpf().len() % BPF_INSN_LEN, 0);
        assert_eq!(p.flags(), 0);
        assert!(!p.notify());
        assert!(p.unknown_syscalls().is_empty());
    }

    #[test]
    fn unknown_syscall_names_are_skipped_and_listed() {
        let p = compile(
            r#"{
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [
                    {"names": ["read", "no_such_syscall", "write"], "action": "SCMP_ACT_ALLOW"},
                    {"names": ["no_such_syscall", "another_bogus"], "action": "SCMP_ACT_LOG"}
                ]
            }"#,
        );
        assert_eq!(p.unknown_syscalls(), ["no_such_syscall", "another_bogus"]);
        let known = compile(
            r#"{
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]
            }"#,
        );
        assert_eq!(p.bpf(), known.bpf());
    }

    #[test]
    fn every_operator_and_action_compiles() {
        let p = compile(
            r#"{
                "defaultAction": "SCMP_ACT_KILL_PROCESS",
                "syscalls": [
                    {"names": ["read"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_NE"},
                              {"index": 1, "value": 4, "op": "SCMP_CMP_LT"},
                              {"index": 2, "value": 5, "op": "SCMP_CMP_LE"}]},
                    {"names": ["write"], "action": "SCMP_ACT_LOG",
                     "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                              {"index": 3, "value": 6, "op": "SCMP_CMP_GE"},
                              {"index": 4, "value": 7, "op": "SCMP_CMP_GT"},
                              {"index": 5, "value": 255, "valueTwo": 8,
                               "op": "SCMP_CMP_MASKED_EQ"}]},
                    {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 42},
                    {"names": ["kill"], "action": "SCMP_ACT_TRAP"},
                    {"names": ["tkill"], "action": "SCMP_ACT_KILL"},
                    {"names": ["tgkill"], "action": "SCMP_ACT_KILL_THREAD"},
                    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
                ]
            }"#,
        );
        assert!(p.instructions() > 20, "{p:?}");
    }

    #[test]
    fn arg_index_out_of_range_names_the_entry() {
        let err = SeccompProgram::compile(&spec(
            r#"{
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {"names": ["read"], "action": "SCMP_ACT_LOG"},
                    {"names": ["write"], "action": "SCMP_ACT_ERRNO",
                     "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}
                ]
            }"#,
        ))
        .unwrap_err();
        assert!(matches!(
            err,
            SeccompError::ArgIndexOutOfRange {
                index: 1,
                arg: 0,
                arg_index: 6
            }
        ));
        assert!(err.to_string().contains("syscalls[1].args[0]"), "{err}");
    }

    #[test]
    fn repeated_arg_index_splits_into_one_rule_per_arg() {
        // Same index twice: OR of the two conditions, exactly as two separate entries.
        let split = compile(
            r#"{
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                           {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]
            }"#,
        );
        let separate = compile(
            r#"{
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                  {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                   "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
                  {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                   "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]
            }"#,
        );
        assert_eq!(split.bpf(), separate.bpf());

        // Distinct indexes: one rule with both conditions (AND), unlike separate entries.
        let and = compile(
            r#"{
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                           {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}]
            }"#,
        );
        let or = compile(
            r#"{
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                  {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                   "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
                  {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                   "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}]
            }"#,
        );
        assert_ne!(and.bpf(), or.bpf());
    }

    #[test]
    fn errno_ret_defaults_to_eperm() {
        let profile = |rule: &str| {
            compile(&format!(
                r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{rule}]}}"#
            ))
        };
        let absent = profile(r#"{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}"#);
        let eperm = profile(r#"{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}"#);
        let enosys = profile(r#"{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}"#);
        assert_eq!(absent.bpf(), eperm.bpf());
        assert_ne!(absent.bpf(), enosys.bpf());
        // Same for the default action and for TRACE's message number.
        let default_absent = compile(r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#);
        let default_eperm = compile(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1}"#);
        assert_eq!(default_absent.bpf(), default_eperm.bpf());
        let trace_absent = profile(r#"{"names": ["mkdir"], "action": "SCMP_ACT_TRACE"}"#);
        let trace_one = profile(r#"{"names": ["mkdir"], "action": "SCMP_ACT_TRACE", "errnoRet": 1}"#);
        assert_eq!(trace_absent.bpf(), trace_one.bpf());
    }

    #[test]
    fn errno_ret_out_of_range_is_an_error() {
        let err = SeccompProgram::compile(&spec(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}]}"#,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("syscalls[0].errnoRet"), "{err}");
    }

    #[test]
    fn rule_with_the_default_action_is_skipped() {
        // libseccomp rejects a rule whose action is the default one; runc skips it.
        let p = compile(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#,
        );
        let empty = compile(r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}"#);
        assert_eq!(p.bpf(), empty.bpf());
    }

    #[test]
    fn empty_syscalls_list_compiles() {
        let empty = compile(r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}"#);
        let absent = compile(r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#);
        assert_eq!(empty.bpf(), absent.bpf());
        assert!(empty.instructions() > 0);
    }

    #[test]
    fn filter_flags_map_to_seccomp_flags() {
        let p = compile(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": [
                "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#,
        );
        // WAIT_KILLABLE_RECV is dropped without a listener.
        assert_eq!(p.flags(), FLAG_LOG | FLAG_SPEC_ALLOW | FLAG_TSYNC);
        assert!(!p.notify());
    }

    #[test]
    fn notify_requests_a_listener() {
        if !notify_supported() {
            eprintln!("SKIP: libseccomp/kernel without SCMP_ACT_NOTIFY (API level < 6)");
            return;
        }
        let p = compile(
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
                "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"],
                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#,
        );
        assert!(p.notify());
        assert_eq!(
            p.flags(),
            FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV | FLAG_TSYNC | FLAG_TSYNC_ESRCH
        );
    }

    #[test]
    fn notify_is_refused_as_default_and_for_write() {
        let err = SeccompProgram::compile(&spec(r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#));
        assert!(matches!(err, Err(SeccompError::NotifyAsDefault)));
        let err = SeccompProgram::compile(&spec(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_LOG"},
                {"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}]}"#,
        ));
        assert!(matches!(err, Err(SeccompError::NotifyOnWrite { index: 1 })));
    }

    /// Docker's default profile, shortened: the same shape (default ERRNO with
    /// defaultErrnoRet, three x86 ABIs, long allow lists, argument-filtered personality,
    /// clone and socket, ERRNO(ENOSYS) for clone3, names of other architectures).
    #[test]
    fn docker_style_profile_compiles() {
        let p = compile(
            r#"{
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
              "syscalls": [
                {"names": ["accept", "accept4", "access", "arch_prctl", "bind", "brk",
                           "capget", "capset", "chdir", "close", "connect", "dup", "dup2",
                           "dup3", "epoll_create1", "epoll_ctl", "epoll_pwait", "execve",
                           "exit", "exit_group", "fcntl", "fstat", "futex", "getdents64",
                           "getpid", "ioctl", "lseek", "mmap", "mprotect", "munmap",
                           "newfstatat", "openat", "pipe2", "read", "rt_sigaction",
                           "rt_sigprocmask", "rt_sigreturn", "socketcall", "statx",
                           "wait4", "write", "clone_not_yet_invented"],
                 "action": "SCMP_ACT_ALLOW"},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 131072, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 131080, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
                {"names": ["arm_fadvise64_64", "arm_sync_file_range", "breakpoint",
                           "cacheflush", "set_tls"],
                 "action": "SCMP_ACT_ALLOW"},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 2114060288, "valueTwo": 0,
                           "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
                {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
              ]
            }"#,
        );
        assert_eq!(p.unknown_syscalls(), ["clone_not_yet_invented"]);
        assert!(p.instructions() > 50, "{p:?}");
        assert!(p.instructions() <= BPF_MAXINSNS);
    }

    /// Really install a filter (default ALLOW, mkdir/mkdirat -> ERRNO(ENOSYS)) in a forked
    /// child: mkdir fails there with errno 38, and the parent is unaffected.
    #[test]
    fn load_in_forked_child_blocks_mkdir() {
        use nix::sys::stat::Mode;

        let p = compile(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}"#,
        );
        let dir = std::env::temp_dir().join(format!("seccomp-test-{}", std::process::id()));
        let _ = std::fs::remove_dir(&dir);
        let cdir = CString::new(dir.as_os_str().as_bytes()).unwrap();

        // Exit codes: 0 mkdir succeeded, 100 no_new_privs failed, 101 load failed with
        // EINVAL/EPERM/EACCES/ENOSYS (no seccomp here), 102 other load error, else mkdir's errno.
        let code = crate::sys::seccomp::fork_and_wait(|| {
            if nix::sys::prctl::set_no_new_privs().is_err() {
                return 100;
            }
            match p.load() {
                Ok(_) => {}
                Err(Errno::EINVAL | Errno::EPERM | Errno::EACCES | Errno::ENOSYS) => return 101,
                Err(_) => return 102,
            }
            let _ = nix::unistd::getpid();
            match nix::unistd::mkdir(cdir.as_c_str(), Mode::S_IRWXU) {
                Ok(()) => 0,
                Err(e) => e as i32,
            }
        })
        .expect("fork");
        if code == 101 {
            eprintln!("SKIP: this kernel or sandbox does not let us install a seccomp filter");
            return;
        }
        assert_eq!(code, libc::ENOSYS, "child exit code");
        assert!(!dir.exists(), "the child's mkdir was not blocked");
        std::fs::create_dir(&dir).expect("the parent is not filtered");
        std::fs::remove_dir(&dir).unwrap();
    }

    /// A NOTIFY rule makes `load` return the listener, with WAIT_KILLABLE_RECV requested
    /// (retried without it on kernels before 5.19). The child never makes the notified call.
    #[test]
    fn load_with_notify_returns_the_listener() {
        if !notify_supported() {
            eprintln!("SKIP: libseccomp/kernel without SCMP_ACT_NOTIFY (API level < 6)");
            return;
        }
        let p = compile(
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
                "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#,
        );
        let code = crate::sys::seccomp::fork_and_wait(|| {
            if nix::sys::prctl::set_no_new_privs().is_err() {
                return 100;
            }
            match p.load() {
                Ok(Some(_listener)) => 0,
                Ok(None) => 1,
                Err(e) => 2 + (e as i32 & 0x3f),
            }
        })
        .expect("fork");
        assert_eq!(code, 0, "child exit code");
    }
}
