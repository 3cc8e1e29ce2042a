//! Any bytes as a message between the runtime and the container's init
//! (`runtime_core::protocol`): decoding returns an error or a message, never panics, and a
//! decoded message encodes and decodes back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runtime_core::protocol::{ChildMsg, ParentMsg, MAX_MSG};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ChildMsg::decode(data) {
        let mut buf = [0u8; MAX_MSG];
        let n = m.encode(&mut buf);
        assert!(n <= MAX_MSG);
        assert_eq!(ChildMsg::decode(&buf[..n]), Ok(m));
    }
    if let Ok(m) = ParentMsg::decode(data) {
        let mut buf = [0u8; MAX_MSG];
        let n = m.encode(&mut buf);
        assert_eq!(ParentMsg::decode(&buf[..n]), Ok(m));
    }
});
