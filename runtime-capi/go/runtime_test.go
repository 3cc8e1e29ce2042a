package libruntime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The tests need root and the bundles that runtime-capi/tests/run.sh makes
// (RUNTIME_TEST_BUNDLES: sleep/, exit7/, bad-config/, t0..t7/) and a state root
// (RUNTIME_TEST_ROOT). Without them they skip, except under CI=true where they fail.
func setup(t *testing.T) (*Context, string) {
	t.Helper()
	bundles, root := os.Getenv("RUNTIME_TEST_BUNDLES"), os.Getenv("RUNTIME_TEST_ROOT")
	if bundles == "" || root == "" || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("RUNTIME_TEST_BUNDLES, RUNTIME_TEST_ROOT and root are required in CI (runtime-capi/tests/run.sh)")
		}
		t.Skip("SKIP: needs root, RUNTIME_TEST_BUNDLES and RUNTIME_TEST_ROOT (run runtime-capi/tests/run.sh)")
	}
	ctx, err := NewContext(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctx.Close() })
	return ctx, bundles
}

func wantErr(t *testing.T, err error, sentinel error, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, sentinel) || !strings.Contains(e.Message, msg) {
		t.Errorf("got %v, want %v containing %q", err, sentinel.(*Error).Code, msg)
	}
}

func wantStatus(t *testing.T, ctx *Context, id, status string) {
	t.Helper()
	st, err := ctx.State(id)
	if err != nil {
		t.Fatalf("state %s: %v", id, err)
	}
	if st.Status != status || st.ID != id {
		t.Errorf("state %s: got %+v, want status %s", id, st, status)
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); v == "" || strings.Count(v, ".") != 2 {
		t.Errorf("version %q", v)
	}
}

func TestLifecycle(t *testing.T) {
	ctx, bundles := setup(t)
	id := "capi-go-life"
	init, err := ctx.Create(id, CreateOptions{Bundle: filepath.Join(bundles, "sleep")})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Delete(id, true)
	if init.Pid <= 0 || init.PidFD < 0 {
		t.Errorf("create returned %+v", init)
	}
	wantStatus(t, ctx, id, "created")
	_, err = ctx.Create(id, CreateOptions{Bundle: filepath.Join(bundles, "sleep")})
	wantErr(t, err, ErrAlreadyExists, "already exists")
	if err := ctx.Start(id); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, ctx, id, "running")
	wantErr(t, ctx.Start(id), ErrInvalidState, "cannot start an already running container")

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := ctx.Exec(id, ProcessSpec{Args: []string{"/bin/sh", "-c", "echo exec-ok $(hostname)"}, Env: []string{"PATH=/bin"}},
		&ExecOptions{Stdio: Stdio{Stdin: r, Stdout: w, Stderr: w}})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	r.Close()
	if code, err := p.Wait(); err != nil || code != 0 || string(out) != "exec-ok demo\n" {
		t.Errorf("exec: code %d, err %v, output %q", code, err, out)
	}
	_, err = ctx.ExecJSON(id, []byte(`{"args": 5}`), nil)
	wantErr(t, err, ErrInvalidArgument, "process_json: args")

	if err := ctx.Pause(id); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, ctx, id, "paused")
	_, err = ctx.Exec(id, ProcessSpec{Args: []string{"true"}}, nil)
	wantErr(t, err, ErrInvalidState, "cannot exec in a paused container")
	if err := ctx.Resume(id); err != nil {
		t.Fatal(err)
	}
	wantErr(t, ctx.Resume(id), ErrInvalidState, "container not paused")
	if err := ctx.Update(id, []byte(`{"pids": {"limit": 55}}`)); err != nil {
		t.Fatal(err)
	}
	stats, err := ctx.Stats(id)
	if pids, _ := stats["pids"].(map[string]any); err != nil || pids["limit"] != float64(55) {
		t.Errorf("stats after update: %v, %v", stats, err)
	}
	wantErr(t, ctx.Update(id, []byte(`{"pids": 5}`)), ErrInvalidArgument, "resources_json")
	if f, err := Features(); err != nil || f["ociVersionMin"] != "1.0.0" {
		t.Errorf("features: %v, %v", f, err)
	}
	list, err := ctx.List()
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Status != "running" {
		t.Errorf("list: %+v, %v", list, err)
	}
	wantErr(t, ctx.Delete(id, false), ErrInvalidState, "that is not stopped: running")
	if err := ctx.Kill(id, syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	if code, err := init.Wait(); err != nil || code != 128+int(syscall.SIGKILL) {
		t.Errorf("init: code %d, err %v", code, err)
	}
	wantStatus(t, ctx, id, "stopped")
	wantErr(t, ctx.Kill(id, syscall.SIGTERM, false), ErrInvalidState, "container not running")
	wantErr(t, ctx.Start(id), ErrInvalidState, "cannot start a container that has stopped")
	if err := ctx.Delete(id, false); err != nil {
		t.Fatal(err)
	}
	_, err = ctx.State(id)
	wantErr(t, err, ErrNotFound, "container does not exist")
}

