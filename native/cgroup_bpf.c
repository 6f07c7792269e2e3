/*
 * `cgroup-devices CGROUP_DIR`: loads the eBPF device filter on stdin (struct bpf_insn[], generated
 * by src/runtime/cgroups/device-filter.ts) as BPF_PROG_TYPE_CGROUP_DEVICE and attaches it to the
 * cgroup v2 directory with BPF_F_ALLOW_MULTI, then detaches the programs that were there before, so
 * an update replaces the rules (as runc does). The attached program lives as long as the cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

#define MAX_OLD_PROGS 64

static long bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

int cmd_cgroup_devices(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: sifkube-helper cgroup-devices CGROUP_DIR (the eBPF program on stdin)\n");
    return 2;
  }
  unsigned char *insns;
  long len = helper_read_all(STDIN_FILENO, &insns);
  if (len <= 0 || len % sizeof(struct bpf_insn) != 0) {
    fprintf(stderr, "sifkube-helper: cgroup-devices: stdin must hold a non-empty struct bpf_insn array (%ld bytes read)\n", len);
    return 2;
  }
  /* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. */
  struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_MEMLOCK, &inf);

  int dir = open(argv[1], O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dir < 0) {
    helper_fail("cgroup-devices: open %s", argv[1]);
    return 1;
  }
  uint32_t old[MAX_OLD_PROGS];
  union bpf_attr q;
  memset(&q, 0, sizeof(q));
  q.query.target_fd = (uint32_t)dir;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = (uint64_t)(uintptr_t)old;
  q.query.prog_cnt = MAX_OLD_PROGS;
  if (bpf(BPF_PROG_QUERY, &q) != 0) {
    helper_fail("cgroup-devices: BPF_PROG_QUERY on %s", argv[1]);
    return 1;
  }

  char log[4096] = "";
  union bpf_attr load;
  memset(&load, 0, sizeof(load));
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)insns;
  load.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
  load.license = (uint64_t)(uintptr_t) "Apache";
  int prog = (int)bpf(BPF_PROG_LOAD, &load);
  if (prog < 0) {
    /* Loaded again with the verifier's log only to explain the failure: a log that outgrows its
     * buffer fails the load by itself (ENOSPC), so a good program of many rules must load without. */
    int err = errno;
    load.log_buf = (uint64_t)(uintptr_t)log;
    load.log_size = sizeof(log);
    load.log_level = 1;
    int again = (int)bpf(BPF_PROG_LOAD, &load);
    if (again >= 0) close(again);
    errno = err;
    helper_fail("cgroup-devices: BPF_PROG_LOAD (verifier: %s)", log);
    return 1;
  }
  union bpf_attr at;
  memset(&at, 0, sizeof(at));
  at.target_fd = (uint32_t)dir;
  at.attach_bpf_fd = (uint32_t)prog;
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &at) != 0) {
    helper_fail("cgroup-devices: BPF_PROG_ATTACH(BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) to %s", argv[1]);
    return 1;
  }
  for (uint32_t i = 0; i < q.query.prog_cnt && i < MAX_OLD_PROGS; i++) {
    union bpf_attr id;
    memset(&id, 0, sizeof(id));
    id.prog_id = old[i];
    int fd = (int)bpf(BPF_PROG_GET_FD_BY_ID, &id);
    if (fd < 0) {
      helper_fail("cgroup-devices: BPF_PROG_GET_FD_BY_ID %u", old[i]);
      return 1;
    }
    union bpf_attr det;
    memset(&det, 0, sizeof(det));
    det.target_fd = (uint32_t)dir;
    det.attach_bpf_fd = (uint32_t)fd;
    det.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, &det) != 0) {
      helper_fail("cgroup-devices: BPF_PROG_DETACH of the previous program %u", old[i]);
      return 1;
    }
    close(fd);
  }
  free(insns);
  return 0;
}
