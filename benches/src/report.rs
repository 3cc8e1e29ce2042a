//! Samples, medians, ratios: the printed table and the JSON document.

use serde_json::{json, Map, Value};

pub const CLI: &str = "runtime-cli";
pub const CRUN: &str = "crun";
pub const RUNC: &str = "runc";
pub const FLOOR: &str = "floor";
pub const LIBRARY: &str = "library (in-process)";
pub const CAPI: &str = "C API (libruntime)";

/// One measured quantity: samples per subject (runtime-cli, crun, runc, floor, library,
/// C API, `--also` runtimes).
#[derive(Debug)]
pub struct Metric {
    pub key: String,
    pub label: String,
    pub unit: &'static str,
    pub samples: Vec<(String, Vec<f64>)>,
}

impl Metric {
    pub fn new(key: &str, label: &str, unit: &'static str) -> Self {
        Metric {
            key: key.into(),
            label: label.into(),
            unit,
            samples: Vec::new(),
        }
    }

    pub fn push(&mut self, subject: &str, v: f64) {
        match self.samples.iter_mut().find(|(s, _)| s == subject) {
            Some((_, vs)) => vs.push(v),
            None => self.samples.push((subject.into(), vec![v])),
        }
    }

    pub fn median(&self, subject: &str) -> Option<f64> {
        self.samples
            .iter()
            .find(|(s, _)| s == subject)
            .and_then(|(_, v)| quantile(v, 0.5))
    }
}

/// The `q` quantile by linear interpolation between the closest ranks.
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let pos = q * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(s[lo] + (s[hi] - s[lo]) * (pos - lo as f64))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn cell(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "-".into(),
        Some(x) if unit == "ms" => format!("{x:.2}"),
        Some(x) => format!("{x:.0}"),
    }
}

fn rcell(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}x")).unwrap_or_else(|| "-".into())
}

/// The result table (Markdown, so the README can hold it as printed).
/// `extra` names more runtimes (`--also`), shown after the ratios with their own
/// runtime-cli/extra ratio.
pub fn table(metrics: &[Metric], floor_keys: &[&str], extra: &[&str]) -> String {
    let floor = metrics.iter().find(|m| m.key == "floor").and_then(|m| m.median(FLOOR));
    let mut out = String::new();
    out.push_str("| measurement (median) | unit | runtime-cli | crun | runc | cli/crun | cli/runc | cli/floor |");
    for e in extra {
        out.push_str(&format!(" {e} | cli/{e} |"));
    }
    out.push_str("\n|---|---|---:|---:|---:|---:|---:|---:|");
    out.push_str(&"---:|---:|".repeat(extra.len()));
    out.push('\n');
    for m in metrics.iter().filter(|m| m.key != "floor") {
        let (c, cr, r) = (m.median(CLI), m.median(CRUN), m.median(RUNC));
        if c.is_none() && cr.is_none() && r.is_none() {
            continue;
        }
        let vs_floor = if floor_keys.contains(&m.key.as_str()) {
            rcell(ratio(c, floor))
        } else {
            "-".into()
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            m.label,
            m.unit,
            cell(c, m.unit),
            cell(cr, m.unit),
            cell(r, m.unit),
            rcell(ratio(c, cr)),
            rcell(ratio(c, r)),
            vs_floor
        ));
        for e in extra {
            let x = m.median(e);
            out.push_str(&format!(" {} | {} |", cell(x, m.unit), rcell(ratio(c, x))));
        }
        out.push('\n');
    }
    out
}

