/*
 * capi_test.c: the C API's test suite (built with -fsanitize=address,undefined by
 * tests/run.sh, which also makes the bundles). As root, under guarded-ns.sh:
 *
 *   capi_test STATE_ROOT BUNDLES_DIR
 *
 * BUNDLES_DIR holds: sleep/ (sleep 1000), exit7/ (sh -c 'echo out; exit 7'), bad-config/
 * (a config.json with a wrong type), t0..t7/ (one per thread, `true`, own cgroupsPath).
 * Prints one line per check and "N passed, M failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime.h"

static int passed, failed;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *root, *bundles;

static void check(int ok, const char *what, const char *detail) {
  pthread_mutex_lock(&count_lock);
  if (ok) {
    passed++;
    printf("ok   %s\n", what);
  } else {
    failed++;
    printf("FAIL %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  }
  fflush(stdout);
  pthread_mutex_unlock(&count_lock);
}

/* Check that a call succeeded; frees the error. */
static void expect_ok(runtime_code rc, runtime_error *err, const char *what) {
  char buf[512];
  snprintf(buf, sizeof buf, "code %d: %s", rc, runtime_error_message(err));
  check(rc == RUNTIME_OK && err == NULL, what, rc == RUNTIME_OK ? NULL : buf);
  runtime_error_free(err);
}

/* Check that a call failed with `code` and a message containing `msg`; frees the error. */
static void expect_err(runtime_code rc, runtime_error *err, runtime_code code, const char *msg,
                       const char *what) {
  char buf[512];
  const char *m = runtime_error_message(err);
  int ok = rc == code && err != NULL && runtime_error_code(err) == code && strstr(m, msg) != NULL;
  snprintf(buf, sizeof buf, "got code %d message \"%s\", want code %d containing \"%s\"", rc, m,
           code, msg);
  check(ok, what, ok ? NULL : buf);
  runtime_error_free(err);
}

/* `call` sets the caller's `err` (evaluated before the check reads it); the check frees it. */
#define EXPECT_OK(call, what)                  \
  do {                                         \
    runtime_code rc_ = (call);                 \
    expect_ok(rc_, err, what);                 \
    err = NULL;                                \
  } while (0)
#define EXPECT_ERR(call, code, msg, what)      \
  do {                                         \
    runtime_code rc_ = (call);                 \
    expect_err(rc_, err, code, msg, what);     \
    err = NULL;                                \
  } while (0)

/* A minimal runtime-spec process object running ARGS (a JSON array body). */
#define PROC(args) "{\"args\":[" args "],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},\"env\":[\"PATH=/bin\"]}"

static char *path(const char *name) {
  char *p;
  if (asprintf(&p, "%s/%s", bundles, name) < 0) abort();
  return p;
}

