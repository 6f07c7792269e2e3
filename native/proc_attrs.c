/*
 * Process attributes a container plan sets before exec (see container.c): scheduler, I/O priority
 * and CPU affinity. Each function returns -1 with errno set; the caller names the config field.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

/* struct sched_attr (linux/sched/types.h), which glibc 2.36 does not declare. */
struct sched_attr_v1 {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

int attr_scheduler(int policy, unsigned long long flags, int nice, unsigned priority, unsigned long long runtime,
                   unsigned long long deadline, unsigned long long period) {
  struct sched_attr_v1 a = {
      .size = sizeof a, .sched_policy = (uint32_t)policy, .sched_flags = flags, .sched_nice = nice,
      .sched_priority = priority, .sched_runtime = runtime, .sched_deadline = deadline, .sched_period = period,
  };
  return (int)syscall(SYS_sched_setattr, 0, &a, 0);
}

int attr_ioprio(int class, int priority) {
  /* IOPRIO_WHO_PROCESS is 1; the class sits above 13 bits of data (linux/ioprio.h). */
  return (int)syscall(SYS_ioprio_set, 1, 0, (class << 13) | priority);
}

/* LIST is a validated CPU list ("0-1,3"), or "all": every CPU the kernel allows us (as after a reset). */
int attr_affinity(const char *list) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (strcmp(list, "all") == 0) {
    for (int c = 0; c < CPU_SETSIZE; c++) CPU_SET(c, &set);
  } else {
    for (const char *p = list; *p;) {
      char *end;
      unsigned long from = strtoul(p, &end, 10), to = from;
      if (*end == '-') to = strtoul(end + 1, &end, 10);
      if (end == p || to >= CPU_SETSIZE) {
        errno = EINVAL;
        return -1;
      }
      for (unsigned long c = from; c <= to; c++) CPU_SET(c, &set);
      p = *end == ',' ? end + 1 : end;
    }
  }
  return sched_setaffinity(0, sizeof set, &set);
}
