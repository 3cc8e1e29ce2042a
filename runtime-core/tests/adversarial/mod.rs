//! Generators of malformed and adversarial `config.json` documents for the property tests.
//! Shared by runtime-core's validation test (no root) and the conformance test that feeds the
//! same documents to `runtime-cli create` (as root); it depends only on proptest and
//! serde_json.
//!
//! A case is a valid base document plus 1–3 mutations, each at one of the fields the runtime
//! reads: a wrong JSON type, a huge or negative number, an unknown enum value, a relative or
//! escaping path, a 10 MB string, a deeply nested value, or an unknown property (which must
//! be ignored). Some cases are then damaged as bytes: invalid UTF-8, a cut document, a NUL.
#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{json, Value};

/// Fields the runtime acts on, as (path, expected JSON type of a valid value).
pub const FIELDS: &[&str] = &[
    "ociVersion",
    "process.args",
    "process.args[0]",
    "process.cwd",
    "process.env",
    "process.env[0]",
    "process.terminal",
    "process.user.uid",
    "process.user.gid",
    "process.user.additionalGids",
    "process.rlimits",
    "process.rlimits[0].type",
    "process.rlimits[0].soft",
    "process.capabilities.bounding",
    "process.capabilities.bounding[0]",
    "process.noNewPrivileges",
    "process.oomScoreAdj",
    "process.consoleSize",
    "root.path",
    "root.readonly",
    "hostname",
    "mounts",
    "mounts[0].destination",
    "mounts[0].type",
    "mounts[0].source",
    "mounts[0].options",
    "linux.namespaces",
    "linux.namespaces[0].type",
    "linux.namespaces[0].path",
    "linux.uidMappings",
    "linux.resources.memory.limit",
    "linux.resources.pids.limit",
    "linux.resources.cpu.shares",
    "linux.resources.devices[0].allow",
    "linux.resources.devices[0].access",
    "linux.sysctl",
    "linux.maskedPaths",
    "linux.readonlyPaths[0]",
    "linux.rootfsPropagation",
    "linux.devices",
    "linux.seccomp",
    "linux.seccomp.defaultAction",
    "linux.seccomp.syscalls[0].names",
    "linux.cgroupsPath",
    "hooks.prestart",
    "hooks.prestart[0].path",
    "hooks.poststop[0].timeout",
    "annotations",
];

/// The valid starting point: what `runc spec` makes, trimmed, with `true` as the program,
/// plus the optional fields that the mutations aim at. `rootfs` and `cgroups_path` are
/// the bundle's.
pub fn base(rootfs: &str, cgroups_path: &str) -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0, "additionalGids": [0]},
            "args": ["true"],
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true,
            "oomScoreAdj": 0,
            "consoleSize": {"height": 24, "width": 80}
        },
        "root": {"path": rootfs, "readonly": true},
        "hostname": "adversarial",
        "annotations": {"a": "b"},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}
        ],
        "hooks": {"prestart": [], "poststop": [{"path": "/bin/true", "timeout": 5}]},
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": {
                "devices": [{"allow": false, "access": "rwm"}],
                "memory": {"limit": 268435456},
                "pids": {"limit": 100},
                "cpu": {"shares": 1024}
            },
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}, {"type": "uts"}, {"type": "ipc"}],
            "uidMappings": [],
            "sysctl": {},
            "maskedPaths": ["/proc/kcore"],
            "readonlyPaths": ["/proc/sys"],
            "rootfsPropagation": "rprivate",
            "devices": [],
            "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}
        }
    })
}

/// One change to a document.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Replace the value at `path` (created if missing).
    Set(String, Value),
    /// Add a property nobody knows at `path` (an object, or the document itself for "").
    Unknown(String, String, Value),
}

/// Damage done to the serialised bytes.
#[derive(Debug, Clone)]
pub enum Bytes {
    Keep,
    /// Replace the byte at this fraction of the length with 0xff (invalid UTF-8).
    InvalidUtf8(u16),
    /// Cut the document at this fraction of its length.
    Truncate(u16),
    /// Put a NUL byte inside a string.
    Nul,
}