static int reap(int pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static runtime_status status_of(runtime_context *ctx, const char *id) {
  runtime_state *st = NULL;
  runtime_error *err = NULL;
  runtime_status s = -1;
  if (runtime_state_get(ctx, id, &st, &err) == RUNTIME_OK) s = st->status;
  runtime_state_free(st);
  runtime_error_free(err);
  return s;
}

/* Read everything from a pipe's read end into buf. */
static void read_all(int fd, char *buf, size_t n) {
  size_t off = 0;
  ssize_t r;
  while (off + 1 < n && (r = read(fd, buf + off, n - 1 - off)) > 0) off += r;
  buf[off] = 0;
}

static void test_lifecycle(runtime_context *ctx) {
  runtime_error *err = NULL;
  char *bundle = path("sleep");
  const char *id = "capi-life";
  runtime_create_options o = {0};
  o.bundle = bundle;
  runtime_process proc = {0, -1};

  EXPECT_OK(runtime_create(ctx, id, &o, &proc, &err), "create");
  check(proc.pid > 0 && proc.pidfd >= 0, "create returns a pid and a pidfd", NULL);
  check(status_of(ctx, id) == RUNTIME_STATUS_CREATED, "status created", NULL);

  runtime_state *st = NULL;
  EXPECT_OK(runtime_state_get(ctx, id, &st, &err), "state struct");
  if (st) {
    check(strcmp(st->id, id) == 0 && st->pid == proc.pid && strcmp(st->bundle, bundle) == 0 &&
              strlen(st->created) > 0 && strlen(st->oci_version) > 0,
          "state struct fields", NULL);
  }
  runtime_state_free(st);

  char *json = NULL;
  EXPECT_OK(runtime_state_json(ctx, id, &json, &err), "state json");
  check(json && strstr(json, "\"status\":\"created\"") && strstr(json, "\"id\":\"capi-life\""),
        "state json content", json);
  runtime_string_free(json), json = NULL;

  EXPECT_ERR(runtime_create(ctx, id, &o, NULL, &err), RUNTIME_ERR_ALREADY_EXISTS,
             "already exists", "create with a duplicate id");

  EXPECT_OK(runtime_start(ctx, id, &err), "start");
  check(status_of(ctx, id) == RUNTIME_STATUS_RUNNING, "status running", NULL);
  EXPECT_ERR(runtime_start(ctx, id, &err), RUNTIME_ERR_INVALID_STATE,
             "cannot start an already running container", "start twice");
  EXPECT_ERR(runtime_resume(ctx, id, &err), RUNTIME_ERR_INVALID_STATE, "container not paused",
             "resume a running container");

  /* exec with stdio into a pipe */
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) abort();
  runtime_exec_options eo = {0};
  eo.use_stdio = true;
  eo.stdio[0] = p[0];
  eo.stdio[1] = p[1];
  eo.stdio[2] = p[1];
  runtime_process ep = {0, -1};
  EXPECT_OK(runtime_exec(ctx, id, PROC("\"/bin/sh\",\"-c\",\"echo exec-ok $(hostname)\""), &eo, &ep, &err),
            "exec");
  close(p[1]);
  char buf[256];
  read_all(p[0], buf, sizeof buf);
  close(p[0]);
  check(ep.pid > 0 && ep.pidfd >= 0, "exec returns a pid and a pidfd", NULL);
  check(strcmp(buf, "exec-ok demo\n") == 0, "exec output through the stdio fds", buf);
  check(ep.pid > 0 && reap(ep.pid) == 0, "exec'd process is our child, exit 0", NULL);
  if (ep.pidfd >= 0) close(ep.pidfd);
  EXPECT_ERR(runtime_exec(ctx, id, PROC(""), NULL, NULL, &err), RUNTIME_ERR_INVALID_ARGUMENT, "args", "exec with empty args");
  EXPECT_ERR(runtime_exec(ctx, id, "{\"args\": 5}", NULL, NULL, &err), RUNTIME_ERR_INVALID_ARGUMENT, "process_json: args", "exec with malformed JSON");

  EXPECT_OK(runtime_pause(ctx, id, &err), "pause");
  check(status_of(ctx, id) == RUNTIME_STATUS_PAUSED, "status paused", NULL);
  EXPECT_ERR(runtime_exec(ctx, id, PROC("\"true\""), NULL, NULL, &err), RUNTIME_ERR_INVALID_STATE, "cannot exec in a paused container", "exec while paused");
  EXPECT_OK(runtime_resume(ctx, id, &err), "resume");
  check(status_of(ctx, id) == RUNTIME_STATUS_RUNNING, "status running after resume", NULL);

  /* update, stats, features */
  EXPECT_OK(runtime_update(ctx, id, "{\"pids\": {\"limit\": 77}}", &err), "update pids.limit");
  EXPECT_OK(runtime_stats_json(ctx, id, &json, &err), "stats");
  check(json && strstr(json, "\"pids\"") && strstr(json, "\"limit\":77"), "stats show the updated pids limit", json);
  runtime_string_free(json), json = NULL;
  EXPECT_ERR(runtime_update(ctx, id, "{\"pids\": 5}", &err), RUNTIME_ERR_INVALID_ARGUMENT, "resources_json",
             "update with malformed JSON");
  EXPECT_ERR(runtime_stats_json(ctx, "capi-nope", &json, &err), RUNTIME_ERR_NOT_FOUND, "container does not exist",
             "stats of an unknown id");
  EXPECT_OK(runtime_features_json(&json, &err), "features");
  check(json && strstr(json, "\"ociVersionMax\"") && strstr(json, "createContainer"), "features json", json);
  runtime_string_free(json), json = NULL;

  EXPECT_OK(runtime_list_json(ctx, &json, &err), "list");
  check(json && strstr(json, "\"id\":\"capi-life\"") && json[0] == '[', "list json content", json);
  runtime_string_free(json), json = NULL;

  EXPECT_ERR(runtime_delete(ctx, id, false, &err), RUNTIME_ERR_INVALID_STATE,
             "cannot delete container capi-life that is not stopped: running",
             "delete a running container without force");
  EXPECT_ERR(runtime_kill(ctx, id, 0, false, &err), RUNTIME_ERR_INVALID_ARGUMENT,
             "invalid signal 0", "kill with signal 0");
  EXPECT_OK(runtime_kill(ctx, id, SIGKILL, false, &err), "kill");
  check(reap(proc.pid) == 128 + SIGKILL, "init is our child, killed by SIGKILL", NULL);
  close(proc.pidfd);
  check(status_of(ctx, id) == RUNTIME_STATUS_STOPPED, "status stopped", NULL);
  EXPECT_ERR(runtime_kill(ctx, id, SIGTERM, false, &err), RUNTIME_ERR_INVALID_STATE,
             "container not running", "kill a stopped container");
  EXPECT_ERR(runtime_pause(ctx, id, &err), RUNTIME_ERR_INVALID_STATE, "container not running",
             "pause a stopped container");
  EXPECT_ERR(runtime_exec(ctx, id, PROC("\"true\""), NULL, NULL, &err), RUNTIME_ERR_INVALID_STATE, "cannot exec in a stopped container", "exec in a stopped container");
  EXPECT_ERR(runtime_start(ctx, id, &err), RUNTIME_ERR_INVALID_STATE,
             "cannot start a container that has stopped", "start a stopped container");
  EXPECT_OK(runtime_delete(ctx, id, false, &err), "delete");
  EXPECT_ERR(runtime_state_get(ctx, id, &st, &err), RUNTIME_ERR_NOT_FOUND,
             "container does not exist", "state after delete");
  free(bundle);
}

