/*
 * The terminal of a foreground `run`/`exec` without a console socket (as runc does): the container's
 * pty master comes back to the monitor, which copies the caller's stdin to it and its output to the
 * caller's stdout until the container side closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

int pty_proxy_receive(int sock) {
  char byte[64];
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {byte, sizeof byte};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

void pty_proxy_run(int master) {
  struct termios saved, raw;
  int is_tty = tcgetattr(0, &saved) == 0;
  if (is_tty) {
    raw = saved;
    cfmakeraw(&raw);
    tcsetattr(0, TCSANOW, &raw);
  }
  struct pollfd p[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
  char buf[8192];
  for (;;) {
    if (poll(p, p[1].fd < 0 ? 1 : 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents) {
      ssize_t r = read(master, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0 || relay_write_all(1, buf, r) < 0) break; /* EIO: the container closed its terminal */
    }
    if (p[1].fd >= 0 && p[1].revents) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0 || relay_write_all(master, buf, r) < 0) p[1].fd = -1; /* stdin ended: keep the output */
    }
  }
  if (is_tty) tcsetattr(0, TCSANOW, &saved);
  close(master);
}
