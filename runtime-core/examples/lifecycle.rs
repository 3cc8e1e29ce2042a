//! Embed the runtime without the CLI: create a container from a bundle, start it, wait for
//! its init (a child of this process), and delete it.
//!
//! ```sh
//! cargo run --example lifecycle -- /path/to/bundle [state-root]
//! ```

use runtime_core::{CreateOptions, Runtime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bundle = args.next().ok_or("usage: lifecycle BUNDLE [STATE_ROOT]")?;
    let root = args.next().unwrap_or_else(|| "/run/runtime-cli-example".into());
    let id = format!("example-{}", std::process::id());

    let rt = Runtime::new(&root)?;
    let created = rt.create(&id, CreateOptions::new(&bundle))?;
    println!(
        "created {id}: init pid {}, status {}",
        created.pid,
        rt.state(&id)?.status
    );
    rt.start(&id)?;
    let code = rt.wait_child(created.pid)?;
    println!("exited with {code}, status {}", rt.state(&id)?.status);
    rt.delete(&id, false)?;
    println!("deleted");
    Ok(())
}