static void test_run_and_stdio(runtime_context *ctx) {
  runtime_error *err = NULL;
  char *bundle = path("exit7");
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) abort();
  runtime_create_options o = {0};
  o.bundle = bundle;
  o.use_stdio = true;
  o.stdio[0] = p[0];
  o.stdio[1] = p[1];
  o.stdio[2] = p[1];
  int code = -1;
  EXPECT_OK(runtime_run(ctx, "capi-run", &o, &code, &err), "run and wait");
  check(code == 7, "run returns the exit code (7)", NULL);
  close(p[1]);
  char buf[64];
  read_all(p[0], buf, sizeof buf);
  close(p[0]);
  check(strcmp(buf, "out\n") == 0, "run output through the stdio fds", buf);
  check(status_of(ctx, "capi-run") == (runtime_status)-1, "run deletes the container", NULL);

  o.stdio[0] = 1000; /* not open */
  EXPECT_ERR(runtime_create(ctx, "capi-badfd", &o, NULL, &err), RUNTIME_ERR_INVALID_ARGUMENT,
             "stdio[0] = 1000: bad file", "create with a closed stdio fd");
  free(bundle);
}

static void test_errors(runtime_context *ctx) {
  runtime_error *err = NULL;
  runtime_create_options o = {0};
  o.bundle = "/nonexistent-bundle";
  EXPECT_ERR(runtime_create(ctx, "capi-bad", &o, NULL, &err), RUNTIME_ERR_SYSTEM,
             "reading /nonexistent-bundle/config.json: no such file or directory",
             "create from a missing bundle");
  char *bad = path("bad-config");
  o.bundle = bad;
  EXPECT_ERR(runtime_create(ctx, "capi-bad", &o, NULL, &err), RUNTIME_ERR_INVALID_ARGUMENT,
             "config.json: process.args", "create from a malformed config");
  free(bad);
  check(status_of(ctx, "capi-bad") == (runtime_status)-1, "nothing left after a failed create", NULL);
  o.bundle = NULL;
  EXPECT_ERR(runtime_create(ctx, "capi-bad", &o, NULL, &err), RUNTIME_ERR_INVALID_ARGUMENT,
             "bundle must not be NULL", "create without a bundle");
  EXPECT_ERR(runtime_create(ctx, "capi-bad", NULL, NULL, &err), RUNTIME_ERR_INVALID_ARGUMENT,
             "create options must not be NULL", "create without options");
  o.bundle = "/nonexistent-bundle";
  EXPECT_ERR(runtime_create(ctx, "../evil", &o, NULL, &err), RUNTIME_ERR_INVALID_ARGUMENT,
             "invalid container ID format", "create with an invalid id");

  const char *verbs[] = {"start", "state", "state_json", "kill", "delete", "pause", "resume", "exec"};
  for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
    runtime_code rc;
    runtime_state *st = NULL;
    char *json = NULL;
    switch (i) {
      case 0: rc = runtime_start(ctx, "capi-nope", &err); break;
      case 1: rc = runtime_state_get(ctx, "capi-nope", &st, &err); break;
      case 2: rc = runtime_state_json(ctx, "capi-nope", &json, &err); break;
      case 3: rc = runtime_kill(ctx, "capi-nope", SIGTERM, false, &err); break;
      case 4: rc = runtime_delete(ctx, "capi-nope", false, &err); break;
      case 5: rc = runtime_pause(ctx, "capi-nope", &err); break;
      case 6: rc = runtime_resume(ctx, "capi-nope", &err); break;
      default: rc = runtime_exec(ctx, "capi-nope", PROC("\"true\""), NULL, NULL, &err);
    }
    char what[64];
    snprintf(what, sizeof what, "%s of an unknown id", verbs[i]);
    EXPECT_ERR(rc, RUNTIME_ERR_NOT_FOUND, "container does not exist", what);
    check(st == NULL && json == NULL, "no output on failure", NULL);
  }
  EXPECT_OK(runtime_delete(ctx, "capi-nope", true, &err), "delete --force of an unknown id");
  /* A NULL error pointer is allowed: only the code comes back. */
  check(runtime_start(ctx, "capi-nope", NULL) == RUNTIME_ERR_NOT_FOUND, "NULL err pointer", NULL);
  check(runtime_start(NULL, "capi-nope", NULL) == RUNTIME_ERR_INVALID_ARGUMENT, "NULL context", NULL);
  check(runtime_error_code(NULL) == RUNTIME_OK && strcmp(runtime_error_message(NULL), "") == 0,
        "error accessors accept NULL", NULL);

  runtime_context *c2 = NULL;
  EXPECT_ERR(runtime_context_new("/", NULL, &c2, &err), RUNTIME_ERR_INVALID_ARGUMENT,
             "must not be /", "context on /");
  runtime_context_options co = {0};
  co.rootless = 9;
  EXPECT_ERR(runtime_context_new("/tmp/x", &co, &c2, &err), RUNTIME_ERR_INVALID_ARGUMENT,
             "invalid rootless value 9", "context with a bad rootless value");
  co.rootless = RUNTIME_ROOTLESS_AUTO;
  co.systemd_cgroup = true;
  EXPECT_ERR(runtime_context_new("/tmp/x", &co, &c2, &err), RUNTIME_ERR_NOT_SUPPORTED,
             "systemd is not running", "context with systemd cgroups on a host without systemd");
  check(c2 == NULL, "no context on failure", NULL);

  /* The log file gets one JSON line per failure. */
  char *log = NULL;
  if (asprintf(&log, "%s.log", root) < 0) abort();
  unlink(log);
  co.systemd_cgroup = false;
  co.log_file = log;
  EXPECT_OK(runtime_context_new(root, &co, &c2, &err), "context with a log file");
  check(runtime_start(c2, "capi-nope", NULL) == RUNTIME_ERR_NOT_FOUND, "failure with a log file", NULL);
  runtime_context_free(c2);
  int fd = open(log, O_RDONLY | O_CLOEXEC);
  char buf[512] = "";
  if (fd >= 0) {
    read_all(fd, buf, sizeof buf);
    close(fd);
  }
  check(strstr(buf, "{\"level\":\"error\",\"msg\":\"container does not exist\",\"time\":\"") == buf,
        "log file line", buf);
  unlink(log);
  free(log);
}

