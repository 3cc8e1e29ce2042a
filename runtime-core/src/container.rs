//! The lifecycle verbs. Each verb works from a fresh process given only the state root and
//! the id; writers serialize on the container's lock (see [`crate::state`]).

use std::fs;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::cgroups::{self, CgroupSet};
use crate::error::{Error, Result};
use crate::hooks::{self, HookKind};
use crate::init::{self, ChildFds};
use crate::plan::{self, LaunchPlan, PlanOptions, SpawnMode};
use crate::protocol::{ChildMsg, ParentMsg, MAX_MSG};
use crate::spec;
use crate::state::{self, ContainerState, Phase, Root, StateFile, Status, EXEC_FIFO};

/// Options of `create` that come from the caller rather than `config.json`.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    /// Socket-activation fds to pass on (the caller's `LISTEN_FDS`, when `LISTEN_PID` is
    /// the caller): fds 3..3+n, before the preserved ones.
    pub listen_fds: u32,
    /// runc's `--systemd-cgroup`: `cgroupsPath` is `slice:prefix:name` and systemd owns
    /// the cgroup.
    pub systemd_cgroup: bool,
    /// Descriptors that become the init's stdin, stdout and stderr instead of the caller's.
    pub stdio: Option<StdioFds>,
}

/// Three descriptors (stdin, stdout, stderr) dup2'd onto 0, 1, 2 in the child right before
/// its credentials change, for embedders that do not want the process to share their own
/// stdio (the C API). Shared so that options stay cheap to clone.
pub type StdioFds = std::sync::Arc<[OwnedFd; 3]>;

/// Refuse stdio descriptors together with a terminal: the pty is the process's stdio then.
pub(crate) fn check_stdio(stdio: &Option<StdioFds>, terminal: bool) -> Result<()> {
    if stdio.is_some() && terminal {
        return Err(Error::InvalidArgument(
            "stdio descriptors cannot be combined with process.terminal".into(),
        ));
    }
    Ok(())
}

impl CreateOptions {
    pub fn new(bundle: impl Into<PathBuf>) -> Self {
        CreateOptions {
            bundle: bundle.into(),
            ..Default::default()
        }
    }
}

/// A container that `create` left waiting for `start`.
#[derive(Debug)]
pub struct Created {
    /// Host pid of the init, a child of the calling process until the caller exits.
    pub pid: Pid,
    /// A pidfd of the init.
    pub pidfd: Option<OwnedFd>,
}

/// A state root and the verbs that act on the containers in it.
#[derive(Debug, Clone)]
pub struct Runtime {
    root: Root,
    rootless: bool,
}

impl Runtime {
    /// Use `root` (made absolute against the current directory; `/` is refused) as the state
    /// root. Nothing is created until a container is.
    pub fn new(root: impl AsRef<Path>) -> Result<Self> {
        let abs = spec::absolute(root.as_ref())?;
        if abs == Path::new("/") {
            return Err(Error::InvalidArgument("--root must not be /".into()));
        }
        Ok(Runtime {
            root: Root::new(abs),
            rootless: !nix::unistd::geteuid().is_root() || crate::in_user_namespace(),
        })
    }

    /// Rootless mode (runc's `--rootless`): cgroups that cannot be created are skipped when
    /// the config sets no resource limits. The default is on when not running as root, or as
    /// root of a user namespace that is not the initial one (runc's rule).
    pub fn set_rootless(&mut self, on: bool) {
        self.rootless = on;
    }

