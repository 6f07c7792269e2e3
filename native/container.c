/*
 * `sifkube-helper container`: carries out a container plan written by src/runtime/plan.ts.
 *
 * The plan arrives on fd 3 (a socket to the runtime; with --preserve-fds N the caller's fds sit at
 * 3..3+N-1 and the socket at the fd the first argument names) as lines of tab-separated, %-escaped
 * fields, ended by "end". Lines before "clone" run in this process (the monitor); the rest run in the
 * container's init after clone(2), in order. The monitor reports on the socket ("pid N", "created",
 * "error MSG"); the init asks the runtime to run hooks on it ("hooks", answered "go" or "abort").
 * The container's cgroup is joined without the runtime writing the pid (see join_cgroups).
 * After "created" the monitor waits for the start barrier (a FIFO the runtime writes one byte to),
 * lets the init exec, waits for it and records its exit status in the state directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "seccomp.h"

#define MAX_LINES 4096
#define MAX_FIELDS 256 /* one more slot stays NULL: exec's argv terminator */

struct line {
  int n;
  char *f[MAX_FIELDS + 1];
};

static struct line plan[MAX_LINES];
static int plan_len;
/* Where the init reports a failure: its private socket to the monitor. */
static int report_fd = -1;
/* The root of the container a process joins, opened before joining its namespaces. */
static int root_fd = -1;
/* The start FIFO's read end (opened by the monitor, inherited by the init). */
static int start_fd = -1;
/* Detached idmapped mounts the monitor made ("idmount"), by slot, for the init's "movemount". */
#define MAX_IDMOUNTS 64
static int idmount_fd[MAX_IDMOUNTS];
/* "reparent": the monitor leaves once the container is created, as runc's create does, so the init
 * is left to the caller's subreaper (containerd-shim, conmon), which reaps it and sees its exit. */
static int reparent;
/* The socket to the runtime: 3, or above the preserved fds. */
static int runtime_fd = 3;
/* How many fds from 3 on the container process keeps (--preserve-fds): inherited open, not CLOEXEC. */
static int preserve_fds;

/* Reports a failure of the init to the monitor (which forwards it to the runtime) and exits. */
static void die(const char *fmt, ...) {
  char msg[1024];
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (saved && len < (int)sizeof msg) snprintf(msg + len, sizeof msg - len, ": %s", strerror(saved));
  if (report_fd == 2) {
    dprintf(2, "sifkube-oci: %s\n", msg);
  } else if (report_fd >= 0) {
    dprintf(report_fd, "error %s\n", msg);
  } else {
    dprintf(runtime_fd, "error %s\n", msg);
  }
  _exit(1);
}

/* Decodes %XX escapes in place. */
static void unescape(char *s) {
  char *o = s;
  for (; *s; s++) {
    if (s[0] == '%' && s[1] && s[2]) {
      char hex[3] = {s[1], s[2], 0};
      *o++ = (char)strtol(hex, NULL, 16);
      s += 2;
    } else {
      *o++ = *s;
    }
  }
  *o = 0;
}

/* Reads the plan from the runtime's socket up to the "end" line. */
static void read_plan(void) {
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
    if (!buf) die("out of memory reading the plan");
    ssize_t r = read(runtime_fd, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("the plan ended before its end line");
    len += r;
    buf[len] = 0;
    if (len >= 4 && strstr(buf, "\nend\n")) break;
    if (strncmp(buf, "end\n", 4) == 0) break;
  }
  for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (strcmp(l, "end") == 0) return;
    if (plan_len == MAX_LINES) die("the plan has more than %d lines", MAX_LINES);
    struct line *pl = &plan[plan_len++];
    /* Fields may be empty (a mount without a source), so split on every tab. */
    for (char *f = l; f && pl->n < MAX_FIELDS;) {
      char *tab = strchr(f, '\t');
      if (tab) *tab = 0;
      unescape(f);
      pl->f[pl->n++] = f;
      f = tab ? tab + 1 : NULL;
    }
  }
}

static unsigned long long num(const char *s) { return strtoull(s, NULL, 0); }

static char *nul(char *s) { return s && *s ? s : NULL; }

