//! The results table (text, markdown, JSON), the counts per spec document, and the gate.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::reqs::Req;

/// What one requirement did on one runtime.
#[derive(Debug, Clone)]
pub enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail(_) => "FAIL",
            Outcome::Skip(_) => "SKIP",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Outcome::Pass => "",
            Outcome::Fail(r) | Outcome::Skip(r) => r,
        }
    }

    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Pass)
    }

    /// `PASS`, or `FAIL: <first line of the reason, at most n chars>`.
    pub fn cell(&self, n: usize) -> String {
        match self {
            Outcome::Pass => "PASS".into(),
            o => format!("{}: {}", o.word(), one_line(o.reason(), n)),
        }
    }
}

/// The first non-empty line of `s`, at most `n` characters, `|` escaped for markdown.
pub fn one_line(s: &str, n: usize) -> String {
    let line = s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let mut out: String = line.chars().take(n).collect();
    if line.chars().count() > n {
        out.push('…');
    }
    out.replace('|', "\\|")
}

/// `runtime -> (pass, fail, skip)`.
pub type Counts = BTreeMap<String, (usize, usize, usize)>;

/// Column order of the table: runc, crun, runtime-cli, then anything else.
const ORDER: [&str; 3] = ["runc", "crun", "runtime-cli"];

#[derive(Debug)]
pub struct Row {
    pub id: String,
    pub level: String,
    pub what: String,
    pub by_runtime: BTreeMap<String, Outcome>,
}

#[derive(Debug)]
pub struct Results {
    pub runtimes: Vec<String>,
    pub rows: Vec<Row>,
}

impl Results {
    pub fn collect(reqs: &[&Req], names: &[String], mut raw: BTreeMap<(usize, usize), Outcome>) -> Results {
        let mut runtimes: Vec<String> = ORDER
            .iter()
            .filter(|n| names.iter().any(|m| m == *n))
            .map(|s| s.to_string())
            .collect();
        runtimes.extend(names.iter().filter(|n| !ORDER.contains(&n.as_str())).cloned());
        let rows = reqs
            .iter()
            .enumerate()
            .map(|(r, req)| Row {
                id: req.id.to_string(),
                level: req.level.to_string(),
                what: req.what.to_string(),
                by_runtime: names
                    .iter()
                    .enumerate()
                    .filter_map(|(k, n)| raw.remove(&(r, k)).map(|o| (n.clone(), o)))
                    .collect(),
            })
            .collect();
        Results { runtimes, rows }
    }

    fn doc(id: &str) -> &str {
        id.split('/').next().unwrap_or(id)
    }

    /// `doc -> runtime -> (pass, fail, skip)`, documents in first-seen order.
    pub fn counts(&self) -> Vec<(String, Counts)> {
        let mut docs: Vec<(String, Counts)> = Vec::new();
        for row in &self.rows {
            let d = Self::doc(&row.id).to_string();
            let idx = match docs.iter().position(|(x, _)| *x == d) {
                Some(i) => i,
                None => {
                    docs.push((d, BTreeMap::new()));
                    docs.len() - 1
                }
            };
            for (rt, o) in &row.by_runtime {
                let e = docs[idx].1.entry(rt.clone()).or_default();
                match o {
                    Outcome::Pass => e.0 += 1,
                    Outcome::Fail(_) => e.1 += 1,
                    Outcome::Skip(_) => e.2 += 1,
                }
            }
        }
        let mut total = BTreeMap::new();
        for (_, m) in &docs {
            for (rt, (p, f, s)) in m {
                let e: &mut (usize, usize, usize) = total.entry(rt.clone()).or_default();
                e.0 += p;
                e.1 += f;
                e.2 += s;
            }
        }
        docs.push(("total".into(), total));
        docs
    }

    fn counts_table(&self, md: bool) -> String {
        let mut out = String::new();
        let head: Vec<String> = self.runtimes.iter().map(|r| format!("{r} pass/fail/skip")).collect();
        if md {
            out += &format!("| document | requirements | {} |\n", head.join(" | "));
            out += &format!("|---|---|{}\n", "---|".repeat(self.runtimes.len()));
        } else {
            out += &format!(
                "{:<20} {:>5}  {}\n",
                "document",
                "reqs",
                head.iter().map(|h| format!("{h:<28}")).collect::<String>()
            );
        }
        for (doc, m) in self.counts() {
            let n = if doc == "total" {
                self.rows.len()
            } else {
                self.rows.iter().filter(|r| Self::doc(&r.id) == doc).count()
            };
            let cells: Vec<String> = self
                .runtimes
                .iter()
                .map(|rt| {
                    let (p, f, s) = m.get(rt).copied().unwrap_or_default();
                    format!("{p} / {f} / {s}")
                })
                .collect();
            if md {
                out += &format!("| {doc} | {n} | {} |\n", cells.join(" | "));
            } else {
                out += &format!(
                    "{doc:<20} {n:>5}  {}\n",
                    cells.iter().map(|c| format!("{c:<28}")).collect::<String>()
                );
            }
        }
        out
    }

