/* seccomp_load() and the `seccomp-exec` subcommand that makes compiled filters testable on their own. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"
#include "seccomp.h"

int seccomp_load(const void *prog, size_t len, unsigned int flags) {
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    errno = EINVAL;
    return -1;
  }
  struct sock_fprog fprog = {
      .len = (unsigned short)(len / sizeof(struct sock_filter)),
      .filter = (struct sock_filter *)prog,
  };
  if (flags == 0) return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  /* With TSYNC a positive result is the id of a thread that could not be synchronised. */
  if (r > 0) {
    errno = ESRCH;
    return -1;
  }
  return (int)r;
}

/* seccomp-exec FLAGS -- CMD ARGS...: filter from stdin, no_new_privs, load, exec CMD. */
int cmd_seccomp_exec(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: sifkube-helper seccomp-exec FLAGS -- CMD [ARGS...] (the filter on stdin)\n");
    return 2;
  }
  char *end;
  errno = 0;
  unsigned long flags = strtoul(argv[1], &end, 0);
  if (errno || *end || flags > 0xffffffffUL) {
    fprintf(stderr, "sifkube-helper: seccomp-exec: FLAGS %s is not a number\n", argv[1]);
    return 2;
  }
  unsigned char *prog;
  long len = helper_read_all(STDIN_FILENO, &prog);
  if (len < 0) {
    helper_fail("seccomp-exec: reading the filter from stdin");
    return 1;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    helper_fail("seccomp-exec: prctl(PR_SET_NO_NEW_PRIVS)");
    return 1;
  }
  if (seccomp_load(prog, (size_t)len, (unsigned int)flags) != 0) {
    helper_fail("seccomp-exec: loading a %ld-byte filter with flags 0x%lx", len, flags);
    return 1;
  }
  free(prog);
  execvp(argv[3], argv + 3);
  helper_fail("seccomp-exec: exec %s", argv[3]);
  return 127;
}
