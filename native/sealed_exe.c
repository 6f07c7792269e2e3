/*
 * Keeps the helper binary out of a container's reach (the runc CVE-2019-5736 class). A process that
 * joins a container's namespaces is visible to the container's processes, which could open its
 * /proc/PID/exe (or run it, with a `#!/proc/self/exe` program) and rewrite the host's helper for the
 * next container. So `container` first re-executes itself from a read-only view of its binary: a
 * detached, read-only bind mount of the file (open_tree + mount_setattr, no copy and no mount in any
 * namespace; the mount is dissolved when exec closes its fd, so no one can make it writable again),
 * or where the kernel refuses that, a sealed memfd copy. The caller then makes itself non-dumpable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

extern char **environ;

/* Whether this process runs from a binary that cannot be written: a read-only mount or sealed memfd. */
static int exe_sealed(int exe) {
  int seals = fcntl(exe, F_GET_SEALS);
  if (seals >= 0 && (seals & F_SEAL_WRITE)) return 1;
  struct statvfs st;
  return fstatvfs(exe, &st) == 0 && (st.f_flag & ST_RDONLY);
}

/* A detached read-only bind mount of the binary (an O_PATH fd), or -1. */
static int readonly_view(void) {
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) return -1;
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* A sealed memfd copy of the binary, or -1. */
static int sealed_copy(int exe) {
  struct stat st;
  if (fstat(exe, &st) < 0) return -1;
  int fd = memfd_create("sifkube-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  for (off_t off = 0; off < st.st_size;) {
    if (sendfile(fd, exe, &off, st.st_size - off) <= 0) {
      close(fd);
      return -1;
    }
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int helper_seal_exe(char **argv) {
  int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0) {
    helper_fail("open /proc/self/exe");
    return -1;
  }
  if (exe_sealed(exe)) {
    close(exe);
    return 0;
  }
  int view = readonly_view();
  if (view < 0) view = sealed_copy(exe);
  close(exe);
  if (view < 0) {
    helper_fail("make a read-only view of the helper binary (open_tree or a sealed memfd)");
    return -1;
  }
  syscall(SYS_execveat, view, "", argv, environ, AT_EMPTY_PATH);
  helper_fail("execute the read-only view of the helper binary");
  return -1;
}
