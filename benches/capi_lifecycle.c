/*
 * capi_lifecycle.c: the benchmark's C API subject. Times create + start + wait + delete of
 * one container through libruntime, in this process, without spawning a runtime binary.
 *
 *   capi-lifecycle STATE_ROOT BUNDLE ID
 *
 * Driven by the harness one iteration at a time (so it alternates with the CLI runtimes):
 * each line read on stdin runs one iteration and answers one line on stdout,
 *   "ok WALL_NS CPU_NS CREATE_NS START_NS WAIT_NS DELETE_NS"
 * where CPU_NS is the user + system time of this process and of the inits it reaped during
 * the iteration. EOF on stdin ends the program (exit 0). A failure prints the library's
 * message on stderr and exits 1. The container's stdio is /dev/null (inherited, as the CLI
 * runtimes' containers inherit the harness's /dev/null); the protocol pipes are moved to
 * close-on-exec descriptors so the init never holds them.
 *
 * Build (benches/run.sh does): cc -O2 capi_lifecycle.c $(pkg-config --cflags runtime)
 *   libruntime.a $(pkg-config --static --libs-only-l runtime without -lruntime)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t tv_ns(struct timeval tv) { return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000; }

/* CPU time (user + system) of this process and its reaped children. */
static int64_t cpu_ns(void) {
  struct rusage self, kids;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  return tv_ns(self.ru_utime) + tv_ns(self.ru_stime) + tv_ns(kids.ru_utime) + tv_ns(kids.ru_stime);
}

static int fail(const char *what, const char *id, runtime_error *err) {
  fprintf(stderr, "capi-lifecycle: %s %s: %s (code %d)\n", what, id, runtime_error_message(err),
          runtime_error_code(err));
  runtime_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s STATE_ROOT BUNDLE ID\n", argv[0]);
    return 2;
  }
  const char *root = argv[1], *bundle = argv[2], *id = argv[3];

  /* The protocol moves to close-on-exec fds; 0 and 1 become /dev/null for the inits. */
  int in_fd = fcntl(0, F_DUPFD_CLOEXEC, 3), out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (in_fd < 0 || out_fd < 0 || null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0) {
    fprintf(stderr, "capi-lifecycle: setting up stdio: %s\n", strerror(errno));
    return 1;
  }
  close(null_fd);
  FILE *in = fdopen(in_fd, "r"), *out = fdopen(out_fd, "w");
  if (in == NULL || out == NULL) {
    fprintf(stderr, "capi-lifecycle: fdopen: %s\n", strerror(errno));
    return 1;
  }

  runtime_error *err = NULL;
  runtime_context *ctx = NULL;
  if (runtime_context_new(root, NULL, &ctx, &err) != RUNTIME_OK) return fail("context", root, err);
  runtime_create_options opts = {0};
  opts.bundle = bundle;

  char line[64];
  while (fgets(line, sizeof line, in) != NULL) {
    int64_t cpu0 = cpu_ns(), t0 = now_ns();
    runtime_process init;
    if (runtime_create(ctx, id, &opts, &init, &err) != RUNTIME_OK) return fail("create", id, err);
    int64_t t1 = now_ns();
    if (runtime_start(ctx, id, &err) != RUNTIME_OK) return fail("start", id, err);
    int64_t t2 = now_ns();
    int status = 0;
    while (waitpid(init.pid, &status, 0) < 0) {
      if (errno != EINTR) {
        fprintf(stderr, "capi-lifecycle: waitpid %d: %s\n", init.pid, strerror(errno));
        return 1;
      }
    }
    if (init.pidfd >= 0) close(init.pidfd);
    int64_t t3 = now_ns();
    if (runtime_delete(ctx, id, false, &err) != RUNTIME_OK) return fail("delete", id, err);
    int64_t t4 = now_ns(), cpu = cpu_ns() - cpu0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "capi-lifecycle: the init of %s ended with status 0x%x\n", id, status);
      return 1;
    }
    fprintf(out, "ok %lld %lld %lld %lld %lld %lld\n", (long long)(t4 - t0), (long long)cpu,
            (long long)(t1 - t0), (long long)(t2 - t1), (long long)(t3 - t2), (long long)(t4 - t3));
    fflush(out);
  }
  runtime_context_free(ctx);
  return 0;
}
