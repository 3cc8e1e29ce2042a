// Package libruntime embeds runtime-cli's OCI container runtime through its C library
// (libruntime, see runtime-capi/include/runtime.h) with cgo.
//
// Build it after installing the library (runtime-capi/install.sh) so that
// `pkg-config runtime` finds it.
//
// A container's init (and an exec'd process) is a direct child of the calling process:
// reap it with Process.Wait. Calls on one Context are safe from many goroutines.
package libruntime

/*
#cgo pkg-config: runtime
#include <stdlib.h>
#include "runtime.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// Code is the kind of a failure, as returned by the C API.
type Code int

// The failure kinds of the C API.
const (
	CodeNotFound        Code = C.RUNTIME_ERR_NOT_FOUND
	CodeAlreadyExists   Code = C.RUNTIME_ERR_ALREADY_EXISTS
	CodeInvalidArgument Code = C.RUNTIME_ERR_INVALID_ARGUMENT
	CodeInvalidState    Code = C.RUNTIME_ERR_INVALID_STATE
	CodeNotSupported    Code = C.RUNTIME_ERR_NOT_SUPPORTED
	CodeSystem          Code = C.RUNTIME_ERR_SYSTEM
	CodeInternal        Code = C.RUNTIME_ERR_INTERNAL
)

func (c Code) String() string {
	switch c {
	case CodeNotFound:
		return "not found"
	case CodeAlreadyExists:
		return "already exists"
	case CodeInvalidArgument:
		return "invalid argument"
	case CodeInvalidState:
		return "invalid state"
	case CodeNotSupported:
		return "not supported"
	case CodeSystem:
		return "system error"
	case CodeInternal:
		return "internal error"
	}
	return fmt.Sprintf("code %d", int(c))
}

// Error is a failure of the library: its kind and its one-line message.
type Error struct {
	Op      string // the call that failed, e.g. "create"
	ID      string // the container id, if any
	Code    Code
	Message string
}

func (e *Error) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s %s: %s", e.Op, e.ID, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Op, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) (and the other sentinels) match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrAlreadyExists   = &Error{Code: CodeAlreadyExists}
	ErrInvalidArgument = &Error{Code: CodeInvalidArgument}
	ErrInvalidState    = &Error{Code: CodeInvalidState}
	ErrNotSupported    = &Error{Code: CodeNotSupported}
	ErrSystem          = &Error{Code: CodeSystem}
	ErrInternal        = &Error{Code: CodeInternal}
)

// check turns a return code and error object into a Go error, freeing the object.
func check(op, id string, rc C.runtime_code, cerr *C.runtime_error) error {
	if rc == C.RUNTIME_OK {
		return nil
	}
	e := &Error{Op: op, ID: id, Code: Code(rc)}
	if cerr != nil {
		e.Message = C.GoString(C.runtime_error_message(cerr))
		C.runtime_error_free(cerr)
	}
	return e
}

// cstr is a C copy of s (NULL for ""); free it with free.
func cstr(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

func free(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// Version is the library's version.
func Version() string { return C.GoString(C.runtime_version()) }

// Rootless is the context's rootless mode.
type Rootless int

// Rootless modes.
const (
	RootlessAuto  Rootless = C.RUNTIME_ROOTLESS_AUTO
	RootlessTrue  Rootless = C.RUNTIME_ROOTLESS_TRUE
	RootlessFalse Rootless = C.RUNTIME_ROOTLESS_FALSE
)

// ContextOptions are the options of NewContext; the zero value is the default.
type ContextOptions struct {
	LogFile       string // failures are appended here as JSON lines
	SystemdCgroup bool
	Rootless      Rootless
}

// Context is a state root; safe for concurrent use. Close it when done.
type Context struct {
	c *C.runtime_context
}

// NewContext opens a context on the state root (created with the first container).
func NewContext(root string, opts *ContextOptions) (*Context, error) {
	croot := C.CString(root)
	defer free(croot)
	var copts *C.runtime_context_options
	if opts != nil {
		log := cstr(opts.LogFile)
		defer free(log)
		copts = &C.runtime_context_options{log_file: log, systemd_cgroup: C.bool(opts.SystemdCgroup), rootless: C.int32_t(opts.Rootless)}
	}
	var ctx *C.runtime_context
	var cerr *C.runtime_error
	if err := check("context", "", C.runtime_context_new(croot, copts, &ctx, &cerr), cerr); err != nil {
		return nil, err
	}
	return &Context{c: ctx}, nil
}

// Close frees the context (containers are not touched).
func (c *Context) Close() error {
	if c.c != nil {
		C.runtime_context_free(c.c)
		c.c = nil
	}
	return nil
}

// Stdio are files that become a process's stdin, stdout and stderr (all three set, or none:
// then the process inherits the caller's).
type Stdio struct {
	Stdin, Stdout, Stderr *os.File
}

func (s Stdio) fill(use *C.bool, fds *[3]C.int32_t) error {
	if s.Stdin == nil && s.Stdout == nil && s.Stderr == nil {
		return nil
	}
	if s.Stdin == nil || s.Stdout == nil || s.Stderr == nil {
		return &Error{Op: "stdio", Code: CodeInvalidArgument, Message: "set Stdin, Stdout and Stderr, or none"}
	}
	*use = true
	for i, f := range []*os.File{s.Stdin, s.Stdout, s.Stderr} {
		fds[i] = C.int32_t(f.Fd())
	}
	return nil
}

// keepAlive keeps the files (and so their descriptors) from being finalized before the C
// call that uses the raw descriptors returns.
func (s Stdio) keepAlive() {
	runtime.KeepAlive(s.Stdin)
	runtime.KeepAlive(s.Stdout)
	runtime.KeepAlive(s.Stderr)
}

// CreateOptions are the options of Create and Run.
type CreateOptions struct {
	Bundle        string
	ConsoleSocket string
	PidFile       string
	PreserveFDs   uint32
	NoPivot       bool
	NoNewKeyring  bool
	Stdio
}

// Process is a process the library started: a child of this process, which must Wait for it.
type Process struct {
	Pid   int
	PidFD int // -1 when the kernel gave none; closed by Wait or Close
}

func newProcess(p C.runtime_process) *Process {
	return &Process{Pid: int(p.pid), PidFD: int(p.pidfd)}
}

// Wait reaps the process and returns its exit code (128 + signal when killed), then closes
// the pidfd.
func (p *Process) Wait() (int, error) {
	defer p.Close()
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(p.Pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("waiting for pid %d: %w", p.Pid, err)
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// Close closes the pidfd without waiting.
func (p *Process) Close() error {
	if p.PidFD >= 0 {
		fd := p.PidFD
		p.PidFD = -1
		return syscall.Close(fd)
	}
	return nil
}

func (o *CreateOptions) toC() (*C.runtime_create_options, func(), error) {
	co := &C.runtime_create_options{
		bundle:         cstr(o.Bundle),
		console_socket: cstr(o.ConsoleSocket),
		pid_file:       cstr(o.PidFile),
		preserve_fds:   C.uint32_t(o.PreserveFDs),
		no_pivot:       C.bool(o.NoPivot),
		no_new_keyring: C.bool(o.NoNewKeyring),
	}
	done := func() { free(co.bundle); free(co.console_socket); free(co.pid_file) }
	if err := o.Stdio.fill(&co.use_stdio, &co.stdio); err != nil {
		done()
		return nil, nil, err
	}
	if o.Bundle == "" {
		done()
		return nil, nil, &Error{Op: "create", Code: CodeInvalidArgument, Message: "Bundle is required"}
	}
	return co, done, nil
}

// Create creates container id from opts.Bundle; it waits for Start. The returned Process is
// the container's init, a child of this process: Wait for it.
func (c *Context) Create(id string, opts CreateOptions) (*Process, error) {
	co, done, err := opts.toC()
	if err != nil {
		return nil, err
	}
	defer done()
	defer opts.Stdio.keepAlive()
	cid := C.CString(id)
	defer free(cid)
	var p C.runtime_process
	var cerr *C.runtime_error
	if err := check("create", id, C.runtime_create(c.c, cid, co, &p, &cerr), cerr); err != nil {
		return nil, err
	}
	return newProcess(p), nil
}

// Run creates, starts, waits for and deletes container id, returning its exit code. Signals
// are not forwarded: Kill it from another goroutine.
func (c *Context) Run(id string, opts CreateOptions) (int, error) {
	co, done, err := opts.toC()
	if err != nil {
		return -1, err
	}
	defer done()
	defer opts.Stdio.keepAlive()
	cid := C.CString(id)
	defer free(cid)
	var code C.int32_t
	var cerr *C.runtime_error
	if err := check("run", id, C.runtime_run(c.c, cid, co, &code, &cerr), cerr); err != nil {
		return -1, err
	}
	return int(code), nil
}

func (c *Context) simple(op, id string, f func(*C.char, **C.runtime_error) C.runtime_code) error {
	cid := C.CString(id)
	defer free(cid)
	var cerr *C.runtime_error
	return check(op, id, f(cid, &cerr), cerr)
}

// Start lets a created container run its program.
func (c *Context) Start(id string) error {
	return c.simple("start", id, func(cid *C.char, e **C.runtime_error) C.runtime_code {
		return C.runtime_start(c.c, cid, e)
	})
}

// Pause freezes every process of the container.
func (c *Context) Pause(id string) error {
	return c.simple("pause", id, func(cid *C.char, e **C.runtime_error) C.runtime_code {
		return C.runtime_pause(c.c, cid, e)
	})
}

// Resume thaws a paused container.
func (c *Context) Resume(id string) error {
	return c.simple("resume", id, func(cid *C.char, e **C.runtime_error) C.runtime_code {
		return C.runtime_resume(c.c, cid, e)
	})
}

// Kill sends sig to the init, or with all to every process of the container.
func (c *Context) Kill(id string, sig syscall.Signal, all bool) error {
	return c.simple("kill", id, func(cid *C.char, e **C.runtime_error) C.runtime_code {
		return C.runtime_kill(c.c, cid, C.int32_t(sig), C.bool(all), e)
	})
}

// Delete deletes a stopped or created container; with force, in any status.
func (c *Context) Delete(id string, force bool) error {
	return c.simple("delete", id, func(cid *C.char, e **C.runtime_error) C.runtime_code {
		return C.runtime_delete(c.c, cid, C.bool(force), e)
	})
}

// State is a container's state as the runtime spec defines it.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"` // created, running, paused, stopped
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     string            `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

func takeString(p *C.char) string {
	s := C.GoString(p)
	C.runtime_string_free(p)
	return s
}

// State returns the state of container id.
func (c *Context) State(id string) (*State, error) {
	cid := C.CString(id)
	defer free(cid)
	var js *C.char
	var cerr *C.runtime_error
	if err := check("state", id, C.runtime_state_json(c.c, cid, &js, &cerr), cerr); err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal([]byte(takeString(js)), &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", id, err)
	}
	return &st, nil
}

// List returns the state of every container in the root.
func (c *Context) List() ([]State, error) {
	var js *C.char
	var cerr *C.runtime_error
	if err := check("list", "", C.runtime_list_json(c.c, &js, &cerr), cerr); err != nil {
		return nil, err
	}
	var list []State
	if err := json.Unmarshal([]byte(takeString(js)), &list); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return list, nil
}

// ProcessSpec is the part of a runtime-spec process object that Exec needs most; use
// ExecJSON for the full object.
type ProcessSpec struct {
	Args     []string `json:"args"`
	Env      []string `json:"env,omitempty"`
	Cwd      string   `json:"cwd"`
	User     User     `json:"user"`
	Terminal bool     `json:"terminal,omitempty"`
}

// User is the process's user.
type User struct {
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
}

// ExecOptions are the options of Exec.
type ExecOptions struct {
	ConsoleSocket string
	PidFile       string
	PreserveFDs   uint32
	IgnorePaused  bool
	Stdio
}

// Exec runs one more process in container id. The Process is a child of this process: Wait
// for it.
func (c *Context) Exec(id string, p ProcessSpec, opts *ExecOptions) (*Process, error) {
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	js, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return c.ExecJSON(id, js, opts)
}

// ExecJSON is Exec with a complete runtime-spec process object as JSON.
func (c *Context) ExecJSON(id string, process []byte, opts *ExecOptions) (*Process, error) {
	var eo *C.runtime_exec_options
	if opts != nil {
		eo = &C.runtime_exec_options{
			console_socket: cstr(opts.ConsoleSocket),
			pid_file:       cstr(opts.PidFile),
			preserve_fds:   C.uint32_t(opts.PreserveFDs),
			ignore_paused:  C.bool(opts.IgnorePaused),
		}
		defer free(eo.console_socket)
		defer free(eo.pid_file)
		if err := opts.Stdio.fill(&eo.use_stdio, &eo.stdio); err != nil {
			return nil, err
		}
		defer opts.Stdio.keepAlive()
	}
	cid := C.CString(id)
	defer free(cid)
	cp := C.CString(string(process))
	defer free(cp)
	var p C.runtime_process
	var cerr *C.runtime_error
	if err := check("exec", id, C.runtime_exec(c.c, cid, cp, eo, &p, &cerr), cerr); err != nil {
		return nil, err
	}
	return newProcess(p), nil
}

// Update changes the resource limits of container id: resources is a linux.resources
// object as JSON (absent fields keep their values).
func (c *Context) Update(id string, resources []byte) error {
	cid, cjs := C.CString(id), C.CString(string(resources))
	defer free(cid)
	defer free(cjs)
	var cerr *C.runtime_error
	return check("update", id, C.runtime_update(c.c, cid, cjs, &cerr), cerr)
}

// Stats returns the cgroup statistics of container id, decoded from the library's JSON
// (the data object of `runtime-cli events --stats`).
func (c *Context) Stats(id string) (map[string]any, error) {
	cid := C.CString(id)
	defer free(cid)
	var js *C.char
	var cerr *C.runtime_error
	if err := check("stats", id, C.runtime_stats_json(c.c, cid, &js, &cerr), cerr); err != nil {
		return nil, err
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(takeString(js)), &st); err != nil {
		return nil, fmt.Errorf("stats %s: %w", id, err)
	}
	return st, nil
}

// Features returns the runtime-spec features document of the library.
func Features() (map[string]any, error) {
	var js *C.char
	var cerr *C.runtime_error
	if err := check("features", "", C.runtime_features_json(&js, &cerr), cerr); err != nil {
		return nil, err
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(takeString(js)), &f); err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	return f, nil
}
