//! Resource leaks over many lifecycles: 100 × create/start/wait/delete of `/bin/true` must leave
//! no mount (in this mount namespace), no process, no state directory and no cgroup behind.

use std::time::Duration;

use conformance::procfs::mountinfo;
use conformance::{wait_until, TestCtx};

const CYCLES: usize = 100;

#[test]
fn l01_100_lifecycles_leave_nothing() {
    // Exclusive: no other test of this binary runs while the mount table is compared.
    let Some(ctx) = TestCtx::new_exclusive("l01") else {
        return;
    };
    let b = ctx.bundle(&["/bin/true"]);
    let cg = b.cgroups_path();
    let before = mountinfo();
    let mut inits = Vec::with_capacity(CYCLES);
    for i in 0..CYCLES {
        let init = ctx.create_ok(&b, "leak");
        ctx.start_ok("leak");
        ctx.wait_status("leak", "stopped", Duration::from_secs(10));
        ctx.run(&["delete", "leak"]).assert_ok();
        let left = ctx.leftovers("leak", &cg, None);
        assert!(left.is_empty(), "cycle {i}: delete left:\n  {}", left.join("\n  "));
        inits.push(init);
    }
    let mut alive = Vec::new();
    wait_until(Duration::from_secs(5), || {
        alive = inits.iter().filter(|p| p.is_alive()).copied().collect();
        alive.is_empty()
    });
    assert!(alive.is_empty(), "container inits still alive after delete: {alive:?}");
    let after = mountinfo();
    let added: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    let removed: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    assert_eq!(
        before.len(),
        after.len(),
        "mount table changed over {CYCLES} lifecycles:\n added: {added:#?}\n removed: {removed:#?}"
    );
}
