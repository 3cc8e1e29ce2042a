//! `linux.netDevices` (runtime-spec `config-linux.md` "Network Devices"): host network
//! interfaces moved into the container's network namespace, optionally renamed, with one
//! rtnetlink `RTM_NEWLINK` request each (`IFLA_NET_NS_FD` plus `IFLA_IFNAME`), as
//! `ip link set dev HOST netns N name NAME` does. Moving a device clears its addresses;
//! when the container's network namespace goes away the kernel returns physical devices to
//! the initial namespace and destroys virtual ones.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::socket::{recv, socket, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType};

const RTM_NEWLINK: u16 = 16;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLMSG_ERROR: u16 = 0x2;
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_FD: u16 = 28;

/// A device to move: its name on the host and its name in the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDevice {
    pub host: String,
    pub name: String,
}

/// The interface-name rule of the kernel (`dev_valid_name`): 1-15 bytes, not `.` or `..`,
/// no `/`, `:` or whitespace.
pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() < 16
        && n != "."
        && n != ".."
        && !n.bytes().any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
}

/// The `RTM_NEWLINK` request moving interface `index` into the namespace `netns_fd` under
/// `name`.
pub fn move_request(seq: u32, index: i32, netns_fd: u32, name: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&0u32.to_ne_bytes()); // length, filled in below
    m.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
    m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
                                              // struct ifinfomsg
    m.extend_from_slice(&[libc::AF_UNSPEC as u8, 0]);
    m.extend_from_slice(&0u16.to_ne_bytes()); // type
    m.extend_from_slice(&index.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // flags
    m.extend_from_slice(&0u32.to_ne_bytes()); // change
    attr(&mut m, IFLA_NET_NS_FD, &netns_fd.to_ne_bytes());
    let mut n = name.as_bytes().to_vec();
    n.push(0);
    attr(&mut m, IFLA_IFNAME, &n);
    let len = m.len() as u32;
    m[..4].copy_from_slice(&len.to_ne_bytes());
    m
}

fn attr(m: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    m.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(payload);
    while m.len() % 4 != 0 {
        m.push(0);
    }
}

/// The errno of a netlink ACK (`NLMSG_ERROR` with error 0 is success).
pub fn ack_errno(reply: &[u8]) -> Result<(), Errno> {
    if reply.len() < 20 || u16::from_ne_bytes([reply[4], reply[5]]) != NLMSG_ERROR {
        return Err(Errno::EPROTO);
    }
    let e = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
    if e == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw(-e))
    }
}

/// Move every device into `netns` (the init's network namespace).
pub fn move_all(devices: &[NetDevice], netns: BorrowedFd<'_>) -> Result<(), (String, Errno)> {
    if devices.is_empty() {
        return Ok(());
    }
    let sock = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(|e| ("opening a netlink socket".to_string(), e))?;
    for (seq, d) in devices.iter().enumerate() {
        let ctx = |what: &str| format!("{what} network device {:?}", d.host);
        let index = ifindex(&d.host).map_err(|e| (ctx("finding"), e))?;
        let req = move_request(seq as u32 + 1, index, netns.as_raw_fd() as u32, &d.name);
        nix::sys::socket::send(sock.as_raw_fd(), &req, MsgFlags::empty()).map_err(|e| (ctx("moving"), e))?;
        let mut buf = [0u8; 1024];
        let n = recv(sock.as_fd().as_raw_fd(), &mut buf, MsgFlags::empty()).map_err(|e| (ctx("moving"), e))?;
        ack_errno(&buf[..n]).map_err(|e| (format!("moving network device {:?} as {:?}", d.host, d.name), e))?;
    }
    Ok(())
}

/// The index of the runtime namespace's interface `name` (valid_name was checked, so the
/// path stays in /sys/class/net).
fn ifindex(name: &str) -> Result<i32, Errno> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .map_err(|_| Errno::ENODEV)?
        .trim()
        .parse()
        .map_err(|_| Errno::ENODEV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("eth0"));
        assert!(!valid_name(""));
        assert!(!valid_name("a/b"));
        assert!(!valid_name("abcdefghijklmnop"));
        assert!(!valid_name(".."));
        assert!(!valid_name("a b"));
    }

    #[test]
    fn request_layout() {
        let m = move_request(7, 3, 9, "eth1");
        // header 16 + ifinfomsg 16 + fd attr 8 + name attr (4 + 5, padded to 12)
        assert_eq!(m.len(), 52);
        assert_eq!(u32::from_ne_bytes(m[0..4].try_into().unwrap()), 52);
        assert_eq!(u16::from_ne_bytes(m[4..6].try_into().unwrap()), RTM_NEWLINK);
        assert_eq!(u32::from_ne_bytes(m[8..12].try_into().unwrap()), 7);
        assert_eq!(i32::from_ne_bytes(m[20..24].try_into().unwrap()), 3);
        assert_eq!(u16::from_ne_bytes(m[34..36].try_into().unwrap()), IFLA_NET_NS_FD);
        assert_eq!(u32::from_ne_bytes(m[36..40].try_into().unwrap()), 9);
        assert_eq!(&m[44..49], b"eth1\0");
    }

    #[test]
    fn acks() {
        let mut r = vec![0u8; 36];
        r[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        assert_eq!(ack_errno(&r), Ok(()));
        r[16..20].copy_from_slice(&(-libc::EEXIST).to_ne_bytes());
        assert_eq!(ack_errno(&r), Err(Errno::EEXIST));
        assert_eq!(ack_errno(&r[..8]), Err(Errno::EPROTO));
    }
}
