//! Benchmark harness placeholder binary: the harness itself is built under the benchmark issue.
fn main() {
    eprintln!("benches: the lifecycle harness is not built yet (see the benchmark issue)");
    std::process::exit(2);
}