static void mkdir_p(char *path, mode_t mode) {
  /* Most mount points exist or only lack their last component: one call, not one per component. */
  if (mkdir(path, mode) == 0 || errno == EEXIST) return;
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, mode) < 0 && errno != EEXIST) die("mkdir %s", path);
    *p = '/';
  }
  if (mkdir(path, mode) < 0 && errno != EEXIST) die("mkdir %s", path);
}

/* A bind remount inside a user namespace must keep the flags the kernel locked (nosuid, nodev...). */
static unsigned long locked_flags(const char *path) {
  struct statvfs st;
  if (statvfs(path, &st) < 0) return 0;
  unsigned long out = 0;
  if (st.f_flag & ST_NOSUID) out |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) out |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) out |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) out |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) out |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) out |= MS_RELATIME;
  return out;
}

static void do_mount(char *src, char *dst, char *type, unsigned long flags, char *data) {
  if (mount(nul(src), dst, nul(type), flags, nul(data)) == 0) return;
  if (errno == EPERM && (flags & MS_REMOUNT) && (flags & MS_BIND)) {
    if (mount(NULL, dst, NULL, flags | locked_flags(dst), NULL) == 0) return;
  }
  die("mount %s on %s (type %s)", src, dst, type);
}

/* runc's pivot_root without a temporary directory: stack the old root under the new and detach it. */
static void do_pivot(const char *rootfs) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0) die("open root %s", rootfs);
  if (fchdir(newroot) < 0) die("chdir %s", rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root %s", rootfs);
  if (fchdir(oldroot) < 0) die("chdir old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) die("make old root rslave");
  if (umount2(".", MNT_DETACH) < 0) die("detach old root");
  if (chdir("/") < 0) die("chdir /");
  close(oldroot);
  close(newroot);
}

/* --no-pivot: move the root filesystem over / and chroot into it. */
static void do_chroot(const char *rootfs) {
  if (chdir(rootfs) < 0) die("chdir %s", rootfs);
  if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0) die("move %s to /", rootfs);
  if (chroot(".") < 0) die("chroot %s", rootfs);
  if (chdir("/") < 0) die("chdir /");
}

/* maskedPaths: a directory gets a read-only empty tmpfs, anything else /dev/null. */
static void do_mask(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT) return;
    die("stat masked path %s", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0) die("mask %s", path);
  } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
    die("mask %s", path);
  }
}

static void do_readonly(char *path) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return;
    die("bind readonly path %s", path);
  }
  do_mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL);
}

static void write_file(const char *path, const char *value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("open %s", path);
  if (write(fd, value, strlen(value)) < 0) die("write %s to %s", value, path);
  close(fd);
}

/* Writes VALUE to FILE in each of the directories DIRS. */
static void write_each(char **dirs, int n, const char *file, const char *value) {
  char path[4096];
  for (int k = 0; k < n; k++) {
    snprintf(path, sizeof path, "%s/%s", dirs[k], file);
    write_file(path, value);
  }
}

static void do_caps(unsigned long long eff, unsigned long long prm, unsigned long long inh) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {
      {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
      {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)},
  };
  if (syscall(SYS_capset, &h, d) < 0) die("capset");
}

static void do_bounding(unsigned long long keep) {
  for (int c = 0; c < 64; c++) {
    if (keep & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) <= 0) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) die("drop capability %d from the bounding set", c);
  }
}

static void do_ambient(unsigned long long mask) {
  for (int c = 0; c < 64; c++) {
    if (!(mask & (1ULL << c))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) die("raise ambient capability %d", c);
  }
}

/* Opens a pty in the container, sends its master over the console socket and makes the slave the
 * init's controlling terminal and stdio. */