/// The lines below the table: the floor, the lifecycle by path (CLI, C API, library), the
/// create-cost slope.
pub fn notes(metrics: &[Metric], scale_keys: &[String]) -> String {
    let get = |k: &str| metrics.iter().find(|m| m.key == k);
    let mut out = String::new();
    let floor = get("floor").and_then(|m| m.median(FLOOR));
    if let Some(f) = floor {
        out.push_str(&format!(
            "floor (unshare + chroot + exec /bin/true, same namespaces): {f:.2} ms\n"
        ));
    }
    if let Some(lc) = get("lifecycle") {
        out.push_str(&paths_table(lc, get("lifecycle_cpu"), floor));
    }
    if let (Some(first), Some(last)) = (scale_keys.first(), scale_keys.last()) {
        if first != last {
            if let (Some(a), Some(b)) = (get(first), get(last)) {
                out.push_str(&format!("create cost growth ({} / {}):", b.label, a.label));
                for s in [CLI, CRUN, RUNC] {
                    out.push_str(&format!(" {s} {}", rcell(ratio(b.median(s), a.median(s)))));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// create+start+wait+delete by path: the runtime-cli CLI, the C API and the library, with
/// their ratios to the CLI, to crun and to the floor.
fn paths_table(lc: &Metric, cpu: Option<&Metric>, floor: Option<f64>) -> String {
    let cli = lc.median(CLI);
    let mut out = String::from(
        "\n| create+start+wait+delete (median) | ms | CPU ms | x runtime-cli CLI | x crun | x floor |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    let mut any = false;
    for (subject, label) in [
        (CLI, "runtime-cli CLI (4 processes)"),
        (CAPI, "C API (libruntime)"),
        (LIBRARY, "library (in-process, runtime-core)"),
    ] {
        let v = lc.median(subject);
        if v.is_none() {
            continue;
        }
        any |= subject != CLI;
        out.push_str(&format!(
            "| {label} | {} | {} | {} | {} | {} |\n",
            cell(v, "ms"),
            cell(cpu.and_then(|m| m.median(subject)), "ms"),
            rcell(ratio(v, cli)),
            rcell(ratio(v, lc.median(CRUN))),
            rcell(ratio(v, floor)),
        ));
    }
    if any {
        out.push('\n');
        out
    } else {
        String::new()
    }
}

pub fn json(metrics: &[Metric], floor_keys: &[&str], header: Value) -> Value {
    let floor = metrics.iter().find(|m| m.key == "floor").and_then(|m| m.median(FLOOR));
    let ms: Vec<Value> = metrics
        .iter()
        .map(|m| {
            let mut medians = Map::new();
            let mut samples = Map::new();
            for (s, v) in &m.samples {
                medians.insert(s.clone(), json!(quantile(v, 0.5)));
                samples.insert(s.clone(), json!(v));
            }
            let c = m.median(CLI);
            let mut ratios = Map::new();
            for (name, other) in [("cli/crun", m.median(CRUN)), ("cli/runc", m.median(RUNC))] {
                if let Some(r) = ratio(c, other) {
                    ratios.insert(name.into(), json!(r));
                }
            }
            for (s, _) in &m.samples {
                if ![CLI, CRUN, RUNC, FLOOR, LIBRARY, CAPI].contains(&s.as_str()) {
                    if let Some(r) = ratio(c, m.median(s)) {
                        ratios.insert(format!("cli/{s}"), json!(r));
                    }
                }
            }
            if floor_keys.contains(&m.key.as_str()) {
                if let Some(r) = ratio(c, floor) {
                    ratios.insert("cli/floor".into(), json!(r));
                }
                if let Some(r) = ratio(m.median(LIBRARY), c) {
                    ratios.insert("library/cli".into(), json!(r));
                }
                if let Some(r) = ratio(m.median(LIBRARY), floor) {
                    ratios.insert("library/floor".into(), json!(r));
                }
                if let Some(r) = ratio(m.median(CAPI), c) {
                    ratios.insert("capi/cli".into(), json!(r));
                }
                if let Some(r) = ratio(m.median(CAPI), m.median(CRUN)) {
                    ratios.insert("capi/crun".into(), json!(r));
                }
                if let Some(r) = ratio(m.median(CAPI), floor) {
                    ratios.insert("capi/floor".into(), json!(r));
                }
            }
            json!({"key": m.key, "label": m.label, "unit": m.unit, "median": medians,
                   "ratios": ratios, "samples": samples})
        })
        .collect();
    let mut doc = header;
    doc["metrics"] = Value::Array(ms);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[4.0, 1.0, 2.0, 3.0], 0.5), Some(2.5));
    }

    #[test]
    fn notes_have_the_c_api_row() {
        let mut lc = Metric::new("lifecycle", "create+start+wait+delete", "ms");
        for (s, v) in [(CLI, 40.0), (CRUN, 50.0), (RUNC, 100.0), (CAPI, 20.0), (LIBRARY, 30.0)] {
            lc.push(s, v);
        }
        let mut f = Metric::new("floor", "floor", "ms");
        f.push(FLOOR, 10.0);
        let ms = [lc, f];
        let n = notes(&ms, &[]);
        assert!(
            n.contains("| C API (libruntime) | 20.00 | - | 0.50x | 0.40x | 2.00x |"),
            "{n}"
        );
        assert!(
            n.contains("| library (in-process, runtime-core) | 30.00 | - | 0.75x | 0.60x | 3.00x |"),
            "{n}"
        );
        let doc = json(&ms, &["lifecycle"], json!({}));
        let r = &doc["metrics"][0]["ratios"];
        assert_eq!(
            (r["capi/cli"].as_f64(), r["capi/floor"].as_f64()),
            (Some(0.5), Some(2.0)),
            "{r}"
        );
        assert_eq!(doc["metrics"][0]["median"][CAPI].as_f64(), Some(20.0));
    }

    #[test]
    fn table_has_ratios() {
        let mut m = Metric::new("run", "run /bin/true", "ms");
        for (s, v) in [(CLI, 4.0), (CRUN, 8.0), (RUNC, 20.0)] {
            m.push(s, v);
        }
        let mut f = Metric::new("floor", "floor", "ms");
        f.push(FLOOR, 2.0);
        let t = table(&[m, f], &["run"], &[]);
        assert!(
            t.contains("| run /bin/true | ms | 4.00 | 8.00 | 20.00 | 0.50x | 0.20x | 2.00x |"),
            "{t}"
        );
    }
}
