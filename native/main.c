/* Entry point of sifkube-helper: dispatches to one subcommand. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "helper.h"

void helper_fail(const char *fmt, ...) {
  int saved = errno;
  va_list ap;
  fputs("sifkube-helper: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (saved) fprintf(stderr, ": %s", strerror(saved));
  fputc('\n', stderr);
}

/* Prints the helper's protocol version, so the TypeScript side can refuse a stale build. */
static int cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  puts("sifkube-helper 1");
  return 0;
}


static const struct {
  const char *name;
  helper_cmd fn;
} commands[] = {
    {"version", cmd_version},
    {"seccomp-exec", cmd_seccomp_exec},
    {"cgroup-devices", cmd_cgroup_devices},
    {"node-init", cmd_node_init},
    {"container", cmd_container},
    {"crilog", cmd_crilog},
    {"pty-exec", cmd_pty_exec},
    {"netns-connect", cmd_netns_connect},
    {"console-relay", cmd_console_relay},
    {"pod-init", cmd_pod_init},
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sifkube-helper SUBCOMMAND [ARGS...]\n");
    return 2;
  }
  /* `container` enters containers: it runs only from a binary they cannot write (see sealed_exe.c). */
  if (strcmp(argv[1], "container") == 0 && helper_seal_exe(argv) < 0) return 2;
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
  }
  fprintf(stderr, "sifkube-helper: unknown subcommand %s\n", argv[1]);
  return 2;
}