    /// Whether rootless mode is on.
    pub fn is_rootless(&self) -> bool {
        self.rootless
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Create a container from a bundle: everything is set up and the init waits for
    /// [`Runtime::start`]. On failure nothing is left behind.
    pub fn create(&self, id: &str, opts: CreateOptions) -> Result<Created> {
        self.create_impl(id, opts, None, false).map(|(c, _, _)| c)
    }

    /// `create`; with `proxy` (one end of a socket pair, for a foreground `run`), a
    /// terminal's master goes there instead of to a console socket. `start_now` is `run`'s
    /// create and start in one: the start byte is in the FIFO before the init is spawned, so
    /// the init goes on to exec as soon as it is ready instead of sleeping until a separate
    /// `start` wakes it; the FIFO is removed and the poststart hooks run before returning.
    /// Not with startContainer hooks, which must run before the byte. Returns whether the
    /// process has a terminal and whether it was started.
    fn create_impl(
        &self,
        id: &str,
        opts: CreateOptions,
        proxy: Option<OwnedFd>,
        start_now: bool,
    ) -> Result<(Created, bool, bool)> {
        spec::validate_id(id)?;
        let checked = spec::load(&opts.bundle)?;
        let s = checked.spec();
        let process = s.process().as_ref().expect("validated");
        let terminal = process.terminal().unwrap_or(false);
        let start_now = start_now
            && s.hooks()
                .as_ref()
                .and_then(|h| h.start_container().as_ref())
                .is_none_or(|v| v.is_empty());
        match (terminal, &opts.console_socket) {
            (true, None) if proxy.is_some() => {}
            (true, None) => {
                return Err(Error::InvalidArgument(
                    "cannot allocate tty if runc will detach without setting console socket".into(),
                ))
            }
            (false, Some(_)) => {
                return Err(Error::InvalidArgument(
                    "cannot use console socket if runc will not detach or allocate tty".into(),
                ))
            }
            (true, Some(_)) => {}
            (false, None) => {}
        }
        check_stdio(&opts.stdio, terminal)?;
        if self.root.dir(id).exists() {
            return Err(Error::AlreadyExists(id.to_string()));
        }
        let linux = s.linux().as_ref().expect("validated");
        let cg_path = linux
            .cgroups_path()
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if opts.systemd_cgroup {
            let unit = cgroups::systemd_path(&cg_path, id)
                .map_err(|e| Error::config(checked.bundle().join("config.json"), "linux.cgroupsPath", e))?;
            if !Path::new("/run/systemd/system").exists() {
                return Err(Error::NotSupported(format!(
                    "--systemd-cgroup: systemd is not running on this host (no /run/systemd/system), so the unit for {} cannot be created; the systemd cgroup driver",
                    unit.display()
                )));
            }
            return Err(Error::NotSupported(
                "--systemd-cgroup: the systemd cgroup driver (use the cgroupfs driver: no --systemd-cgroup)".into(),
            ));
        }
        let (hs, dirs) = cgroups::plan(&cg_path, id)?;
        // Rootless without a delegated, writable cgroup and nothing to limit: no cgroup of our
        // own (runc's rootless behaviour); a `cgroup` mount shows the caller's cgroups.
        let no_cgroup = self.rootless && !has_limits(linux.resources().as_ref()) && !cgroups::creatable(&hs, &dirs);
        let (dirs, mount_dirs) = if no_cgroup {
            (vec![], cgroups::own_dirs(&hs)?)
        } else {
            (dirs.clone(), dirs)
        };
        let plan_opts = PlanOptions {
            no_pivot: opts.no_pivot,
            no_new_keyring: opts.no_new_keyring,
            preserve_fds: opts.preserve_fds,
            listen_fds: opts.listen_fds,
            cgroups: hs
                .iter()
                .cloned()
                .zip(mount_dirs.iter().cloned())
                .filter(|(h, _)| !h.controllers.is_empty() || h.v2)
                .collect(),
        };
        let plan = plan::build(&checked, &plan_opts)?;
        crate::testpoint::hit("create:validated");

        // Record the container (and the cgroup directories it is about to create) before
        // anything exists, so that `delete --force` can clean up after a crash at any point.
        let mut st = StateFile {
            oci_version: s.version().clone(),
            id: id.to_string(),
            phase: Phase::Creating,
            pid: 0,
            pid_start_time: 0,
            bundle: checked.bundle().to_path_buf(),
            rootfs: checked.rootfs().to_path_buf(),
            created: String::new(),
            annotations: s.annotations().clone().filter(|a| !a.is_empty()),
            cgroup: CgroupSet {
                dirs: dirs.clone(),
                created: cgroups::missing(&hs, &dirs),
            },
            private_pid_ns: plan.private_pid_ns,
            init_named: true,
            hooks: s
                .hooks()
                .clone()
                .map(|h| hooks::with_default_env(h, process.env().as_deref())),
            seccomp: linux.seccomp().clone(),
            resources: linux.resources().clone(),
        };
        let locked = self.root.reserve(&st)?;
        crate::testpoint::hit("create:reserved");
        let result = (|| -> Result<Created> {
            st.cgroup = match cgroups::create(&hs, &dirs) {
                Ok(_) if no_cgroup => CgroupSet::default(),
                Ok(set) => set,
                // Rootless without a delegated, writable cgroup: nothing to limit, so run
                // without a cgroup of our own (runc's rootless behaviour).
                Err(_) if self.rootless && !has_limits(linux.resources().as_ref()) => CgroupSet::default(),
                Err(e) => return Err(e),
            };
            crate::testpoint::hit("create:cgroups");
            if !st.cgroup.dirs.is_empty() {
                let rules = device_rules(linux);
                let layout = cgroups::resources::Layout::new(&hs, &st.cgroup.dirs);
                cgroups::resources::apply(&layout, &linux.resources().clone().unwrap_or_default(), Some(&rules))?;
            }
            let fifo = make_fifo(&locked.dir)?;
            if start_now {
                nix::unistd::write(&fifo, &[0]).map_err(|e| Error::sys("writing the start byte to exec.fifo", e))?;
            }
            let console = match &opts.console_socket {
                Some(p) => Some(connect_console(p)?),
                None if terminal => proxy,
                None => None,
            };
            let hooks_at = |pid: Pid| -> Result<()> {
                if !plan.net_devices.is_empty() {
                    let path = PathBuf::from(format!("/proc/{pid}/ns/net"));
                    let ns = fs::File::open(&path).map_err(|e| Error::io("opening", &path, e))?;
                    crate::netdev::move_all(&plan.net_devices, ns.as_fd()).map_err(|(m, e)| Error::sys(m, e))?;
                }
                let Some(h) = s.hooks() else { return Ok(()) };
                let state = hooks::state_json(id, pid.as_raw(), "created", &st.bundle, st.annotations.as_ref());
                hooks::run_hooks(HookKind::Prestart, h.prestart().as_deref().unwrap_or(&[]), &state)?;
                hooks::run_hooks(
                    HookKind::CreateRuntime,
                    h.create_runtime().as_deref().unwrap_or(&[]),
                    &state,
                )?;
                if let Some(cc) = h.create_container().as_deref().filter(|v| !v.is_empty()) {
                    // In the container's namespaces, before pivot_root: the path resolves in
                    // the runtime's view, the working directory is the rootfs (as runc).
                    let state = hooks::state_json(
                        id,
                        hooks::pid_inside(pid),
                        "created",
                        &st.bundle,
                        st.annotations.as_ref(),
                    );
                    let place = hooks::Inside::new(pid, &st.cgroup.dirs, &st.rootfs);
                    hooks::run_hooks_inside(HookKind::CreateContainer, cc, &state, &place)?;
                }
                Ok(())
            };
            let listener_at = |pid: Pid, fd: OwnedFd| -> Result<()> {
                let Some(l) = &plan.process.seccomp_listener else {
                    return Err(Error::InitDied("unexpected seccomp listener".into()));
                };
                let state = hooks::state_json(id, pid.as_raw(), "creating", &st.bundle, st.annotations.as_ref());
                crate::seccomp::send_to_listener(l, pid.as_raw(), &state, fd.as_fd())
            };
            let created = spawn(
                &plan,
                &st.cgroup,
                fifo,
                console,
                opts.stdio.as_deref(),
                &hooks_at,
                &listener_at,
                locked.raw_fd(),
            )?;
            crate::testpoint::hit("create:ready");
            st.pid = created.pid.as_raw();
            st.pid_start_time = state::proc_start_time(created.pid).map(|(t, _)| t).unwrap_or(0);
            st.phase = Phase::Created;
            st.created = state::now_rfc3339();
            state::write_state(&locked.dir, &st)?;
            crate::testpoint::hit("create:saved");
            if let Some(pf) = &opts.pid_file {
                write_pid_file(pf, created.pid)?;
            }
            if start_now {
                let fifo = locked.dir.join(EXEC_FIFO);
                fs::remove_file(&fifo).map_err(|e| Error::io("removing", &fifo, e))?;
                poststart(&st)?;
            }
            Ok(created)
        })();
        match result {
            Ok(c) => Ok((c, terminal, start_now)),
            Err(e) => {
                destroy(&st, &locked.dir);
                // runtime.md lifecycle: a failed create continues at "destroy" (step 12) and
                // then runs the poststop hooks (step 13), whose failures are only warnings.
                if let Some(post) = st
                    .hooks
                    .as_ref()
                    .and_then(|h| h.poststop().as_deref())
                    .filter(|p| !p.is_empty())
                {
                    let state = hooks::state_json(id, 0, "stopped", &st.bundle, st.annotations.as_ref());
                    let _warnings = hooks::run_poststop(post, &state);
                }
                Err(e)
            }
        }
    }

    /// Let a created container run its program.
    pub fn start(&self, id: &str) -> Result<()> {
        spec::validate_id(id)?;
        let locked = self.root.lock(id)?.ok_or_else(|| Error::NotExist(id.to_string()))?;
        crate::testpoint::hit("start:locked");
        let st = self.load_visible(id)?;
        match status_of(&st, &locked.dir) {
            Status::Created => {}
            Status::Stopped => return Err(Error::wrong_state(id, "cannot start a container that has stopped")),
            Status::Running => return Err(Error::wrong_state(id, "cannot start an already running container")),
            Status::Paused => return Err(Error::wrong_state(id, "cannot start a container in the paused state")),
        }
        let fifo = locked.dir.join(EXEC_FIFO);
        let f = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&fifo);
        let mut f = match f {
            Ok(f) => f,
            // No reader: the init died while waiting.
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                return Err(Error::wrong_state(id, "cannot start a container that has stopped"))
            }
            Err(e) => return Err(Error::io("opening", &fifo, e)),
        };
        if let Some(sc) = st
            .hooks
            .as_ref()
            .and_then(|h| h.start_container().as_deref())
            .filter(|v| !v.is_empty())
        {
            // Inside the container after pivot_root, before the program runs (the byte is
            // not written yet): a failure fails `start` and stops the container.
            let pid = Pid::from_raw(st.pid);
            let state = hooks::state_json(
                id,
                hooks::pid_inside(pid),
                "created",
                &st.bundle,
                st.annotations.as_ref(),
            );
            let place = hooks::Inside::new(pid, &st.cgroup.dirs, Path::new("/"));
            if let Err(e) = hooks::run_hooks_inside(HookKind::StartContainer, sc, &state, &place) {
                let _ = signal_init(&st, libc::SIGKILL);
                return Err(e);
            }
        }
        f.write_all(&[0]).map_err(|e| Error::io("writing", &fifo, e))?;
        crate::testpoint::hit("start:signalled");
        wait_for_exec(&f);
        fs::remove_file(&fifo).map_err(|e| Error::io("removing", &fifo, e))?;
        if let Err(e) = poststart(&st) {
            // A failed poststart hook stops the container (runtime spec 1.1, runc).
            let _ = signal_init(&st, libc::SIGKILL);
            return Err(e);
        }
        Ok(())
    }

    /// The state of one container.
    pub fn state(&self, id: &str) -> Result<ContainerState> {
        spec::validate_id(id)?;
        let st = self.load_visible(id)?;
        Ok(public_state(&st, &self.root.dir(id), String::new()))
    }

    /// Every container in the root. Entries that fail to load are returned as errors beside
    /// the list, so that one bad entry does not hide the rest.
    pub fn list(&self) -> Result<(Vec<ContainerState>, Vec<Error>)> {
        let mut out = Vec::new();
        let mut errs = Vec::new();
        self.list_each(|r| match r {
            Ok(s) => out.push(s),
            Err(e) => errs.push(e),
        })?;
        Ok((out, errs))
    }

    /// [`Runtime::list`] one entry at a time, in id order, holding only the current entry:
    /// the memory of `list` does not grow with the number of containers.
    pub fn list_each(&self, f: impl FnMut(Result<ContainerState>)) -> Result<()> {
        self.list_entries(true, f)
    }

    /// A cheaper [`Runtime::list_each`] for a pass that needs only what the state file
    /// records (the ids, bundles, created times; e.g. to size table columns, or `list -q`):
    /// the same entries and errors, but nothing live is checked: `pid` is the recorded one,
    /// `status` is always `stopped` and `owner` is empty.
    pub fn list_each_brief(&self, f: impl FnMut(Result<ContainerState>)) -> Result<()> {
        self.list_entries(false, f)
    }

    fn list_entries(&self, full: bool, mut f: impl FnMut(Result<ContainerState>)) -> Result<()> {
        let Some(dirs) = state::ListDirs::open(self.root.path())? else {
            return Ok(());
        };
        // One /etc/passwd lookup per owner, not per container.
        let mut owners: std::collections::HashMap<u32, String> = std::collections::HashMap::new();
        // One read buffer for every state file; only the fields list prints are parsed.
        let mut buf = Vec::with_capacity(8192);
        for id in self.root.ids()? {
            match dirs.read_summary(&id, &mut buf) {
                Ok((st, _)) if st.phase == Phase::Creating => {}
                Ok((st, uid)) => {
                    let (status, owner) = if full {
                        let owner = owners.entry(uid).or_insert_with(|| state::owner_name(uid)).clone();
                        (list_status(&dirs, &id, &st), owner)
                    } else {
                        (Status::Stopped, String::new())
                    };
                    f(Ok(ContainerState {
                        oci_version: st.oci_version,
                        id: st.id,
                        pid: if status == Status::Stopped && full { 0 } else { st.pid },
                        status,
                        bundle: st.bundle,
                        rootfs: st.rootfs,
                        created: st.created,
                        annotations: st.annotations,
                        owner,
                    }));
                }
                Err(Error::NotExist(_)) => {}
                Err(e) => f(Err(e)),
            }
        }
        Ok(())
    }

    /// Send a signal to the init (or, with `all`, to every process in the container's cgroup).
    pub fn kill(&self, id: &str, sig: i32, all: bool) -> Result<()> {
        spec::validate_id(id)?;
        let signal = Signal::try_from(sig).ok();
        let locked = self.root.lock(id)?.ok_or_else(|| Error::NotExist(id.to_string()))?;
        let st = self.load_visible(id)?;
        let status = status_of(&st, &locked.dir);
        if all {
            if let Some(s) = signal {
                cgroups::signal_all(&st.cgroup, s);
            }
            if status != Status::Stopped {
                signal_init(&st, sig)?;
            }
            return Ok(());
        }
        if status == Status::Stopped {
            return Err(Error::wrong_state(id, "container not running"));
        }
        signal_init(&st, sig)?;
        if sig == libc::SIGKILL && !st.private_pid_ns {
            // Without a private pid namespace the init's death does not take the rest along.
            cgroups::signal_all(&st.cgroup, Signal::SIGKILL);
        }
        if sig == libc::SIGKILL && status == Status::Paused {
            // A frozen task does not die until it is thawed (cgroup v1).
            cgroups::thaw(&st.cgroup);
        }
        Ok(())
    }

    /// Delete a container; see the CLI contract for the rules per status.
    /// Failures of poststop hooks do not fail the delete (runtime spec): use
    /// [`Runtime::delete_reporting`] to see them.
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        self.delete_reporting(id, force).map(drop)
    }

    /// [`Runtime::delete`], returning the poststop hook failures as warnings.
    pub fn delete_reporting(&self, id: &str, force: bool) -> Result<Vec<Error>> {
        spec::validate_id(id)?;
        self.root.sweep_stale();
        let Some(locked) = self.root.lock(id)? else {
            return if force {
                Ok(vec![])
            } else {
                Err(Error::NotExist(id.to_string()))
            };
        };
        crate::testpoint::hit("delete:locked");
        let st = match state::read_state(&locked.dir, id) {
            Ok(st) => st,
            Err(e) => {
                // A damaged state file may hide a running container: only --force goes on.
                if !force && !matches!(e, Error::NotExist(_)) {
                    return Err(e);
                }
                // No (or an unreadable) state: a leftover of a crashed create, or a state
                // file damaged by hand. What `create` recorded first still names the cgroups
                // (and so every process) to clean up.
                match state::read_recovery(&locked.dir, id) {
                    Ok(first) => destroy(&first, &locked.dir),
                    Err(_) => drop(fs::remove_dir_all(&locked.dir)),
                }
                return if force { Ok(vec![]) } else { Err(e) };
            }
        };
        if st.phase == Phase::Creating {
            destroy(&st, &locked.dir);
            return if force {
                Ok(vec![])
            } else {
                Err(Error::NotExist(id.to_string()))
            };
        }
        match status_of(&st, &locked.dir) {
            Status::Stopped => {}
            Status::Created => kill_and_wait(&st)?,
            s @ (Status::Running | Status::Paused) => {
                if !force {
                    return Err(Error::wrong_state(
                        id,
                        format!("cannot delete container {id} that is not stopped: {s}"),
                    ));
                }
                kill_and_wait(&st)?;
            }
        }
        crate::testpoint::hit("delete:killed");
        destroy(&st, &locked.dir);
        let post = st.hooks.as_ref().and_then(|h| h.poststop().as_deref()).unwrap_or(&[]);
        if post.is_empty() {
            return Ok(vec![]);
        }
        let state = hooks::state_json(id, 0, "stopped", &st.bundle, st.annotations.as_ref());
        Ok(hooks::run_poststop(post, &state))
    }

    /// Freeze every process of the container (runc allows it for created and running).
    pub fn pause(&self, id: &str) -> Result<()> {
        spec::validate_id(id)?;
        let locked = self.root.lock(id)?.ok_or_else(|| Error::NotExist(id.to_string()))?;
        let st = self.load_visible(id)?;
        match status_of(&st, &locked.dir) {
            Status::Running | Status::Created => cgroups::freeze(&st.cgroup),
            _ => Err(Error::wrong_state(id, "container not running")),
        }
    }

    /// Thaw a paused container.
    pub fn resume(&self, id: &str) -> Result<()> {
        spec::validate_id(id)?;
        let locked = self.root.lock(id)?.ok_or_else(|| Error::NotExist(id.to_string()))?;
        let st = self.load_visible(id)?;
        match status_of(&st, &locked.dir) {
            Status::Paused => {
                cgroups::thaw(&st.cgroup);
                Ok(())
            }
            _ => Err(Error::wrong_state(id, "container not paused")),
        }
    }

    /// Change the resource limits of a live container: the fields set in `r` are written
    /// (devices are not updated, as in runc) and the merged resources saved in the state.
    pub fn update(&self, id: &str, r: &oci_spec::runtime::LinuxResources) -> Result<()> {
        use cgroups::resources;
        spec::validate_id(id)?;
        spec::validate_resources(r, "resources")?;
        let locked = self.root.lock(id)?.ok_or_else(|| Error::NotExist(id.to_string()))?;
        let mut st = self.load_visible(id)?;
        if status_of(&st, &locked.dir) == Status::Stopped {
            return Err(Error::wrong_state(id, "container not running"));
        }
        let layout = resources::Layout::of(&st.cgroup.dirs)?;
        let all = resources::merged(st.resources.as_ref(), r);
        if let Some(limit) = r.memory().and_then(|m| m.limit()).filter(|l| *l > 0) {
            if all.memory().and_then(|m| m.check_before_update()) == Some(true) {
                let usage = cgroups::stats::collect(&layout).memory.usage.usage;
                if usage > limit as u64 {
                    return Err(Error::InvalidArgument(format!(
                        "memory.limit {limit} is below the container's current memory usage {usage} (checkBeforeUpdate)"
                    )));
                }
            }
        }
        let eff = resources::merge_for_update(st.resources.as_ref(), r);
        resources::apply(&layout, &eff, None)?;
        st.resources = Some(all);
        state::write_state(&locked.dir, &st)
    }

    /// Resource usage of a container's cgroup (runc's `events --stats` data).
    pub fn stats(&self, id: &str) -> Result<cgroups::stats::Stats> {
        spec::validate_id(id)?;
        let st = self.load_visible(id)?;
        if self.status(&st) == Status::Stopped {
            return Err(Error::wrong_state(id, format!("container with id {id} is not running")));
        }
        let layout = cgroups::resources::Layout::of(&st.cgroup.dirs)?;
        Ok(cgroups::stats::collect(&layout))
    }

    /// runc's `events`: a `stats` event every `interval` and an `oom` event whenever the
    /// kernel's OOM killer kills a task of the container, until the container stops or
    /// `emit` returns false. With `stats_only`, one `stats` event and return.
    pub fn events(
        &self,
        id: &str,
        interval: Duration,
        stats_only: bool,
        emit: &mut dyn FnMut(&Event) -> bool,
    ) -> Result<()> {
        let first = self.stats(id)?;
        let ev = |typ: &'static str, data| Event {
            typ,
            id: id.to_string(),
            data,
        };
        if stats_only {
            emit(&ev("stats", Some(first)));
            return Ok(());
        }
        if interval.is_zero() {
            return Err(Error::InvalidArgument(
                "duration interval must be greater than 0".into(),
            ));
        }
        let st = self.load_visible(id)?;
        let layout = cgroups::resources::Layout::of(&st.cgroup.dirs)?;
        let mut ooms = cgroups::stats::oom_kills(&layout).unwrap_or(0);
        let mut next_stats = Instant::now();
        loop {
            if !state::init_alive(&st) || st.cgroup.dirs.iter().all(|d| !d.exists()) {
                return Ok(());
            }
            let now_ooms = cgroups::stats::oom_kills(&layout).unwrap_or(ooms);
            if now_ooms > ooms {
                ooms = now_ooms;
                if !emit(&ev("oom", None)) {
                    return Ok(());
                }
            }
            if Instant::now() >= next_stats {
                next_stats = Instant::now() + interval;
                if !emit(&ev("stats", Some(cgroups::stats::collect(&layout)))) {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50).min(interval));
        }
    }

    /// Host pids of every process in the container's cgroup (empty once it is gone).
    pub fn pids(&self, id: &str) -> Result<Vec<Pid>> {
        spec::validate_id(id)?;
        let st = self.load_visible(id)?;
        Ok(cgroups::pids(&st.cgroup))
    }

    /// Fail with "does not exist" for an unknown id, "container not running" for a stopped
    /// one; for verbs that need a live container.
    pub fn require_running(&self, id: &str) -> Result<()> {
        spec::validate_id(id)?;
        let st = self.load_visible(id)?;
        if self.status(&st) == Status::Stopped {
            return Err(Error::wrong_state(id, "container not running"));
        }
        Ok(())
    }

    /// Wait for a child of this process (the init after `create`, before the caller exits)
    /// and return its exit code, `128 + signal` when it was killed.
    pub fn wait_child(&self, pid: Pid) -> Result<i32> {
        loop {
            match waitpid(pid, None) {
                Ok(WaitStatus::Exited(_, c)) => return Ok(c),
                Ok(WaitStatus::Signaled(_, s, _)) => return Ok(128 + s as i32),
                Ok(_) => continue,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys(format!("waiting for pid {pid}"), e)),
            }
        }
    }

    /// `run`: create and start; in the foreground, forward signals to the init, wait for it,
    /// delete the container (unless `keep`) and return its exit code.
    pub fn run(&self, id: &str, opts: CreateOptions, run: RunOptions) -> Result<i32> {
        // In the foreground without a console socket, a terminal is proxied to our stdio.
        let (ours, theirs) = match (run.detach, &opts.console_socket) {
            (false, None) => {
                let (a, b) = crate::ttyproxy::pair()?;
                (Some(a), Some(b))
            }
            _ => (None, None),
        };
        let (created, terminal, started) = self.create_impl(id, opts, theirs, true)?;
        let master = match (terminal, &ours) {
            (true, Some(sock)) => match crate::ttyproxy::receive_master(sock.as_fd()) {
                Ok(m) => Some(m),
                Err(e) => {
                    let _ = self.delete(id, true);
                    return Err(e);
                }
            },
            _ => None,
        };
        drop(ours);
        if !started {
            if let Err(e) = self.start(id) {
                let _ = self.delete(id, true);
                return Err(e);
            }
        }
        if run.detach {
            return Ok(0);
        }
        if !run.no_subreaper {
            let _ = nix::sys::prctl::set_child_subreaper(true);
        }
        let code = match master {
            Some(m) => crate::ttyproxy::proxy_until_exit(m, created.pid),
            None => forward_signals_until_exit(created.pid),
        };
        if !run.keep {
            let _ = self.delete(id, true);
        }
        Ok(code)
    }

    /// The live status of a loaded container.
    pub(crate) fn status(&self, st: &StateFile) -> Status {
        status_of(st, &self.root.dir(&st.id))
    }

    /// Load a state that `create` has finished writing.
    pub(crate) fn load_visible(&self, id: &str) -> Result<StateFile> {
        let st = self.root.load(id)?;
        if st.phase == Phase::Creating {
            return Err(Error::NotExist(id.to_string()));
        }
        Ok(st)
    }
}

