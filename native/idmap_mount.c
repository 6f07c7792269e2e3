/*
 * Idmapped mounts (runtime-spec mounts[].uidMappings/gidMappings, options idmap and ridmap), as runc
 * 1.2 makes them: a detached copy of the source (open_tree OPEN_TREE_CLONE) gets the mapping of a
 * user namespace (mount_setattr MOUNT_ATTR_IDMAP); the container's init later moves it into place.
 * Both run in the monitor, in the host's user namespace: the kernel lets only a process privileged
 * over the source's filesystem idmap it, which the container's root in its own namespace is not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

static int write_map(pid_t pid, const char *file, const char *map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, map, strlen(map));
  int saved = errno;
  close(fd);
  errno = saved;
  return n < 0 ? -1 : 0;
}

/* A child that only waits, in a new user namespace; we write its maps, keep its namespace, end it. */
int idmap_userns(const char *uidmap, const char *gidmap) {
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) return -1;
  pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
  if (child == 0) {
    char b;
    close(hold[1]);
    while (read(hold[0], &b, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(hold[0]);
  int fd = -1, saved = 0;
  if (child > 0 && write_map(child, "uid_map", uidmap) == 0 && write_map(child, "gid_map", gidmap) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", child);
    fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  saved = errno;
  close(hold[1]); /* the child's read ends: it exits */
  if (child > 0) waitpid(child, NULL, 0);
  errno = saved;
  return fd;
}

int idmap_tree(const char *src, int rbind, int ridmap, int userns_fd, const char **step) {
  *step = "open_tree";
  int fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rbind ? AT_RECURSIVE : 0));
  if (fd < 0) return -1;
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns_fd};
  *step = "mount_setattr";
  if (mount_setattr(fd, "", AT_EMPTY_PATH | (ridmap ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}