    pub fn text_table(&self) -> String {
        let mut out = String::new();
        out += &format!("{:<58} {:<6}", "requirement", "level");
        for rt in &self.runtimes {
            out += &format!(" | {rt:<38}");
        }
        out += "\n";
        for row in &self.rows {
            out += &format!("{:<58} {:<6}", row.id, row.level);
            for rt in &self.runtimes {
                let cell = row.by_runtime.get(rt).map_or("-".into(), |o| o.cell(32));
                out += &format!(" | {cell:<38}");
            }
            out += "\n";
        }
        out += "\n";
        out += &self.counts_table(false);
        out
    }

    pub fn markdown(&self) -> String {
        let mut out = String::from("# OCI runtime-spec requirement suite: results\n\n");
        out += "Generated by `conformance/scripts/spec-suite.sh --all` (see conformance/README.md).\n\n";
        out += &self.counts_table(true);
        out += &format!("\n| requirement | level | {} |\n", self.runtimes.join(" | "));
        out += &format!("|---|---|{}\n", "---|".repeat(self.runtimes.len()));
        for row in &self.rows {
            let cells: Vec<String> = self
                .runtimes
                .iter()
                .map(|rt| row.by_runtime.get(rt).map_or("-".into(), |o| o.cell(140)))
                .collect();
            out += &format!("| `{}` | {} | {} |\n", row.id, row.level, cells.join(" | "));
        }
        out
    }

    pub fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let res: serde_json::Map<String, Value> = r
                    .by_runtime
                    .iter()
                    .map(|(k, o)| (k.clone(), json!({"result": o.word(), "reason": o.reason()})))
                    .collect();
                json!({"id": r.id, "level": r.level, "requirement": r.what, "results": res})
            })
            .collect();
        let counts: serde_json::Map<String, Value> = self
            .counts()
            .into_iter()
            .map(|(d, m)| {
                let m: serde_json::Map<String, Value> = m
                    .into_iter()
                    .map(|(rt, (p, f, s))| (rt, json!({"pass": p, "fail": f, "skip": s})))
                    .collect();
                (d, Value::Object(m))
            })
            .collect();
        json!({"runtimes": self.runtimes, "counts": counts, "requirements": rows})
    }

    pub fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let j = dir.join("spec-results.json");
        let m = dir.join("spec-results.md");
        std::fs::write(&j, serde_json::to_string_pretty(&self.json()).expect("json"))
            .unwrap_or_else(|e| panic!("write {}: {e}", j.display()));
        std::fs::write(&m, self.markdown()).unwrap_or_else(|e| panic!("write {}: {e}", m.display()));
        println!("wrote {} and {}", j.display(), m.display());
    }

    /// The gate on runtime-cli's column. `complete`: every requirement ran (stale entries of
    /// the list are only reported then). Returns the problems (empty = gate passed).
    pub fn gate(&self, list: &Path, complete: bool) -> Vec<String> {
        let text = std::fs::read_to_string(list).unwrap_or_else(|e| panic!("read {}: {e}", list.display()));
        let mut expected: BTreeMap<String, String> = BTreeMap::new();
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            if reason.trim().is_empty() {
                problems.push(format!("{}:{}: `{id}` has no reason", list.display(), n + 1));
            }
            expected.insert(id.to_string(), reason.trim().to_string());
        }
        if !self.runtimes.iter().any(|r| r == "runtime-cli") {
            problems.push("the gate needs runtime-cli among the runtimes".into());
            return problems;
        }
        for row in &self.rows {
            let Some(ours) = row.by_runtime.get("runtime-cli") else {
                continue;
            };
            let peers: Vec<&str> = ["runc", "crun"]
                .into_iter()
                .filter(|p| row.by_runtime.get(*p).is_some_and(Outcome::passed))
                .collect();
            match (ours.passed(), expected.get(&row.id)) {
                (true, Some(_)) => problems.push(format!(
                    "{}: now PASSES on runtime-cli: remove it from {}",
                    row.id,
                    list.display()
                )),
                (false, None) => problems.push(format!(
                    "{}: runtime-cli {} ({}){} and it is not in {}",
                    row.id,
                    ours.word(),
                    one_line(ours.reason(), 160),
                    if peers.is_empty() {
                        String::new()
                    } else {
                        format!(", while {} meet it", peers.join(" and "))
                    },
                    list.display()
                )),
                _ => {}
            }
        }
        if complete {
            for id in expected.keys() {
                if !self.rows.iter().any(|r| &r.id == id) {
                    problems.push(format!("{id}: listed in {} but no such requirement", list.display()));
                }
            }
        }
        problems
    }
}