/// Whether `resources` asks for any limit (device rules alone do not count: without a
/// devices cgroup the container still only gets the devices it is given).
fn has_limits(r: Option<&oci_spec::runtime::LinuxResources>) -> bool {
    r.is_some_and(|r| {
        r.memory().is_some()
            || r.cpu().is_some()
            || r.pids().is_some()
            || r.block_io().is_some()
            || r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty())
            || r.network().is_some()
            || r.rdma().as_ref().is_some_and(|h| !h.is_empty())
            || r.unified().as_ref().is_some_and(|h| !h.is_empty())
    })
}

/// One line of runc's `events` output: `{"type":"stats","id":ID,"data":{...}}` or
/// `{"type":"oom","id":ID}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub typ: &'static str,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<cgroups::stats::Stats>,
}

/// The device rules of a container: deny everything, the configured catch-all rules that
/// lead the list (`runc spec`'s `{"allow": false, "access": "rwm"}`), runc's default
/// allow-list, then the rest of the configured rules (no rule for linux.devices). runc puts
/// the default allow-list after every configured rule, so a rule denying `/dev/null` has no
/// effect there; here a configured rule overrides the defaults (later rules win).
fn device_rules(linux: &oci_spec::runtime::Linux) -> Vec<cgroups::devices::DeviceRule> {
    use cgroups::devices::{self, DeviceRule};
    let mut rules = vec![DeviceRule {
        allow: false,
        kind: 'a',
        major: None,
        minor: None,
        access: "rwm".into(),
    }];
    let configured: Vec<DeviceRule> = linux
        .resources()
        .as_ref()
        .and_then(|r| r.devices().as_deref())
        .unwrap_or(&[])
        .iter()
        .map(DeviceRule::from_spec)
        .collect();
    let lead = configured
        .iter()
        .take_while(|r| r.kind == 'a' && r.major.is_none() && r.minor.is_none())
        .count();
    rules.extend(configured[..lead].iter().cloned());
    rules.extend(devices::default_allowed());
    rules.extend(configured[lead..].iter().cloned());
    // As runc and crun: a linux.devices entry gets no implicit allow rule; access is what
    // resources.devices (plus the default allow-list) grants.
    rules
}

