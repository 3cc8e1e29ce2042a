//! The requirements, one module per spec document group. IDs are `<document>/<slug>`.

mod config;
mod hooks;
mod linux;
mod runtime;

use crate::t::{R, T};

/// One testable MUST/SHOULD of the runtime specification.
#[derive(Debug)]
pub struct Req {
    /// `<document>/<slug>`, e.g. `runtime.md/delete-running-fails`.
    pub id: &'static str,
    /// `MUST` or `SHOULD`.
    pub level: &'static str,
    /// The requirement in one sentence (paraphrasing the spec).
    pub what: &'static str,
    /// The check.
    pub f: fn(&T) -> R,
}

impl Req {
    /// The ID as a short name for directories.
    pub fn slug(&self) -> String {
        self.id.rsplit('/').next().unwrap_or(self.id).to_string()
    }
}

/// Builds a [`Req`].
macro_rules! req {
    ($id:expr, $lvl:expr, $what:expr, $f:expr) => {
        $crate::reqs::Req {
            id: $id,
            level: $lvl,
            what: $what,
            f: $f,
        }
    };
}
pub(crate) use req;

/// Every requirement, in table order.
pub fn all() -> Vec<Req> {
    let mut v = runtime::reqs();
    v.extend(hooks::reqs());
    v.extend(config::reqs());
    v.extend(linux::reqs());
    let mut seen = std::collections::BTreeSet::new();
    for r in &v {
        assert!(seen.insert(r.id), "duplicate requirement id {}", r.id);
    }
    v
}