/* 8 threads create, start, wait for and delete 50 containers in total. */
#define THREADS 8
#define CONTAINERS 50
struct worker {
  runtime_context *ctx;
  int index;
  int ok;
};

static void *worker_main(void *arg) {
  struct worker *w = arg;
  char name[16], id[64];
  snprintf(name, sizeof name, "t%d", w->index);
  char *bundle = path(name);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int n = w->index; n < CONTAINERS; n += THREADS) {
    runtime_error *err = NULL;
    runtime_create_options o = {0};
    o.bundle = bundle;
    o.use_stdio = true;
    o.stdio[0] = o.stdio[1] = o.stdio[2] = devnull;
    runtime_process p = {0, -1};
    snprintf(id, sizeof id, "capi-par-%d", n);
    runtime_code rc = runtime_create(w->ctx, id, &o, &p, &err);
    if (rc == RUNTIME_OK) rc = runtime_start(w->ctx, id, &err);
    int code = rc == RUNTIME_OK ? reap(p.pid) : -1;
    if (rc == RUNTIME_OK) rc = runtime_delete(w->ctx, id, false, &err);
    if (p.pidfd >= 0) close(p.pidfd);
    if (rc == RUNTIME_OK && code == 0) {
      w->ok++;
    } else {
      printf("thread %d container %s: code %d exit %d: %s\n", w->index, id, rc, code,
             runtime_error_message(err));
    }
    runtime_error_free(err);
  }
  close(devnull);
  free(bundle);
  return NULL;
}