/// Options of `run` beyond those of `create`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    pub detach: bool,
    pub keep: bool,
    pub no_subreaper: bool,
}

pub(crate) fn forward_signals_until_exit(pid: Pid) -> i32 {
    let old = crate::sys::block_all_signals();
    let code = loop {
        // Reap everything (we may be a subreaper); the init's status is the answer.
        let mut init_code = None;
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(p, c)) if p == pid => init_code = Some(c),
                Ok(WaitStatus::Signaled(p, s, _)) if p == pid => init_code = Some(128 + s as i32),
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        if let Some(c) = init_code {
            break c;
        }
        if let Some(sig) = crate::sys::wait_signal(100) {
            if sig != libc::SIGCHLD && sig != libc::SIGWINCH && sig != libc::SIGURG {
                if let Ok(s) = Signal::try_from(sig) {
                    let _ = nix::sys::signal::kill(pid, s);
                }
            }
        }
    };
    crate::sys::restore_signal_mask(&old);
    code
}

fn public_state(st: &StateFile, dir: &Path, owner: String) -> ContainerState {
    let status = status_of(st, dir);
    ContainerState {
        oci_version: st.oci_version.clone(),
        id: st.id.clone(),
        pid: if status == Status::Stopped { 0 } else { st.pid },
        status,
        bundle: st.bundle.clone(),
        rootfs: st.rootfs.clone(),
        created: st.created.clone(),
        annotations: st.annotations.clone(),
        owner,
    }
}

