/*
 * clone(2) of a container process straight into a cgroup v2 directory (clone3's CLONE_INTO_CGROUP,
 * Linux 5.7): unlike a later write to cgroup.procs, it does not take the cgroup threadgroup lock
 * for writing, which waits for an RCU grace period (milliseconds on a busy host).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>

#include "helper.h"

pid_t clone_process(unsigned long flags, int cgroup_fd, int *into_cgroup) {
  *into_cgroup = 0;
  if (cgroup_fd >= 0) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) {
      *into_cgroup = 1;
      return pid;
    }
    /* An older kernel: the caller moves the process itself. */
    if (errno != ENOSYS && errno != E2BIG && errno != EINVAL) return -1;
  }
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}