static void do_pty(int console_fd, unsigned short rows, unsigned short cols, int dev_console) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die("open /dev/ptmx");
  if (unlockpt(master) < 0) die("unlockpt");
  char name[64];
  if (ptsname_r(master, name, sizeof name) != 0) die("ptsname");
  int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) die("open %s", name);
  struct winsize ws = {rows, cols, 0, 0};
  if ((rows || cols) && ioctl(slave, TIOCSWINSZ, &ws) < 0) die("set the console size");
  if (dev_console) {
    /* The container's /dev/console is its terminal, bound over an empty file (as runc). */
    int fd = open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) die("create /dev/console");
    close(fd);
    if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0) die("bind %s to /dev/console", name);
  }
  char cbuf[CMSG_SPACE(sizeof(int))] = {0};
  char tag[] = "/dev/ptmx";
  struct iovec iov = {tag, sizeof tag - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (sendmsg(console_fd, &msg, 0) < 0) die("send the console to the console socket");
  close(master);
  close(console_fd);
  for (int fd = 0; fd < 3; fd++) {
    if (dup2(slave, fd) < 0) die("dup2 console");
  }
  if (ioctl(0, TIOCSCTTY, 0) < 0) die("set the controlling terminal");
  if (slave > 2) close(slave);
}

/* Reads one line (up to '\n') from fd; returns 0 at end of file. */
static int read_line(int fd, char *buf, size_t cap) {
  size_t len = 0;
  while (len + 1 < cap) {
    ssize_t r = read(fd, buf + len, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (buf[len] == '\n') break;
    len++;
  }
  buf[len] = 0;
  return len > 0;
}

/* Asks the runtime to run the hooks that belong to this point of create, and waits for its answer. */
static void sync_hooks(void) {
  char buf[64];
  dprintf(runtime_fd, "hooks\n");
  if (!read_line(runtime_fd, buf, sizeof buf) || strcmp(buf, "go") != 0) die("a hook failed; create aborted");
}

/* Loads the seccomp program the runtime compiled (hex-encoded struct sock_filter array). */
static void load_seccomp(const char *hex, unsigned int flags) {
  size_t len = strlen(hex) / 2;
  unsigned char *prog = malloc(len ? len : 1);
  if (!prog) die("out of memory for the seccomp program");
  for (size_t k = 0; k < len; k++) {
    char byte[3] = {hex[2 * k], hex[2 * k + 1], 0};
    prog[k] = (unsigned char)strtoul(byte, NULL, 16);
  }
  if (seccomp_load(prog, len, flags) < 0) die("load the seccomp filter");
  free(prog);
}

static char resolved[4096], lookup_name[4096];

/* Finds the program in $PATH before the start barrier, so that a missing one fails create (as runc). */
static void lookup(const char *file) {
  snprintf(lookup_name, sizeof lookup_name, "%s", file);
  if (strchr(file, '/')) {
    if (access(file, X_OK) < 0) die("exec: %s", file);
    snprintf(resolved, sizeof resolved, "%s", file);
    return;
  }
  const char *path = getenv("PATH");
  char dirs[4096];
  snprintf(dirs, sizeof dirs, "%s", path ? path : "/usr/bin:/bin");
  for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    snprintf(resolved, sizeof resolved, "%s/%s", d, file);
    struct stat st;
    if (stat(resolved, &st) == 0 && S_ISREG(st.st_mode) && access(resolved, X_OK) == 0) return;
  }
  resolved[0] = 0;
  errno = 0;
  die("exec: \"%s\": executable file not found in $PATH", file);
}

/* The spec's name of a namespace type (a CLONE_NEW* flag). */
static const char *ns_name(int flag) {
  switch (flag) {
  case CLONE_NEWNS: return "mount";
  case CLONE_NEWNET: return "network";
  case CLONE_NEWPID: return "pid";
  case CLONE_NEWIPC: return "ipc";
  case CLONE_NEWUTS: return "uts";
  case CLONE_NEWUSER: return "user";
  case CLONE_NEWCGROUP: return "cgroup";
  case CLONE_NEWTIME: return "time";
  default: return "unknown";
  }
}

/*
 * Opens the namespace file of "setns" triple k (FLAG PATH FIELD) and checks that it is a namespace
 * of that type: joined untyped, a network namespace given as the mount namespace would leave the
 * container in the caller's mount namespace, where pivot_root replaces the caller's root.
 */
