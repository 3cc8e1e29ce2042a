/*
 * run.c: run a container from a bundle with libruntime and print its state.
 *
 *   cc run.c $(pkg-config --cflags --libs runtime) -o run
 *   sudo ./run BUNDLE [STATE_ROOT [ID]]
 *
 * The container's init is a child of this program, so it waits for it itself.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime.h"

static int fail(const char *what, runtime_error *err) {
  fprintf(stderr, "%s: %s (code %d)\n", what, runtime_error_message(err), runtime_error_code(err));
  runtime_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BUNDLE [STATE_ROOT [ID]]\n", argv[0]);
    return 2;
  }
  const char *root = argc > 2 ? argv[2] : "/run/runtime-capi-example";
  const char *id = argc > 3 ? argv[3] : "example";
  runtime_error *err = NULL;
  runtime_context *ctx = NULL;
  if (runtime_context_new(root, NULL, &ctx, &err) != RUNTIME_OK) return fail("context", err);

  runtime_create_options opts = {0};
  opts.bundle = argv[1];
  runtime_process init;
  if (runtime_create(ctx, id, &opts, &init, &err) != RUNTIME_OK) return fail("create", err);
  char *json = NULL;
  if (runtime_state_json(ctx, id, &json, &err) != RUNTIME_OK) return fail("state", err);
  printf("%s\n", json);
  runtime_string_free(json);
  fflush(stdout);

  if (runtime_start(ctx, id, &err) != RUNTIME_OK) return fail("start", err);
  int status = 0;
  waitpid(init.pid, &status, 0); /* the init is our child: reap it */
  close(init.pidfd);
  runtime_state *st = NULL;
  if (runtime_state_get(ctx, id, &st, &err) != RUNTIME_OK) return fail("state", err);
  printf("exit code %d, status %s\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
         st->status == RUNTIME_STATUS_STOPPED ? "stopped" : "not stopped");
  runtime_state_free(st);
  if (runtime_delete(ctx, id, false, &err) != RUNTIME_OK) return fail("delete", err);
  runtime_context_free(ctx);
  return 0;
}
