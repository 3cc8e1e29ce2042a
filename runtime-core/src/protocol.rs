//! Messages between the runtime (parent) and the container's init (child) over a
//! `SOCK_SEQPACKET` socket pair: one enum per direction, each encoded into a fixed-size
//! buffer so that the child never allocates to report (house rule: the child only executes
//! the plan and reports failures as codes plus context).
// Child-side errors are fixed-size values on purpose: the forked child must not allocate,
// so they cannot be boxed.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

use std::fmt;

/// Largest encoded message.
pub const MAX_MSG: usize = 1040;
/// Room for the human-readable context of an error.
pub const DETAIL_LEN: usize = 1024;

/// The setup stage in which the init failed; printed as the first part of the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    Sync = 1,
    JoinNamespace,
    UnshareNamespace,
    SetIds,
    Hostname,
    Propagation,
    Mount,
    Device,
    PivotRoot,
    MaskPath,
    ReadonlyPath,
    Sysctl,
    Rlimit,
    Capabilities,
    User,
    Cwd,
    Exec,
    Spawn,
    Console,
    Keyring,
    Seccomp,
    Lsm,
    Process,
    Cgroup,
}

impl Stage {
    const ALL: [Stage; 24] = [
        Stage::Sync,
        Stage::JoinNamespace,
        Stage::UnshareNamespace,
        Stage::SetIds,
        Stage::Hostname,
        Stage::Propagation,
        Stage::Mount,
        Stage::Device,
        Stage::PivotRoot,
        Stage::MaskPath,
        Stage::ReadonlyPath,
        Stage::Sysctl,
        Stage::Rlimit,
        Stage::Capabilities,
        Stage::User,
        Stage::Cwd,
        Stage::Exec,
        Stage::Spawn,
        Stage::Console,
        Stage::Keyring,
        Stage::Seccomp,
        Stage::Lsm,
        Stage::Process,
        Stage::Cgroup,
    ];

    fn from_u8(v: u8) -> Option<Stage> {
        Stage::ALL.iter().copied().find(|s| *s as u8 == v)
    }

    /// What the init was doing, as the first words of the error the user sees.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Sync => "waiting for the runtime",
            Stage::JoinNamespace => "joining namespace",
            Stage::UnshareNamespace => "creating namespaces",
            Stage::SetIds => "becoming root in the user namespace",
            Stage::Hostname => "setting hostname",
            Stage::Propagation => "setting rootfs propagation",
            Stage::Mount => "setting up mounts",
            Stage::Device => "creating device",
            Stage::PivotRoot => "changing root",
            Stage::MaskPath => "masking path",
            Stage::ReadonlyPath => "making path read-only",
            Stage::Sysctl => "writing sysctl",
            Stage::Rlimit => "setting rlimit",
            Stage::Capabilities => "setting capabilities",
            Stage::User => "setting user",
            Stage::Cwd => "changing to cwd",
            Stage::Exec => "starting container process",
            Stage::Spawn => "spawning init",
            Stage::Console => "setting up console",
            Stage::Keyring => "creating session keyring",
            Stage::Seccomp => "setting up seccomp",
            Stage::Lsm => "applying security labels",
            Stage::Process => "setting process attributes",
            Stage::Cgroup => "joining cgroup",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A fixed-capacity text buffer: `write!` into it never allocates; text past the capacity is
/// cut (at a character boundary when decoded).
#[derive(Clone, Copy)]
pub struct Detail {
    buf: [u8; DETAIL_LEN],
    len: usize,
}

impl Detail {
    pub const fn new() -> Self {
        Detail {
            buf: [0; DETAIL_LEN],
            len: 0,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn push_bytes(&mut self, b: &[u8]) {
        let n = b.len().min(DETAIL_LEN - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
    }
}

impl Default for Detail {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for Detail {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

impl fmt::Debug for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&String::from_utf8_lossy(self.as_bytes()), f)
    }
}

impl PartialEq for Detail {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// Child → parent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChildMsg {
    /// Setup is complete; the init now waits for `start`.
    Ready,
    /// The intermediate process of a two-stage spawn created the user namespace and waits
    /// for the parent to write its id maps.
    UserNsCreated,
    /// The intermediate process spawned the init with this host pid.
    InitPid(i32),
    /// The mounts are ready and the root has not changed yet: the moment for the
    /// prestart and createRuntime hooks. The init waits for `Go`.
    HookPoint,
    /// The process loaded a seccomp filter with SCMP_ACT_NOTIFY rules; the listener fd rides
    /// along with SCM_RIGHTS. The process waits for `Go` (the runtime has passed the fd on to
    /// `listenerPath`) before it goes on.
    SeccompListener,
    /// Setup failed.
    Error { stage: Stage, errno: i32, detail: Detail },
}

/// Parent → child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentMsg {
    /// Id maps are written and the cgroup is joined: go on with the setup.
    Go,
}

/// Why a received message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty message")]
    Empty,
    #[error("truncated message (tag {0})")]
    Truncated(u8),
    #[error("unknown message tag {0}")]
    UnknownTag(u8),
    #[error("unknown stage {0}")]
    UnknownStage(u8),
}

const TAG_READY: u8 = 1;
const TAG_USERNS: u8 = 2;
const TAG_PID: u8 = 3;
const TAG_ERROR: u8 = 4;
const TAG_HOOKS: u8 = 5;
const TAG_SECCOMP: u8 = 6;
const TAG_GO: u8 = 10;

impl ChildMsg {
    /// Encode into `buf`, returning the number of bytes used.
    pub fn encode(&self, buf: &mut [u8; MAX_MSG]) -> usize {
        match self {
            ChildMsg::Ready => {
                buf[0] = TAG_READY;
                1
            }
            ChildMsg::UserNsCreated => {
                buf[0] = TAG_USERNS;
                1
            }
            ChildMsg::HookPoint => {
                buf[0] = TAG_HOOKS;
                1
            }
            ChildMsg::SeccompListener => {
                buf[0] = TAG_SECCOMP;
                1
            }
            ChildMsg::InitPid(pid) => {
                buf[0] = TAG_PID;
                buf[1..5].copy_from_slice(&pid.to_le_bytes());
                5
            }
            ChildMsg::Error { stage, errno, detail } => {
                let d = detail.as_bytes();
                buf[0] = TAG_ERROR;
                buf[1] = *stage as u8;
                buf[2..6].copy_from_slice(&errno.to_le_bytes());
                buf[6..8].copy_from_slice(&(d.len() as u16).to_le_bytes());
                buf[8..8 + d.len()].copy_from_slice(d);
                8 + d.len()
            }
        }
    }