static int open_namespace(char **a, int k) {
  int flag = (int)num(a[3 * k]);
  int fd = open(a[3 * k + 1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("%s: open namespace %s", a[3 * k + 2], a[3 * k + 1]);
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) die("%s: %s is not a namespace file (expected a %s namespace, such as /proc/PID/ns/...)", a[3 * k + 2], a[3 * k + 1], ns_name(flag));
  if (type != flag) {
    errno = 0;
    die("%s: %s is a %s namespace, not a %s namespace: give the path of a %s namespace", a[3 * k + 2], a[3 * k + 1], ns_name(type), ns_name(flag), ns_name(flag));
  }
  return fd;
}

/* Checks every namespace the plan joins (the monitor's and the init's) before any line runs. */
static void check_namespaces(void) {
  for (int i = 0; i < plan_len; i++) {
    if (strcmp(plan[i].f[0], "setns") != 0) continue;
    if ((plan[i].n - 1) % 3 != 0) die("setns takes FLAG PATH FIELD triples");
    for (int k = 0; k < (plan[i].n - 1) / 3; k++) close(open_namespace(plan[i].f + 1, k));
  }
}

/*
 * Joins namespaces in the order given (FLAG PATH FIELD triples). Every file is opened first: once a
 * process has joined a user namespace it may no longer open the host's /proc/PID/ns files of the
 * others. setns gets the type too, so a file swapped since the check is refused by the kernel.
 */
static void join_namespaces(char **a, int n) {
  int fds[16];
  n /= 3;
  if (n > 16) die("too many namespaces to join (%d)", n);
  for (int k = 0; k < n; k++) fds[k] = open_namespace(a, k);
  for (int k = 0; k < n; k++) {
    if (setns(fds[k], (int)num(a[3 * k])) < 0) die("%s: join the %s namespace %s", a[3 * k + 2], ns_name((int)num(a[3 * k])), a[3 * k + 1]);
    close(fds[k]);
  }
}

/* The container's init: runs the plan from line `from` on, then execs the process. */
static void init_main(int from, int monitor_fd, int console_fd) {
  char buf[16];
  int waited = 0;
  report_fd = monitor_fd;
  signal(SIGPIPE, SIG_DFL); /* the monitor ignores it; the container must not inherit that */
  umask(0);                  /* device nodes and mount points get exactly the modes in the plan */
  if (read(monitor_fd, buf, 1) != 1) _exit(1); /* the monitor wrote our id maps */
  for (int i = from; i < plan_len; i++) {
    struct line *l = &plan[i];
    char *op = l->f[0], **a = l->f + 1;
    int n = l->n - 1;
    if (!strcmp(op, "setns")) {
      join_namespaces(a, n);
    } else if (!strcmp(op, "unshare")) {
      if (unshare((int)num(a[0])) < 0) die("unshare %s", a[0]);
    } else if (!strcmp(op, "cgjoin")) {
      /* v1 hierarchies: a single-threaded process writing "0" to `tasks` moves itself without the
       * threadgroup lock (and its RCU grace period) that writing a pid to cgroup.procs takes. */
      write_each(a, n, "tasks", "0");
    } else if (!strcmp(op, "setsid")) {
      if (setsid() < 0) die("setsid");
    } else if (!strcmp(op, "root-ids")) {
      if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die("become root in the user namespace");
    } else if (!strcmp(op, "hostname")) {
      if (sethostname(a[0], strlen(a[0])) < 0) die("sethostname %s", a[0]);
    } else if (!strcmp(op, "domainname")) {
      if (setdomainname(a[0], strlen(a[0])) < 0) die("setdomainname %s", a[0]);
    } else if (!strcmp(op, "mount") && n == 5) {
      do_mount(a[0], a[1], a[2], num(a[3]), a[4]);
    } else if (!strcmp(op, "mkdir")) {
      mkdir_p(a[0], (mode_t)num(a[1]));
    } else if (!strcmp(op, "touch")) {
      char *slash = strrchr(a[0], '/');
      if (slash && slash != a[0]) {
        *slash = 0;
        mkdir_p(a[0], 0755);
        *slash = '/';
      }
      int fd = open(a[0], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EISDIR) die("create mount point %s", a[0]);
      if (fd >= 0) close(fd);
    } else if (!strcmp(op, "mknod")) {
      /* As runc: an existing node is kept, never replaced (it may be a host's node on a bind). */
      if (mknod(a[0], (mode_t)num(a[1]), makedev(num(a[2]), num(a[3]))) < 0) {
        if (errno != EEXIST) die("mknod %s", a[0]);
      } else if (chown(a[0], (uid_t)num(a[4]), (gid_t)num(a[5])) < 0) {
        die("chown %s", a[0]);
      }
    } else if (!strcmp(op, "symlink")) {
      if (symlink(a[0], a[1]) < 0 && errno != EEXIST) die("symlink %s -> %s", a[1], a[0]);
    } else if (!strcmp(op, "hooks")) {
      sync_hooks();
    } else if (!strcmp(op, "pivot")) {
      do_pivot(a[0]);
    } else if (!strcmp(op, "chroot")) {
      do_chroot(a[0]);
    } else if (!strcmp(op, "enterroot")) {
      if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0) die("enter the container's root");
      close(root_fd);
    } else if (!strcmp(op, "mask")) {
      do_mask(a[0]);
    } else if (!strcmp(op, "readonly")) {
      do_readonly(a[0]);
    } else if (!strcmp(op, "write")) {
      write_file(a[0], a[1]);
    } else if (!strcmp(op, "rlimit")) {
      struct rlimit rl = {num(a[1]), num(a[2])};
      if (setrlimit((int)num(a[0]), &rl) < 0) die("setrlimit %s", a[0]);
    } else if (!strcmp(op, "pty")) {
      do_pty(console_fd, (unsigned short)num(a[0]), (unsigned short)num(a[1]), (int)num(a[2]));
    } else if (!strcmp(op, "personality")) {
      if (personality(num(a[0])) < 0) die("linux.personality %s", a[1]);
    } else if (!strcmp(op, "scheduler")) {
      /* scheduler POLICY FLAGS NICE PRIORITY RUNTIME DEADLINE PERIOD POLICY-NAME */
      if (attr_scheduler((int)num(a[0]), num(a[1]), (int)strtol(a[2], NULL, 10), (unsigned)num(a[3]), num(a[4]), num(a[5]), num(a[6])) < 0)
        die("process.scheduler: sched_setattr %s%s", a[7], errno == EPERM ? " (a real-time policy needs CAP_SYS_NICE and a real-time budget, linux.resources.cpu.realtimeRuntime, where the kernel has real-time groups)" : "");
    } else if (!strcmp(op, "ioprio")) {
      if (attr_ioprio((int)num(a[0]), (int)num(a[1])) < 0) die("process.ioPriority: ioprio_set %s", a[2]);
    } else if (!strcmp(op, "affinity")) {
      if (attr_affinity(a[0]) < 0) die("%s: sched_setaffinity %s", a[1], a[0]);
    } else if (!strcmp(op, "movemount")) {
      int slot = (int)num(a[0]);
      if (move_mount(idmount_fd[slot], "", AT_FDCWD, a[1], MOVE_MOUNT_F_EMPTY_PATH) < 0) die("move the idmapped mount onto %s", a[1]);
      close(idmount_fd[slot]);
    } else if (!strcmp(op, "bounding")) {
      do_bounding(num(a[0]));
    } else if (!strcmp(op, "keepcaps")) {
      if (prctl(PR_SET_KEEPCAPS, num(a[0]), 0, 0, 0) < 0) die("keepcaps");
    } else if (!strcmp(op, "groups")) {
      gid_t g[MAX_FIELDS];
      for (int k = 0; k < n; k++) g[k] = (gid_t)num(a[k]);
      if (setgroups(n, g) < 0) die("setgroups");
    } else if (!strcmp(op, "gid")) {
      if (setresgid((gid_t)num(a[0]), (gid_t)num(a[0]), (gid_t)num(a[0])) < 0) die("setgid %s", a[0]);
    } else if (!strcmp(op, "uid")) {
      if (setresuid((uid_t)num(a[0]), (uid_t)num(a[0]), (uid_t)num(a[0])) < 0) die("setuid %s", a[0]);
    } else if (!strcmp(op, "caps")) {
      do_caps(num(a[0]), num(a[1]), num(a[2]));
    } else if (!strcmp(op, "ambient")) {
      do_ambient(num(a[0]));
    } else if (!strcmp(op, "umask")) {
      umask((mode_t)num(a[0]));
    } else if (!strcmp(op, "chdir")) {
      if (chdir(a[0]) < 0) die("chdir to the process cwd %s", a[0]);
    } else if (!strcmp(op, "nonewprivs")) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs");
    } else if (!strcmp(op, "clearenv")) {
      clearenv();
    } else if (!strcmp(op, "env")) {
      if (putenv(a[0]) < 0) die("putenv");
    } else if (!strcmp(op, "seccomp")) {
      load_seccomp(a[0], (unsigned int)num(a[1]));
    } else if (!strcmp(op, "lookup")) {
      lookup(a[0]);
    } else if (!strcmp(op, "wait") && reparent) {
      /* The start barrier without a monitor: survive its exit, then wait at the FIFO ourselves. */
      if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) die("clear the parent death signal");
      close(runtime_fd);
      if (write(monitor_fd, "ready\n", 6) != 6) _exit(1);
      close(monitor_fd);
      report_fd = 2;
      struct pollfd p = {start_fd, POLLIN, 0};
      while (poll(&p, 1, -1) < 0 && errno == EINTR) {
      }
      if (read(start_fd, buf, 1) != 1) _exit(1);
      close(start_fd);
      waited = 1;
    } else if (!strcmp(op, "wait")) {
      /* The start barrier: tell the monitor we are ready, then wait for its go. */
      close(runtime_fd);
      if (write(monitor_fd, "ready\n", 6) != 6) _exit(1);
      if (read(monitor_fd, buf, 1) != 1) _exit(1);
      waited = 1;
    } else if (!strcmp(op, "exec")) {
      if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) die("clear the parent death signal");
      close(runtime_fd);
      if (!waited && write(monitor_fd, "exec\n", 5) != 5) _exit(1);
      /* exec FILE ARGV0 ARGS...; after the barrier the runtime is gone: failures go to stderr. */
      execv(resolved[0] && strcmp(a[0], lookup_name) == 0 ? resolved : a[0], a + 1);
      if (errno == ENOENT && !strchr(a[0], '/')) execvp(a[0], a + 1);
      report_fd = 2;
      die("exec %s", a[0]);
    } else {
      die("unknown plan line %s (with %d fields)", op, n);
    }
  }
  die("the plan has no exec line");
}

