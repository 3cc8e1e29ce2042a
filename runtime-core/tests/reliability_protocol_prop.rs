//! Property test of the parent/child protocol (`runtime_core::protocol`), the same checks as
//! the `protocol` fuzz target in `fuzz/`: any bytes decode to an error or a message, never a
//! panic, and a decoded message encodes and decodes back to itself; every message the
//! runtime can build survives the round trip.

use proptest::prelude::*;
use runtime_core::protocol::{ChildMsg, Detail, ParentMsg, MAX_MSG};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn roundtrip(m: ChildMsg) -> Result<(), TestCaseError> {
    let mut buf = [0u8; MAX_MSG];
    let n = m.encode(&mut buf);
    prop_assert!(n <= MAX_MSG);
    prop_assert_eq!(ChildMsg::decode(&buf[..n]), Ok(m));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_decode_without_panic(data in proptest::collection::vec(any::<u8>(), 0..2100)) {
        if let Ok(m) = ChildMsg::decode(&data) {
            roundtrip(m)?;
        }
        if let Ok(m) = ParentMsg::decode(&data) {
            let mut buf = [0u8; MAX_MSG];
            let n = m.encode(&mut buf);
            prop_assert_eq!(ParentMsg::decode(&buf[..n]), Ok(m));
        }
    }

    #[test]
    fn error_messages_roundtrip(tag in 1u8..=21, errno in any::<i32>(), text in proptest::collection::vec(any::<u8>(), 0..3000)) {
        // Build through the wire format so every stage value is covered.
        let mut raw = vec![4u8, tag];
        raw.extend_from_slice(&errno.to_le_bytes());
        let len = text.len().min(u16::MAX as usize) as u16;
        raw.extend_from_slice(&len.to_le_bytes());
        raw.extend_from_slice(&text);
        let m = ChildMsg::decode(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let ChildMsg::Error { detail, .. } = &m {
            let mut d = Detail::new();
            d.push_bytes(&text);
            prop_assert_eq!(detail, &d);
        }
        roundtrip(m)?;
    }

    #[test]
    fn pids_roundtrip(pid in any::<i32>()) {
        roundtrip(ChildMsg::InitPid(pid))?;
    }
}