func TestRun(t *testing.T) {
	ctx, bundles := setup(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	code, err := ctx.Run("capi-go-run", CreateOptions{Bundle: filepath.Join(bundles, "exit7"), Stdio: Stdio{r, w, w}})
	w.Close()
	out, _ := io.ReadAll(r)
	r.Close()
	if err != nil || code != 7 || string(out) != "out\n" {
		t.Errorf("run: code %d, err %v, output %q", code, err, out)
	}
	if _, err := ctx.State("capi-go-run"); !errors.Is(err, ErrNotFound) {
		t.Errorf("run left the container behind: %v", err)
	}
}

func TestErrors(t *testing.T) {
	ctx, bundles := setup(t)
	for name, err := range map[string]error{
		"start":  ctx.Start("capi-go-nope"),
		"kill":   ctx.Kill("capi-go-nope", syscall.SIGTERM, false),
		"delete": ctx.Delete("capi-go-nope", false),
		"pause":  ctx.Pause("capi-go-nope"),
		"resume": ctx.Resume("capi-go-nope"),
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, err, ErrNotFound, "container does not exist") })
	}
	_, err := ctx.State("capi-go-nope")
	wantErr(t, err, ErrNotFound, "container does not exist")
	if err := ctx.Delete("capi-go-nope", true); err != nil {
		t.Errorf("delete --force of an unknown id: %v", err)
	}
	_, err = ctx.Create("capi-go-bad", CreateOptions{Bundle: "/nonexistent-bundle"})
	wantErr(t, err, ErrSystem, "reading /nonexistent-bundle/config.json: no such file or directory")
	_, err = ctx.Create("capi-go-bad", CreateOptions{Bundle: filepath.Join(bundles, "bad-config")})
	wantErr(t, err, ErrInvalidArgument, "config.json: process.args")
	_, err = ctx.Create("../evil", CreateOptions{Bundle: filepath.Join(bundles, "sleep")})
	wantErr(t, err, ErrInvalidArgument, "invalid container ID format")
	_, err = ctx.Create("capi-go-bad", CreateOptions{Bundle: filepath.Join(bundles, "sleep"), Stdio: Stdio{Stdin: os.Stdin}})
	wantErr(t, err, ErrInvalidArgument, "set Stdin, Stdout and Stderr, or none")
	_, err = NewContext("/", nil)
	wantErr(t, err, ErrInvalidArgument, "must not be /")
	_, err = NewContext("/tmp/x", &ContextOptions{SystemdCgroup: true})
	wantErr(t, err, ErrNotSupported, "systemd is not running")
	if list, err := ctx.List(); err != nil || len(list) != 0 {
		t.Errorf("containers left after failed calls: %+v, %v", list, err)
	}
}

// Goroutines on one Context: 8 at once, 24 containers in total.
func TestConcurrent(t *testing.T) {
	ctx, bundles := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			devnull, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
			if err != nil {
				errs <- err
				return
			}
			defer devnull.Close()
			for n := g; n < 24; n += 8 {
				id := fmt.Sprintf("capi-go-par-%d", n)
				code, err := ctx.Run(id, CreateOptions{Bundle: filepath.Join(bundles, fmt.Sprintf("t%d", g)), Stdio: Stdio{devnull, devnull, devnull}})
				if err == nil && code != 0 {
					err = fmt.Errorf("%s exited with %d", id, code)
				}
				if err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if list, err := ctx.List(); err != nil || len(list) != 0 {
		t.Errorf("containers left: %+v, %v", list, err)
	}
}