/*
 * idmount SLOT LABEL SRC RBIND RIDMAP (UIDMAP GIDMAP | USERNS-PATH): a detached idmapped copy of SRC
 * in SLOT, mapped by a user namespace made for the maps, or by the one the container joins.
 */
static void make_idmount(char **a, int n) {
  int slot = (int)num(a[0]);
  if (slot < 0 || slot >= MAX_IDMOUNTS) die("%s: more than %d idmapped mounts", a[1], MAX_IDMOUNTS);
  int userns = n == 7 ? idmap_userns(a[5], a[6]) : open(a[5], O_RDONLY | O_CLOEXEC);
  if (userns < 0) die("%s: %s", a[1], n == 7 ? "make a user namespace for its uidMappings and gidMappings" : "open the user namespace");
  const char *step;
  idmount_fd[slot] = idmap_tree(a[2], (int)num(a[3]), (int)num(a[4]), userns, &step);
  if (idmount_fd[slot] < 0 && errno == EINVAL && !strcmp(step, "mount_setattr"))
    die("%s: the filesystem of %s refuses idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP); use a source on one that allows them (ext4, xfs, btrfs, tmpfs...)", a[1], a[2]);
  if (idmount_fd[slot] < 0) die("%s: %s %s", a[1], step, a[2]);
  close(userns);
}