    pub fn decode(b: &[u8]) -> Result<ChildMsg, DecodeError> {
        let tag = *b.first().ok_or(DecodeError::Empty)?;
        match tag {
            TAG_READY => Ok(ChildMsg::Ready),
            TAG_USERNS => Ok(ChildMsg::UserNsCreated),
            TAG_HOOKS => Ok(ChildMsg::HookPoint),
            TAG_SECCOMP => Ok(ChildMsg::SeccompListener),
            TAG_PID => {
                let raw: [u8; 4] = b
                    .get(1..5)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(DecodeError::Truncated(tag))?;
                Ok(ChildMsg::InitPid(i32::from_le_bytes(raw)))
            }
            TAG_ERROR => {
                if b.len() < 8 {
                    return Err(DecodeError::Truncated(tag));
                }
                let stage = Stage::from_u8(b[1]).ok_or(DecodeError::UnknownStage(b[1]))?;
                let errno = i32::from_le_bytes([b[2], b[3], b[4], b[5]]);
                let len = u16::from_le_bytes([b[6], b[7]]) as usize;
                let text = b.get(8..8 + len).ok_or(DecodeError::Truncated(tag))?;
                let mut detail = Detail::new();
                detail.push_bytes(text);
                Ok(ChildMsg::Error { stage, errno, detail })
            }
            other => Err(DecodeError::UnknownTag(other)),
        }
    }
}

impl ParentMsg {
    pub fn encode(&self, buf: &mut [u8; MAX_MSG]) -> usize {
        match self {
            ParentMsg::Go => {
                buf[0] = TAG_GO;
                1
            }
        }
    }

    pub fn decode(b: &[u8]) -> Result<ParentMsg, DecodeError> {
        match b.first() {
            None => Err(DecodeError::Empty),
            Some(&TAG_GO) => Ok(ParentMsg::Go),
            Some(&t) => Err(DecodeError::UnknownTag(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    fn roundtrip(m: ChildMsg) {
        let mut buf = [0u8; MAX_MSG];
        let n = m.encode(&mut buf);
        assert_eq!(ChildMsg::decode(&buf[..n]).unwrap(), m);
    }

    #[test]
    fn child_messages_roundtrip() {
        roundtrip(ChildMsg::Ready);
        roundtrip(ChildMsg::UserNsCreated);
        roundtrip(ChildMsg::HookPoint);
        roundtrip(ChildMsg::SeccompListener);
        roundtrip(ChildMsg::InitPid(4242));
        let mut d = Detail::new();
        let target = "/proc";
        write!(d, "mount proc on {target}").unwrap();
        for s in Stage::ALL {
            roundtrip(ChildMsg::Error {
                stage: s,
                errno: 13,
                detail: d,
            });
        }
    }

    #[test]
    fn detail_truncates_without_panicking() {
        let mut d = Detail::new();
        let long = "x".repeat(5000);
        write!(d, "{long}").unwrap();
        assert_eq!(d.as_bytes().len(), DETAIL_LEN);
        roundtrip(ChildMsg::Error {
            stage: Stage::Exec,
            errno: 2,
            detail: d,
        });
    }

    #[test]
    fn garbage_is_rejected_not_panicking() {
        assert_eq!(ChildMsg::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(ChildMsg::decode(&[99]), Err(DecodeError::UnknownTag(99)));
        assert_eq!(ChildMsg::decode(&[TAG_PID, 1]), Err(DecodeError::Truncated(TAG_PID)));
        assert_eq!(
            ChildMsg::decode(&[TAG_ERROR, 200, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::UnknownStage(200))
        );
        assert_eq!(
            ChildMsg::decode(&[TAG_ERROR, 1, 0, 0, 0, 0, 255, 255]),
            Err(DecodeError::Truncated(TAG_ERROR))
        );
        assert_eq!(ParentMsg::decode(&[TAG_GO]), Ok(ParentMsg::Go));
        assert!(ParentMsg::decode(&[0]).is_err());
    }
}