/// The status, recomputed from the live system: frozen cgroup → paused; init gone or
/// replaced → stopped; handshake FIFO present → created; else running.
fn status_of(st: &StateFile, dir: &Path) -> Status {
    decide_status(
        state::init_liveness(st.pid, st.pid_start_time),
        &st.cgroup.dirs,
        st.init_named,
        || init_waits_on_fifo(&dir.join(EXEC_FIFO)),
    )
}

/// [`status_of`] for `list`: the same checks, looked up relative to the open state root
/// and `/proc`.
fn list_status(dirs: &state::ListDirs, id: &str, st: &state::StateSummary<'_>) -> Status {
    decide_status(
        dirs.init_liveness(st.pid, st.pid_start_time),
        &st.cgroup.dirs,
        st.init_named,
        || fifo_has_reader(dirs.open_fifo_nonblocking(id, EXEC_FIFO).map_err(Into::into)),
    )
}

/// The status from the init's liveness (`None`: gone; else whether its name says it may
/// still wait), its cgroups, and, only while it may still wait (or its runtime did not
/// name it), the handshake FIFO.
fn decide_status<P: AsRef<Path>>(
    liveness: Option<bool>,
    cgroup_dirs: &[P],
    init_named: bool,
    fifo_waits: impl FnOnce() -> bool,
) -> Status {
    let Some(named_waiting) = liveness else {
        return Status::Stopped;
    };
    if cgroups::frozen_in(cgroup_dirs) {
        return Status::Paused;
    }
    if (named_waiting || !init_named) && fifo_waits() {
        Status::Created
    } else {
        Status::Running
    }
}

