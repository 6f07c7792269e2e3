/*
 * pty-exec RESIZE_FD COLS ROWS CMD [ARGS...]: runs CMD on the slave side of a new pseudo-terminal (its own
 * session, the pty as controlling terminal) and relays: fd 0 -> pty, pty -> fd 1. Node.js has no
 * openpty, so the streaming server reaches a terminal through this relay. RESIZE_FD (-1: none)
 * carries resize requests as text lines "COLS ROWS\n". Exits with CMD's status (128+signal when killed).
 * SIGTERM or SIGHUP kill CMD's whole process group, so a client that goes away leaves nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

static volatile sig_atomic_t stop_signal, child_exited;

static void on_signal(int sig) {
  if (sig == SIGCHLD)
    child_exited = 1;
  else
    stop_signal = sig;
}

static pid_t spawn_on_slave(int master, char **argv, const sigset_t *mask) {
  char *name = ptsname(master);
  if (!name) return -1;
  pid_t pid = fork();
  if (pid != 0) return pid;
  setsid();
  int slave = open(name, O_RDWR);
  if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) _exit(126);
  dup2(slave, 0);
  dup2(slave, 1);
  dup2(slave, 2);
  if (slave > 2) close(slave);
  close(master);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  sigprocmask(SIG_SETMASK, mask, NULL);
  execvp(argv[0], argv);
  helper_fail("pty-exec: cannot run %s", argv[0]);
  _exit(127);
}

static int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int cmd_pty_exec(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: sifkube-helper pty-exec RESIZE_FD COLS ROWS CMD [ARGS...]\n");
    return 2;
  }
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
    helper_fail("pty-exec: cannot open a pseudo-terminal");
    return 125;
  }
  int ctl = atoi(argv[1]);
  argv++;
  if (atoi(argv[1]) > 0 && atoi(argv[2]) > 0) relay_set_size(master, (unsigned)atoi(argv[1]), (unsigned)atoi(argv[2]));
  /* The stop and child signals stay blocked except inside ppoll, so none is missed. */
  sigset_t blocked, during_poll;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGHUP);
  sigaddset(&blocked, SIGCHLD);
  sigprocmask(SIG_BLOCK, &blocked, &during_poll);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (ctl >= 0) fcntl(ctl, F_SETFD, FD_CLOEXEC);
  pid_t child = spawn_on_slave(master, argv + 3, &during_poll);
  if (child < 0) {
    helper_fail("pty-exec: cannot start %s", argv[3]);
    return 125;
  }

  int in_open = 1, status = 0, reaped = 0;
  char buf[65536], ctlbuf[256];
  size_t ctllen = 0;
  for (;;) {
    if (stop_signal) {
      /* The group, and the child itself in case it has not called setsid() yet. */
      kill(-child, SIGKILL);
      kill(child, SIGKILL);
      break;
    }
    if (child_exited && !reaped && waitpid(child, &status, WNOHANG) == child) reaped = 1;
    /* Once the command is gone, only what the terminal still holds is left to copy. */
    struct timespec drain = {0, 0};
    struct pollfd fds[3] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}, {ctl, POLLIN, 0}};
    int ready = ppoll(fds, 3, reaped ? &drain : NULL, &during_poll);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof buf);
      /* EIO: every slave fd is closed, the command and its children are gone. */
      if (n <= 0 && !(n < 0 && errno == EINTR)) break;
      if (n > 0 && relay_write_all(1, buf, n) < 0) {
        kill(-child, SIGKILL);
        break;
      }
    }
    /* Resizes before input: a client that resized and then typed expects the new size. */
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (relay_control(master, ctl, ctlbuf, sizeof ctlbuf, &ctllen) < 0) ctl = -1;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!relay_input(master)) in_open = 0;
    }
  }
  if (reaped) return exit_status(status);
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return exit_status(status);
}