/* Writes "exited CODE" or "signaled SIGNAL" and the time to DIR/exit, atomically. */
static void record_exit(int dirfd, int status) {
  char text[128];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (WIFSIGNALED(status)) {
    snprintf(text, sizeof text, "signaled %d %lld.%09ld\n", WTERMSIG(status), (long long)ts.tv_sec, ts.tv_nsec);
  } else {
    snprintf(text, sizeof text, "exited %d %lld.%09ld\n", WEXITSTATUS(status), (long long)ts.tv_sec, ts.tv_nsec);
  }
  int fd = openat(dirfd, "exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) helper_fail("record the exit status");
  close(fd);
  renameat(dirfd, "exit.tmp", dirfd, "exit");
}

/* Waits until the runtime writes the start byte to the FIFO, or the init dies first. */
static int wait_start(int fifo_fd, pid_t init) {
  int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
  if (pidfd < 0) return 0;
  struct pollfd p[2] = {{fifo_fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
  for (;;) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if (p[1].revents) return 0;
    if (p[0].revents & POLLIN) {
      char b;
      return read(fifo_fd, &b, 1) == 1;
    }
    if (p[0].revents) return 0;
  }
}

static void detach_stdio(void) {
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3 && null >= 0; fd++) dup2(null, fd);
  if (null > 2) close(null);
}

int cmd_container(int argc, char **argv) {
  if (argc > 1) runtime_fd = atoi(argv[1]);
  if (runtime_fd < 3 || fcntl(runtime_fd, F_SETFD, FD_CLOEXEC) < 0) {
    helper_fail("fd %d must be the runtime's socket", runtime_fd);
    return 2;
  }
  /* Whatever else the caller left open (not close-on-exec) must reach neither the container nor
   * this monitor, which may outlive the caller holding a pipe open: runc closes them too. */
  if (syscall(SYS_close_range, runtime_fd + 1, ~0U, 0) < 0) {
    helper_fail("close the inherited fds above %d", runtime_fd);
    return 2;
  }
  /* Processes of the containers this one joins may not read its memory, fds or exe, nor ptrace it;
   * its clone, the init, inherits this until it execs the container's program. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    helper_fail("make the helper non-dumpable");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  read_plan();
  check_namespaces();
  int exit_dir = -1, console_fd = -1, proxy_fd = -1, detach = 0, i = 0, cgroup2_fd = -1;
  unsigned long clone_flags = 0;
  char *uidmap = NULL, *gidmap = NULL, *cgroup2 = NULL;
  struct line *cgprocs = NULL;
  /* The monitor's part of the plan, up to "clone". */
  for (; i < plan_len; i++) {
    struct line *l = &plan[i];
    char *op = l->f[0], **a = l->f + 1;
    if (!strcmp(op, "clone")) {
      clone_flags = num(a[0]);
      i++;
      break;
    } else if (!strcmp(op, "exitdir")) {
      exit_dir = open(a[0], O_DIRECTORY | O_RDONLY | O_CLOEXEC);
      if (exit_dir < 0) die("open the state directory %s", a[0]);
    } else if (!strcmp(op, "fifo")) {
      if (mkfifo(a[0], 0600) < 0) die("create the start FIFO %s", a[0]);
      start_fd = open(a[0], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (start_fd < 0) die("open the start FIFO %s", a[0]);
    } else if (!strcmp(op, "console")) {
      struct sockaddr_un sa = {.sun_family = AF_UNIX};
      strncpy(sa.sun_path, a[0], sizeof sa.sun_path - 1);
      console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (console_fd < 0 || connect(console_fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect to the console socket %s", a[0]);
    } else if (!strcmp(op, "setns")) {
      join_namespaces(a, l->n - 1);
    } else if (!strcmp(op, "unshare")) {
      if (unshare((int)num(a[0])) < 0) die("unshare %s", a[0]);
    } else if (!strcmp(op, "write")) {
      write_file(a[0], a[1]);
    } else if (!strcmp(op, "uidmap")) {
      uidmap = a[0];
    } else if (!strcmp(op, "gidmap")) {
      gidmap = a[0];
    } else if (!strcmp(op, "openroot")) {
      root_fd = open(a[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (root_fd < 0) die("open %s", a[0]);
    } else if (!strcmp(op, "ptyproxy")) {
      /* No console socket: the init sends the pty master back to us (see pty_proxy.c). */
      int cp[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cp) < 0) die("socketpair for the terminal");
      proxy_fd = cp[0];
      console_fd = cp[1];
    } else if (!strcmp(op, "affinity")) {
      /* execCPUAffinity.initial: the init inherits it, and has it before it joins its cgroup. */
      if (attr_affinity(a[0]) < 0) die("%s: sched_setaffinity %s", a[1], a[0]);
    } else if (!strcmp(op, "idmount")) {
      make_idmount(a, l->n - 1);
    } else if (!strcmp(op, "cgroup2")) {
      cgroup2 = a[0];
      cgroup2_fd = open(a[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (cgroup2_fd < 0) die("open the cgroup %s", a[0]);
    } else if (!strcmp(op, "cgprocs")) {
      cgprocs = l; /* the init cannot join itself (a new user namespace): written after clone */
    } else if (!strcmp(op, "reparent")) {
      reparent = 1;
    } else if (!strcmp(op, "preservefds")) {
      preserve_fds = (int)num(a[0]);
      if (3 + preserve_fds > runtime_fd) die("preservefds %d: the runtime's socket is fd %d", preserve_fds, runtime_fd);
    } else if (!strcmp(op, "detach")) {
      detach = 1;
    } else {
      die("unknown monitor plan line %s", op);
    }
  }
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) die("socketpair");
  int in_cgroup2 = 0;
  pid_t init = clone_process(clone_flags & ~0xffUL, cgroup2_fd, &in_cgroup2);
  if (init < 0) die("clone with flags 0x%lx", clone_flags);
  if (init == 0) {
    close(sp[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    init_main(i, sp[1], console_fd);
  }
  close(sp[1]);
  if (console_fd >= 0) close(console_fd);
  for (int k = 0; k < MAX_IDMOUNTS; k++) {
    if (idmount_fd[k] > 0) close(idmount_fd[k]); /* the init has its copies */
  }
  if (cgroup2_fd >= 0) close(cgroup2_fd);
  char path[64], pid_text[16];
  snprintf(pid_text, sizeof pid_text, "%d", init);
  if (cgroup2 && !in_cgroup2) write_each(&cgroup2, 1, "cgroup.procs", pid_text);
  if (cgprocs) write_each(cgprocs->f + 1, cgprocs->n - 1, "cgroup.procs", pid_text);
  /* The preserved fds belong to the container process: a pipe's reader must see its end when it exits. */
  for (int fd = 3; fd < 3 + preserve_fds; fd++) close(fd);
  if (uidmap) {
    snprintf(path, sizeof path, "/proc/%d/uid_map", init);
    write_file(path, uidmap);
  }
  if (gidmap) {
    snprintf(path, sizeof path, "/proc/%d/gid_map", init);
    write_file(path, gidmap);
  }
  /* The runtime records the pid before the init goes on. */
  dprintf(runtime_fd, "pid %d\n", init);
  char answer[16];
  if (!read_line(runtime_fd, answer, sizeof answer) || strcmp(answer, "go") != 0) {
    kill(init, SIGKILL);
    waitpid(init, NULL, 0);
    return 1;
  }
  if (write(sp[0], "g", 1) != 1) die("start the init");
  char msg[1200];
  int status = 0;
  /* The init reports "ready" (blocked at the start barrier), "exec" (no barrier), or an error. */
  if (read_line(sp[0], msg, sizeof msg) && (!strcmp(msg, "ready") || !strcmp(msg, "exec"))) {
    /* A runtime that died during create leaves a container nobody asked for: end it. */
    if (dprintf(runtime_fd, "created\n") < 0) kill(init, SIGKILL);
    close(runtime_fd);
    if (reparent) return 0; /* the init (or exec'd process) goes to the caller's subreaper */
    int master = proxy_fd >= 0 ? pty_proxy_receive(proxy_fd) : -1;
    if (detach && master < 0) detach_stdio();
    if (!strcmp(msg, "ready") && wait_start(start_fd, init) && write(sp[0], "s", 1) != 1) kill(init, SIGKILL);
    if (master >= 0) pty_proxy_run(master);
  } else {
    dprintf(runtime_fd, "%s\n", msg[0] ? msg : "error the container init died during create");
    kill(init, SIGKILL);
  }
  close(sp[0]);
  while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
  }
  if (exit_dir >= 0) record_exit(exit_dir, status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