/// Return once the init has left the handshake: its end of the FIFO is close-on-exec, so the
/// FIFO loses its last reader when the init's execve succeeds (or the init dies), and our
/// write end then polls POLLERR. Like runc's `start`, which reads its FIFO to EOF, `start`
/// therefore returns with the container's program in place: `state.pid` runs the program,
/// not the runtime, as soon as `start` has returned.
fn wait_for_exec(f: &fs::File) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let mut fds = [PollFd::new(f.as_fd(), PollFlags::empty())];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            Err(_) => return,
            Ok(_) => {
                let ready = fds[0].revents().unwrap_or(PollFlags::POLLERR);
                if ready.intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL) {
                    return;
                }
            }
        }
    }
}

/// Whether the init still waits on the handshake FIFO. The FIFO outlives the wait when a
/// `start` died between writing the byte and removing it: then nobody holds the read end
/// any more (the init closed it on exec), and a non-blocking open for writing fails with
/// ENXIO. Opening without writing does not disturb a waiting init.
fn init_waits_on_fifo(fifo: &Path) -> bool {
    fifo_has_reader(
        fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(fifo)
            .map(drop),
    )
}

/// What a non-blocking open of the FIFO for writing says: ENXIO (no reader) and ENOENT (the
/// FIFO is gone) mean the init no longer waits; success or any other error, that it does.
fn fifo_has_reader<T>(open: std::io::Result<T>) -> bool {
    match open {
        Ok(_) => true,
        Err(e) => !matches!(e.raw_os_error(), Some(libc::ENXIO) | Some(libc::ENOENT)),
    }
}

/// Run the poststart hooks of a container that has just been started.
fn poststart(st: &StateFile) -> Result<()> {
    let Some(post) = st
        .hooks
        .as_ref()
        .and_then(|h| h.poststart().as_deref())
        .filter(|v| !v.is_empty())
    else {
        return Ok(());
    };
    let state = hooks::state_json(&st.id, st.pid, "running", &st.bundle, st.annotations.as_ref());
    hooks::run_hooks(HookKind::Poststart, post, &state)
}

/// Signal the recorded init through a pidfd, after checking that the pid still names the
/// same process (start time), so a recycled pid is never signalled.
fn signal_init(st: &StateFile, sig: i32) -> Result<()> {
    let pid = Pid::from_raw(st.pid);
    let pidfd = match crate::sys::pidfd_open(pid) {
        Ok(fd) => fd,
        // The init exited (and was reaped) after the caller saw it alive.
        Err(Errno::ESRCH) => return Err(Error::wrong_state(&st.id, "container not running")),
        Err(e) => return Err(Error::sys(format!("pidfd_open({pid})"), e)),
    };
    if !state::init_alive(st) {
        return Err(Error::wrong_state(&st.id, "container not running"));
    }
    crate::sys::pidfd_send_signal(pidfd.as_fd(), sig).map_err(|e| match e {
        Errno::ESRCH => Error::wrong_state(&st.id, "container not running"),
        e => Error::sys(format!("sending signal {sig} to pid {pid}"), e),
    })
}