static void test_threads(runtime_context *ctx) {
  pthread_t t[THREADS];
  struct worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (struct worker){ctx, i, 0};
    if (pthread_create(&t[i], NULL, worker_main, &w[i]) != 0) abort();
  }
  int total = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    total += w[i].ok;
  }
  char buf[64];
  snprintf(buf, sizeof buf, "%d of %d", total, CONTAINERS);
  check(total == CONTAINERS, "8 threads: 50 containers created, started, exited 0, deleted", buf);
  runtime_error *err = NULL;
  char *json = NULL;
  EXPECT_OK(runtime_list_json(ctx, &json, &err), "list after the threads");
  check(json && strcmp(json, "[]") == 0, "no container left", json);
  runtime_string_free(json);
}

/* Calls on one container from many threads serialize: one start wins, the rest see the
 * container running; concurrent forced deletes all succeed and leave nothing. */
struct same {
  runtime_context *ctx;
  int op; /* 0 start, 1 delete --force */
  runtime_code rc;
  char msg[256];
};

static void *same_main(void *arg) {
  struct same *s = arg;
  runtime_error *err = NULL;
  s->rc = s->op == 0 ? runtime_start(s->ctx, "capi-same", &err) : runtime_delete(s->ctx, "capi-same", true, &err);
  snprintf(s->msg, sizeof s->msg, "%s", runtime_error_message(err));
  runtime_error_free(err);
  return NULL;
}

static void test_same_container(runtime_context *ctx) {
  runtime_error *err = NULL;
  char *bundle = path("sleep");
  runtime_create_options o = {0};
  o.bundle = bundle;
  runtime_process p = {0, -1};
  EXPECT_OK(runtime_create(ctx, "capi-same", &o, &p, &err), "create for concurrent calls");
  for (int op = 0; op < 2; op++) {
    pthread_t t[THREADS];
    struct same s[THREADS];
    for (int i = 0; i < THREADS; i++) {
      s[i] = (struct same){ctx, op, -1, ""};
      if (pthread_create(&t[i], NULL, same_main, &s[i]) != 0) abort();
    }
    int ok = 0, running = 0;
    for (int i = 0; i < THREADS; i++) {
      pthread_join(t[i], NULL);
      ok += s[i].rc == RUNTIME_OK;
      running += s[i].rc == RUNTIME_ERR_INVALID_STATE &&
                 strstr(s[i].msg, "cannot start an already running container") != NULL;
    }
    if (op == 0)
      check(ok == 1 && running == THREADS - 1, "8 concurrent starts: one starts, 7 see it running", NULL);
    else
      check(ok == THREADS, "8 concurrent forced deletes all succeed", NULL);
  }
  check(p.pid > 0 && reap(p.pid) == 128 + SIGKILL, "init killed by the forced delete", NULL);
  if (p.pidfd >= 0) close(p.pidfd);
  check(status_of(ctx, "capi-same") == (runtime_status)-1, "nothing left after concurrent deletes", NULL);
  free(bundle);
}

/* The library keeps no global state: a forked child can use the parent's context. */
static void test_fork(runtime_context *ctx) {
  pid_t pid = fork();
  if (pid == 0) {
    char *json = NULL;
    runtime_code rc = runtime_list_json(ctx, &json, NULL);
    runtime_code rc2 = runtime_state_json(ctx, "capi-nope", &json, NULL);
    _exit(rc == RUNTIME_OK && rc2 == RUNTIME_ERR_NOT_FOUND ? 0 : 1);
  }
  check(pid > 0 && reap(pid) == 0, "calls from a forked child", NULL);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s STATE_ROOT BUNDLES_DIR\n", argv[0]);
    return 2;
  }
  root = argv[1];
  bundles = argv[2];
  printf("libruntime %s\n", runtime_version());
  runtime_context *ctx = NULL;
  runtime_error *err = NULL;
  EXPECT_OK(runtime_context_new(root, NULL, &ctx, &err), "context");
  if (!ctx) return 1;
  test_errors(ctx);
  test_lifecycle(ctx);
  test_run_and_stdio(ctx);
  test_threads(ctx);
  test_same_container(ctx);
  test_fork(ctx);
  runtime_context_free(ctx);
  printf("%d passed, %d failed: C API\n", passed, failed);
  return failed ? 1 : 0;
}
