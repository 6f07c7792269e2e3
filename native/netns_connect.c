/*
 * netns-connect NETNS_PATH PORT: enters the network namespace at NETNS_PATH (a pod's), connects to
 * 127.0.0.1:PORT there and relays fd 0 -> socket, socket -> fd 1, half-closing each direction on its
 * own EOF; this is how port-forward reaches a pod without socat or nsenter. Exits 0 when both
 * directions are done, 3 when the connection is refused (the message names the port), 1 otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper.h"

/* Copies one chunk from `from` to `to`; returns 0 at EOF or on error, 1 otherwise. */
static int pump(int from, int to, char *buf, size_t size) {
  ssize_t n = read(from, buf, size);
  if (n < 0 && errno == EINTR) return 1;
  if (n <= 0) return 0;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return 0;
    off += w;
  }
  return 1;
}

int cmd_netns_connect(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: sifkube-helper netns-connect NETNS_PATH PORT\n");
    return 2;
  }
  int port = atoi(argv[2]);
  if (port < 1 || port > 65535) {
    fprintf(stderr, "sifkube-helper: netns-connect: bad port %s: give 1..65535\n", argv[2]);
    return 2;
  }
  int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    helper_fail("netns-connect: cannot enter network namespace %s", argv[1]);
    return 1;
  }
  close(ns);
  signal(SIGPIPE, SIG_IGN);
  int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int refused = errno == ECONNREFUSED;
    helper_fail("netns-connect: cannot connect to 127.0.0.1:%d in %s", port, argv[1]);
    return refused ? 3 : 1;
  }
  int one = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  static char buf[262144];
  int up = 1, down = 1; /* up: fd 0 -> socket, down: socket -> fd 1 */
  while (down) {
    struct pollfd fds[2] = {{up ? 0 : -1, POLLIN, 0}, {sock, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[0].revents && !pump(0, sock, buf, sizeof buf)) {
      up = 0;
      shutdown(sock, SHUT_WR);
    }
    if (fds[1].revents && !pump(sock, 1, buf, sizeof buf)) {
      down = 0;
      close(1);
    }
  }
  return 0;
}