/// SIGKILL the init (thawing a frozen cgroup) and wait up to 10 s for it to be gone.
fn kill_and_wait(st: &StateFile) -> Result<()> {
    let pid = Pid::from_raw(st.pid);
    let pidfd = crate::sys::pidfd_open(pid).ok();
    if state::init_alive(st) {
        if let Some(fd) = &pidfd {
            let _ = crate::sys::pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
        }
    }
    cgroups::thaw(&st.cgroup);
    let deadline = Instant::now() + Duration::from_secs(10);
    while state::init_alive(st) {
        if Instant::now() > deadline {
            return Err(Error::wrong_state(&st.id, "container init still running"));
        }
        if let Some(fd) = &pidfd {
            let mut fds = [nix::poll::PollFd::new(fd.as_fd(), nix::poll::PollFlags::POLLIN)];
            let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
        } else {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    Ok(())
}

/// Remove everything `create` made: processes left in the cgroup, the cgroup directories it
/// created, the state directory. Best effort: used on failure paths and by delete.
fn destroy(st: &StateFile, dir: &Path) {
    if !cgroups::pids(&st.cgroup).is_empty() {
        cgroups::thaw(&st.cgroup);
        cgroups::signal_all(&st.cgroup, Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cgroups::pids(&st.cgroup).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let _ = cgroups::remove(&st.cgroup);
    crate::testpoint::hit("delete:cgroups-removed");
    let _ = fs::remove_dir_all(dir);
}

fn make_fifo(dir: &Path) -> Result<OwnedFd> {
    let p = dir.join(EXEC_FIFO);
    nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o622))
        .map_err(|e| Error::sys(format!("mkfifo {}", p.display()), e))?;
    // O_RDWR never blocks on a FIFO; the init keeps this end and blocks reading it until
    // `start` writes a byte.
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&p)
        .map_err(|e| Error::io("opening", &p, e))?;
    Ok(f.into())
}

/// Spawn the init and drive it through setup until it reports ready. `lock` is the state
/// directory lock, which the child must not keep.
#[allow(clippy::too_many_arguments)] // each is a distinct resource of the spawn
fn spawn(
    plan: &LaunchPlan,
    cg: &CgroupSet,
    fifo: OwnedFd,
    console: Option<OwnedFd>,
    stdio: Option<&[OwnedFd; 3]>,
    hooks_at: &dyn Fn(Pid) -> Result<()>,
    listener_at: &dyn Fn(Pid, OwnedFd) -> Result<()>,
    lock: std::os::fd::RawFd,
) -> Result<Created> {
    let (parent_sock, child_sock) =
        nix::sys::socket::socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
            .map_err(|e| Error::sys("socketpair", e))?;
    let flags = match plan.mode {
        SpawnMode::Direct => plan.clone_flags.bits() as u64,
        SpawnMode::TwoStage => 0,
    } | libc::CLONE_PIDFD as u64;
    let entry = cgroups::entry(cg)?;
    let fds = ChildFds {
        sock: child_sock.as_fd(),
        fifo: fifo.as_fd(),
        console: console.as_ref().map(|c| c.as_fd()),
        stdio: stdio.map(|[a, b, c]| [a.as_fd(), b.as_fd(), c.as_fd()]),
        cgroup: &entry,
    };
    let theirs = [parent_sock.as_raw_fd(), lock];
    let first = crate::sys::spawn(flags, libc::SIGCHLD, entry.clone_into(), || {
        crate::sys::close_parent_fds(&theirs);
        init::child_main(plan, fds)
    })
    .map_err(|e| Error::sys("clone3", e))?;
    crate::testpoint::hit("create:spawned");
    drop(child_sock);
    drop(fifo);
    drop(console);

    let mut init_pid = (plan.mode == SpawnMode::Direct).then_some(first.pid);
    let join = Join {
        entry: &entry,
        into_used: first.into_cgroup,
    };
    let result = drive(
        plan,
        &join,
        &parent_sock,
        first.pid,
        &mut init_pid,
        hooks_at,
        listener_at,
    );
    if plan.mode == SpawnMode::TwoStage {
        // The intermediate exits once it has reported the init's pid.
        let _ = waitpid(first.pid, None);
    }
    match result {
        Ok(()) => {
            let pid = init_pid.expect("ready implies a pid");
            let pidfd = if plan.mode == SpawnMode::Direct {
                first.pidfd
            } else {
                crate::sys::pidfd_open(pid).ok()
            };
            Ok(Created { pid, pidfd })
        }
        Err(e) => {
            for p in [Some(first.pid), init_pid].into_iter().flatten() {
                let _ = nix::sys::signal::kill(p, Signal::SIGKILL);
                let _ = waitpid(p, None);
            }
            Err(e)
        }
    }
}

fn send_go(sock: &OwnedFd) -> Result<()> {
    let mut buf = [0u8; MAX_MSG];
    let n = ParentMsg::Go.encode(&mut buf);
    nix::sys::socket::send(sock.as_raw_fd(), &buf[..n], MsgFlags::MSG_NOSIGNAL)
        .map(drop)
        .map_err(|e| Error::sys("writing to the container init", e))
}

/// Map the new user namespace. Root writes the maps itself. An unprivileged runtime can
/// only map its own id directly (and must deny setgroups first for the gid map); any other
/// mapping, such as ranges from /etc/subuid, goes through the setuid helpers newuidmap and
/// newgidmap (package uidmap), as runc and podman do.
fn write_id_maps(plan: &LaunchPlan, pid: Pid) -> Result<()> {
    let root = nix::unistd::geteuid().is_root();
    let own = [nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw()];
    for ((file, helper), (map, own)) in [("uid_map", "newuidmap"), ("gid_map", "newgidmap")]
        .into_iter()
        .zip([(&plan.uid_map, own[0]), (&plan.gid_map, own[1])])
    {
        let Some(m) = map else { continue };
        let p = format!("/proc/{pid}/{file}");
        if root || only_own_id(m, own) {
            if !root && file == "gid_map" {
                let sg = format!("/proc/{pid}/setgroups");
                fs::write(&sg, "deny").map_err(|e| Error::io("writing", sg, e))?;
            }
            fs::write(&p, m).map_err(|e| Error::io("writing", p, e))?;
            continue;
        }
        let out = std::process::Command::new(helper)
            .arg(pid.to_string())
            .args(m.split_whitespace())
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Error::io("running (install the uidmap package)", helper, e))?;
        if !out.status.success() {
            return Err(Error::sys(
                format!(
                    "{helper} {pid} {}: {}",
                    m.split_whitespace().collect::<Vec<_>>().join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                Errno::EPERM,
            ));
        }
    }
    Ok(())
}

/// A map of one line whose host side is exactly `own` (size 1).
fn only_own_id(map: &str, own: u32) -> bool {
    let lines: Vec<Vec<&str>> = map
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|v: &Vec<&str>| !v.is_empty())
        .collect();
    matches!(lines.as_slice(), [l] if l.len() == 3 && l[1] == own.to_string() && l[2] == "1")
}

/// How the first child of a spawn entered the container's cgroups: v1 by itself, v2 by
/// clone3 unless `into_used` is false, in which case the parent finishes the job.
pub(crate) struct Join<'a> {
    pub entry: &'a cgroups::Entry,
    pub into_used: bool,
}

/// Prepare a spawned init from the outside (cgroup, oom score) and let it go on.
fn release_init(plan: &LaunchPlan, join: &Join<'_>, sock: &OwnedFd, pid: Pid) -> Result<()> {
    join.entry.finish(join.into_used, pid)?;
    if let Some(adj) = plan.oom_score_adj {
        let p = format!("/proc/{pid}/oom_score_adj");
        fs::write(&p, adj.to_string()).map_err(|e| Error::io("writing", p, e))?;
    }
    send_go(sock)
}

fn drive(
    plan: &LaunchPlan,
    join: &Join<'_>,
    sock: &OwnedFd,
    first: Pid,
    init_pid: &mut Option<Pid>,
    hooks_at: &dyn Fn(Pid) -> Result<()>,
    listener_at: &dyn Fn(Pid, OwnedFd) -> Result<()>,
) -> Result<()> {
    if plan.mode == SpawnMode::Direct {
        if plan.new_user {
            write_id_maps(plan, first)?;
        }
        release_init(plan, join, sock, first)?;
    }
    loop {
        let (msg, fd) = recv_child(sock, init_pid.unwrap_or(first))?;
        match msg {
            ChildMsg::Ready => return Ok(()),
            ChildMsg::SeccompListener => forward_listener(sock, fd, init_pid.unwrap_or(first), listener_at)?,
            ChildMsg::HookPoint => {
                hooks_at(init_pid.unwrap_or(first))?;
                send_go(sock)?;
            }
            ChildMsg::UserNsCreated => {
                write_id_maps(plan, first)?;
                send_go(sock)?;
            }
            ChildMsg::InitPid(p) => {
                let pid = Pid::from_raw(p);
                *init_pid = Some(pid);
                release_init(plan, join, sock, pid)?;
            }
            ChildMsg::Error { stage, errno, detail } => return Err(init_error(stage, errno, &detail)),
        }
    }
}

