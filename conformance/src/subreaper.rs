//! A runtime call made under a child-subreaper helper process (see
//! `src/bin/conformance-subreaper.rs`), to observe what a shim or conmon would see.

use std::process::{Child, ChildStdin};
use std::time::Duration;

use crate::procfs::{self, ProcStat};
use crate::wait_until;

/// The helper process, kept alive until this value is dropped (or [`Subreaper::finish`]).
#[derive(Debug)]
pub struct Subreaper {
    pub(crate) child: Child,
    pub(crate) hold: Option<ChildStdin>,
}

impl Subreaper {
    /// The helper's pid: the "caller" to which the container init must be reparented.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pid fits in i32")
    }

    /// Live (non-zombie) descendants of the helper.
    pub fn descendants(&self) -> Vec<ProcStat> {
        procfs::descendants(self.pid())
    }

    /// Lets the helper exit (it reaps zombies; live children move up to the next subreaper).
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        drop(self.hold.take());
        let exited = wait_until(Duration::from_secs(5), || matches!(self.child.try_wait(), Ok(Some(_))));
        if !exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Subreaper {
    fn drop(&mut self) {
        self.stop();
    }
}