/// A generated case.
#[derive(Debug, Clone)]
pub struct Case {
    pub mutations: Vec<Mutation>,
    pub bytes: Bytes,
}

impl Case {
    /// Only unknown properties were added: the document is still valid and must run.
    pub fn only_unknown(&self) -> bool {
        matches!(self.bytes, Bytes::Keep) && self.mutations.iter().all(|m| matches!(m, Mutation::Unknown(..)))
    }

    /// The single field whose JSON type was changed, when that is the only change: the
    /// error must then name it.
    pub fn wrong_type_field(&self, base: &Value) -> Option<String> {
        match (self.mutations.as_slice(), &self.bytes) {
            ([Mutation::Set(path, v)], Bytes::Keep) => {
                let old = get(base, path)?;
                (kind(old) != kind(v) && !v.is_null() && !is_deep(v)).then(|| leaf(path))
            }
            _ => None,
        }
    }

    /// The document after the mutations, as bytes.
    pub fn render(&self, base: &Value) -> Vec<u8> {
        let doc = self.doc(base);
        let mut bytes = serde_json::to_vec(&doc).expect("serialises");
        let frac = |f: u16, len: usize| (f as usize * len / (u16::MAX as usize + 1)).min(len.saturating_sub(1));
        match self.bytes {
            Bytes::Keep => {}
            Bytes::InvalidUtf8(f) => {
                let i = frac(f, bytes.len());
                bytes[i] = 0xff;
            }
            Bytes::Truncate(f) => {
                let i = frac(f, bytes.len());
                bytes.truncate(i);
            }
            Bytes::Nul => {
                if let Some(i) = bytes.windows(3).position(|w| w == b"\"/\"") {
                    bytes.splice(i + 1..i + 2, b"/\\u0000x".iter().copied());
                }
            }
        }
        bytes
    }

    /// The document after the mutations (before any damage to the bytes).
    pub fn doc(&self, base: &Value) -> Value {
        let mut doc = base.clone();
        for m in &self.mutations {
            match m {
                Mutation::Set(path, v) => set(&mut doc, path, v.clone()),
                Mutation::Unknown(path, key, v) => {
                    let target = if path.is_empty() {
                        Some(&mut doc)
                    } else {
                        get_mut(&mut doc, path)
                    };
                    if let Some(Value::Object(o)) = target {
                        o.insert(key.clone(), v.clone());
                    }
                }
            }
        }
        doc
    }
}

fn kind(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(n) if n.is_f64() => 2,
        Value::Number(_) => 3,
        Value::String(_) => 4,
        Value::Array(_) => 5,
        Value::Object(_) => 6,
    }
}

fn is_deep(v: &Value) -> bool {
    fn depth(v: &Value) -> usize {
        match v {
            Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    depth(v) > 1
}

/// The last name in a path such as `process.rlimits[0].type` → `type`; `args[0]` → `args`.
pub fn leaf(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last).to_string()
}

enum Step {
    Key(String),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut it = part.split('[');
        let name = it.next().unwrap_or_default();
        if !name.is_empty() {
            out.push(Step::Key(name.to_string()));
        }
        for idx in it {
            out.push(Step::Index(idx.trim_end_matches(']').parse().unwrap_or(0)));
        }
    }
    out
}

pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for s in steps(path) {
        cur = match s {
            Step::Key(k) => cur.get(k)?,
            Step::Index(i) => cur.get(i)?,
        };
    }
    Some(cur)
}

fn get_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in steps(path) {
        cur = match s {
            Step::Key(k) => cur.get_mut(k)?,
            Step::Index(i) => cur.get_mut(i)?,
        };
    }
    Some(cur)
}

/// Set `path` to `new`, creating objects and array slots on the way.
fn set(v: &mut Value, path: &str, new: Value) {
    let mut cur = v;
    for s in steps(path) {
        cur = match s {
            Step::Key(k) => {
                if !cur.is_object() {
                    *cur = json!({});
                }
                cur.as_object_mut().expect("object").entry(k).or_insert(Value::Null)
            }
            Step::Index(i) => {
                if !cur.is_array() {
                    *cur = json!([]);
                }
                let a = cur.as_array_mut().expect("array");
                while a.len() <= i {
                    a.push(Value::Null);
                }
                &mut a[i]
            }
        };
    }
    *cur = new;
}

