/*
 * sifkube-helper: the system calls Node.js cannot make (namespaces, mounts, pivot_root, capabilities,
 * seccomp, BPF, setuid/setgid, exec). TypeScript makes every decision and hands the helper a plan;
 * the helper only carries it out. One binary, one subcommand per job (see main.c).
 */
#ifndef SIFKUBE_HELPER_H
#define SIFKUBE_HELPER_H

#include <stddef.h>

/* A subcommand: argv[0] is the subcommand name. Returns the process exit status. */
typedef int (*helper_cmd)(int argc, char **argv);

/* Prints "sifkube-helper: <message>: <strerror(errno)>" to stderr when errno is set. */
void helper_fail(const char *fmt, ...);

/* Reads all of fd into a malloc'd buffer (*out); returns its length, or -1 with errno set. */
long helper_read_all(int fd, unsigned char **out);

/* sealed_exe.c: unless this process already runs from a binary nothing can write (a read-only
 * mount or a sealed memfd), re-executes ARGV from one; returns 0 when it already does, -1 on failure. */
int helper_seal_exe(char **argv);

/* Subcommands implemented in their own files. */
int cmd_seccomp_exec(int argc, char **argv);   /* seccomp.c */
int cmd_cgroup_devices(int argc, char **argv); /* cgroup_bpf.c */
int cmd_container(int argc, char **argv);      /* container.c: carries out a container plan */
int cmd_node_init(int argc, char **argv);      /* node_init.c: PID 1 of a cluster node */
int cmd_crilog(int argc, char **argv);         /* crilog.c: writes container output in the CRI log format */

/* pty_exec.c: runs a command on a new pseudo-terminal and relays it over stdin/stdout. */
int cmd_pty_exec(int argc, char **argv);

/* netns_connect.c: connects to a port inside a network namespace and relays it. */
int cmd_netns_connect(int argc, char **argv);
/* crilog.c: writes a container's output as CRI log lines. */
int cmd_crilog(int argc, char **argv);

/* pty_proxy.c: a pty master received over a socket (-1 on failure), and the copy loop that runs
 * the caller's terminal through it until the container side closes. */
int pty_proxy_receive(int sock);
void pty_proxy_run(int master);

/* console_relay.c: receives a runtime's pty master over a console socket and relays it. */
int cmd_console_relay(int argc, char **argv);

/* pod_init.c: PID 1 of a pod-wide PID namespace. */
int cmd_pod_init(int argc, char **argv);

/* clone_cgroup.c: clone(2) with namespace FLAGS; into the cgroup v2 directory CGROUP_FD when it is
 * not -1 and the kernel can (then *into_cgroup is 1). Returns 0 in the child, -1 with errno set. */
#include <sys/types.h>
pid_t clone_process(unsigned long flags, int cgroup_fd, int *into_cgroup);

/* relay.c: pieces shared by the terminal relays. */
#include <sys/types.h>
int relay_write_all(int fd, const char *p, ssize_t n);    /* all of p, retrying short writes; -1 on error */
void relay_set_size(int master, unsigned cols, unsigned rows); /* ignored when either is 0 */
/* Reads "COLS ROWS" lines from ctl into buf and applies them; -1 when ctl is closed. */
int relay_control(int master, int ctl, char *buf, size_t size, size_t *len);
/* Copies what stdin has to the terminal; 0 when input ended (the terminal's EOF character is sent). */
int relay_input(int master);

/* proc_attrs.c: process attributes of a container plan; -1 with errno set on failure. */
int attr_scheduler(int policy, unsigned long long flags, int nice, unsigned priority, unsigned long long runtime,
                   unsigned long long deadline, unsigned long long period);
int attr_ioprio(int class, int priority);
int attr_affinity(const char *list); /* a CPU list ("0-1,3") or "all" */

/* idmap_mount.c: a user namespace with these maps (an fd), and a detached idmapped copy of a tree
 * (an fd); -1 with errno set on failure (*step names the system call that failed). */
int idmap_userns(const char *uidmap, const char *gidmap);
int idmap_tree(const char *src, int rbind, int ridmap, int userns_fd, const char **step);

#endif
