/*
 * console-relay SOCKET RESIZE_FD READY_FD COLS ROWS [noinput]: the receiving end of a runtime's --console-socket.
 * Listens on SOCKET, says "ready\n" on READY_FD, takes the one pty master a runtime sends (SCM_RIGHTS,
 * which Node.js cannot receive), then relays: fd 0 -> terminal, terminal -> fd 1. RESIZE_FD carries
 * "COLS ROWS\n" lines (-1: none). Ends when every slave fd is closed (the process and its children
 * are gone) or on SIGTERM/SIGHUP. The end of fd 0 sends the terminal's EOF character (^D); with
 * noinput fd 0 is not read at all (a tty container without stdin must not see an EOF).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

/* Accepts one connection on SOCKET and returns the fd it carries. */
static int receive_master(const char *path, int ready) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(sa.sun_path, path);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1) < 0) return -1;
  if (relay_write_all(ready, "ready\n", 6) < 0) return -1;
  close(ready);
  int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
  close(ls);
  unlink(path);
  if (c < 0) return -1;
  char name[256];
  char ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {name, sizeof name};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  ssize_t n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
  close(c);
  struct cmsghdr *cm = n < 0 ? NULL : CMSG_FIRSTHDR(&msg);
  if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
    errno = EPROTO;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

int cmd_console_relay(int argc, char **argv) {
  if (argc != 6 && !(argc == 7 && !strcmp(argv[6], "noinput"))) {
    fprintf(stderr, "usage: sifkube-helper console-relay SOCKET RESIZE_FD READY_FD COLS ROWS [noinput]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int ctl = atoi(argv[2]);
  int master = receive_master(argv[1], atoi(argv[3]));
  if (master < 0) {
    helper_fail("console-relay: cannot receive a terminal on %s", argv[1]);
    unlink(argv[1]);
    return 125;
  }
  relay_set_size(master, (unsigned)atoi(argv[4]), (unsigned)atoi(argv[5]));
  int in_open = argc == 6;
  char buf[65536], ctlbuf[256];
  size_t ctllen = 0;
  for (;;) {
    struct pollfd fds[3] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}, {ctl, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof buf);
      /* EIO: every slave fd is closed, the process and its children are gone. */
      if (n <= 0 && !(n < 0 && errno == EINTR)) break;
      if (n > 0 && relay_write_all(1, buf, n) < 0) break;
    }
    /* Resizes before input: a client that resized and then typed expects the new size. */
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (relay_control(master, ctl, ctlbuf, sizeof ctlbuf, &ctllen) < 0) ctl = -1;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!relay_input(master)) in_open = 0;
    }
  }
  return 0;
}