/// Adversarial values.
pub fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        // Wrong types.
        Just(json!("x")),
        Just(json!(true)),
        Just(json!(1.5)),
        Just(json!([1])),
        Just(json!({"a": 1})),
        Just(Value::Null),
        // Huge and negative numbers.
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(-1)),
        Just(json!(1e308)),
        Just(json!(4294967296u64)),
        // Unknown enum values and odd strings.
        Just(json!("bogus")),
        Just(json!("RLIMIT_BOGUS")),
        Just(json!("SCMP_ACT_NOPE")),
        Just(json!("")),
        Just(json!("☃\u{7f}\u{1}")),
        // Relative and escaping paths.
        Just(json!("relative/path")),
        Just(json!("../../../../etc")),
        Just(json!("/../../..")),
        Just(json!("/proc/self/root")),
        Just(json!(["../../etc/passwd"])),
        Just(json!([{"type": "pid", "path": "../ns"}])),
        Just(json!([{"destination": "../../escape", "type": "tmpfs", "source": "tmpfs"}])),
        Just(json!([{"path": "relative-hook"}])),
        Just(json!([{"containerID": 0, "hostID": 4294967295u64, "size": 4294967295u64}])),
        // A 10 MB string.
        Just(Value::String("A".repeat(10 << 20))),
        // Deep nesting (past serde_json's recursion limit and just under it).
        (100usize..1000).prop_map(nested),
        // Random small strings and integers.
        proptest::collection::vec(proptest::sample::select(&b"az/.\\"[..]), 0..12)
            .prop_map(|b| Value::String(String::from_utf8(b).expect("ascii"))),
        any::<i64>().prop_map(|n| json!(n)),
    ]
}

fn nested(depth: usize) -> Value {
    // Built iteratively; dropping it is recursive but 1000 levels fit the stack.
    let mut v = json!(0);
    for i in 0..depth {
        v = if i % 2 == 0 { json!([v]) } else { json!({"k": v}) };
    }
    v
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let field = proptest::sample::select(FIELDS);
    prop_oneof![
        4 => (field, value()).prop_map(|(f, v)| Mutation::Set(f.to_string(), v)),
        1 => (
            proptest::sample::select(&["", "process", "root", "linux", "process.user", "linux.resources", "mounts[0]"][..]),
            proptest::collection::vec(proptest::sample::select(&b"xyzXYZ_-"[..]), 1..10)
                .prop_map(|b| format!("x{}", String::from_utf8(b).expect("ascii"))),
            prop_oneof![Just(json!(1)), Just(json!({"nested": [true, null]})), Just(json!("v"))],
        )
            .prop_map(|(p, k, v)| Mutation::Unknown(p.to_string(), k, v)),
    ]
}

fn bytes() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        8 => Just(Bytes::Keep),
        1 => any::<u16>().prop_map(Bytes::InvalidUtf8),
        1 => any::<u16>().prop_map(Bytes::Truncate),
        1 => Just(Bytes::Nul),
    ]
}

pub fn case() -> impl Strategy<Value = Case> {
    (proptest::collection::vec(mutation(), 1..=3), bytes()).prop_map(|(mutations, bytes)| Case { mutations, bytes })
}

/// A config with only unknown properties added, everywhere: the spec says runtimes MUST
/// ignore them, so it must run.
pub fn with_unknown_fields(mut doc: Value) -> Value {
    doc["x-future"] = json!({"deep": [1, 2, {"k": null}]});
    doc["process"]["x-future"] = json!(true);
    doc["process"]["user"]["x-future"] = json!("v");
    doc["root"]["x-future"] = json!(1);
    doc["linux"]["x-future"] = json!([]);
    doc["linux"]["resources"]["x-future"] = json!({});
    doc["mounts"][0]["x-future"] = json!("m");
    doc
}