/// Write the pid file atomically: a unique temp file in the same directory, renamed over the
/// target; bare digits, no newline (go-runc parses it with Atoi). Not fsync'd, like runc's:
/// the reader is on the same machine, and the pid is meaningless after a crash.
pub fn write_pid_file(path: &Path, pid: Pid) -> Result<()> {
    let path = spec::absolute(path)?;
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(|e| Error::io("creating pid file", &tmp, e))?;
    let r = f
        .write_all(pid.as_raw().to_string().as_bytes())
        .and_then(|_| fs::rename(&tmp, &path));
    if let Err(e) = r {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("writing pid file", path, e));
    }
    Ok(())
}

/// The child sent its seccomp notify descriptor: hand it to `listener_at` (the listener
/// socket of the config), then let the child go on.
fn forward_listener(
    sock: &OwnedFd,
    fd: Option<OwnedFd>,
    pid: Pid,
    listener_at: &dyn Fn(Pid, OwnedFd) -> Result<()>,
) -> Result<()> {
    let fd = fd.ok_or_else(|| Error::InitDied("seccomp listener message without a descriptor".into()))?;
    listener_at(pid, fd)?;
    send_go(sock)
}

/// Drive an exec'd process through its setup: once the intermediate reports its pid, finish
/// its cgroup placement if clone3 could not, then wait for ready or an error.
pub(crate) fn drive_exec(
    join: &Join<'_>,
    sock: &OwnedFd,
    first: Pid,
    pid: &mut Option<Pid>,
    listener_at: &dyn Fn(Pid, OwnedFd) -> Result<()>,
) -> Result<()> {
    loop {
        let (msg, fd) = recv_child(sock, pid.unwrap_or(first))?;
        match msg {
            ChildMsg::Ready => return Ok(()),
            ChildMsg::SeccompListener => forward_listener(sock, fd, pid.unwrap_or(first), listener_at)?,
            ChildMsg::InitPid(p) => {
                let p = Pid::from_raw(p);
                *pid = Some(p);
                join.entry.finish(join.into_used, p)?;
                send_go(sock)?;
            }
            ChildMsg::Error { stage, errno, detail } => return Err(init_error(stage, errno, &detail)),
            other => return Err(Error::InitDied(format!("unexpected message {other:?}"))),
        }
    }
}

/// Connect to the caller's console socket. A path longer than `sun_path` is reached through
/// its directory's fd (conmon binds such paths relative to a directory).
pub(crate) fn connect_console(path: &Path) -> Result<OwnedFd> {
    use std::os::unix::net::UnixStream;
    let path = spec::absolute(path)?;
    let stream = if path.as_os_str().len() < 100 {
        UnixStream::connect(&path)
    } else {
        let dir = path.parent().unwrap_or(Path::new("/"));
        let d = fs::File::open(dir).map_err(|e| Error::io("opening the directory of the console socket", dir, e))?;
        let short =
            PathBuf::from(format!("/proc/self/fd/{}", d.as_raw_fd())).join(path.file_name().unwrap_or_default());
        UnixStream::connect(short)
    };
    stream
        .map(OwnedFd::from)
        .map_err(|e| Error::io("connecting to console socket", path, e))
}

/// Receive the next message from a spawned child, with the descriptor it carries (the
/// seccomp listener). A closed socket means every child end is gone: the child died before
/// reporting, and its wait status (`who`) says how.
fn recv_child(sock: &OwnedFd, who: Pid) -> Result<(ChildMsg, Option<OwnedFd>)> {
    let mut buf = [0u8; MAX_MSG];
    loop {
        match crate::sys::recv_with_fd(sock.as_fd(), &mut buf) {
            Ok((0, _)) => {
                let how = match waitpid(who, None) {
                    Ok(WaitStatus::Exited(_, c)) => format!("exit status {c}"),
                    Ok(WaitStatus::Signaled(_, s, _)) => format!("killed by {s}"),
                    _ => "unknown status".into(),
                };
                return Err(Error::InitDied(how));
            }
            Ok((n, fd)) => {
                let msg = ChildMsg::decode(&buf[..n]).map_err(|e| Error::InitDied(format!("bad message: {e}")))?;
                return Ok((msg, fd));
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys("reading from the container process", e)),
        }
    }
}

/// After an exec'd process said it is ready: wait until its end of the socket closes. That
/// end is close-on-exec and the intermediate that shared it has been reaped, so the close
/// comes with the process's execve (or its death). Nothing more is sent on the socket; a
/// stray message is skipped.
pub(crate) fn await_exec(sock: &OwnedFd) {
    let mut buf = [0u8; MAX_MSG];
    loop {
        match crate::sys::recv_with_fd(sock.as_fd(), &mut buf) {
            Ok((0, _)) => return,
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

fn init_error(stage: crate::protocol::Stage, errno: i32, detail: &crate::protocol::Detail) -> Error {
    Error::Init {
        stage: stage.describe(),
        detail: String::from_utf8_lossy(detail.as_bytes()).into_owned(),
        errno,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state for this test process as the "init", in a fresh directory with an exec.fifo
    /// that this process holds open (a reader is waiting, as a created init's would be).
    fn waiting_here(init_named: bool) -> (StateFile, PathBuf, OwnedFd) {
        let me = Pid::this();
        let dir = std::env::temp_dir().join(format!("rc-status-test-{}-{init_named}", me.as_raw()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        let reader = make_fifo(&dir).unwrap();
        let (start, _) = state::proc_start_time(me).unwrap();
        let st = StateFile {
            oci_version: "1.2.0".into(),
            id: "t".into(),
            phase: Phase::Created,
            pid: me.as_raw(),
            pid_start_time: start,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: String::new(),
            annotations: None,
            cgroup: CgroupSet::default(),
            private_pid_ns: true,
            init_named,
            hooks: None,
            seccomp: None,
            resources: None,
        };
        (st, dir, reader)
    }

    #[test]
    fn the_fifo_decides_for_an_init_an_older_runtime_did_not_name() {
        // This process is not named rcli:[INIT]: a named init with this name has exec'd.
        let (st, dir, _reader) = waiting_here(true);
        assert_eq!(status_of(&st, &dir), Status::Running);
        fs::remove_dir_all(&dir).unwrap();
        // An unnamed init (state of an older runtime-cli) still waiting on its FIFO.
        let (st, dir, reader) = waiting_here(false);
        assert_eq!(status_of(&st, &dir), Status::Created);
        drop(reader);
        assert_eq!(status_of(&st, &dir), Status::Running);
        fs::remove_dir_all(&dir).unwrap();
        let (mut st, dir, _reader) = waiting_here(false);
        st.pid_start_time += 1;
        assert_eq!(status_of(&st, &dir), Status::Stopped);
        fs::remove_dir_all(&dir).unwrap();
    }
}
