/*
 * crilog: writes a container's stdout (fd 3) and stderr (fd 4) to a log file in the kubelet's CRI
 * format, one record per line: "<RFC3339Nano UTC> stdout|stderr F|P <text>\n". A line longer than
 * 16 KiB is cut into "P" (partial) records followed by an "F" one; "\r\n" ends a line like "\n";
 * output that ends without a newline is written as a "P" record (containerd does the same).
 * It is its own process so that logging goes on while the CRI server restarts. SIGUSR1 reopens the
 * file at once (log rotation: ReopenContainerLog waits until the new file is open). With MAX_BYTES
 * the file is emptied whenever it grows past that (a log kept only for attach). It exits when both
 * streams reach end of file.
 *
 * usage: sifkube-helper crilog LOGFILE [MAX_BYTES]
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#define LINE_MAX_BYTES (16 * 1024)

struct stream {
  int fd;
  const char *name;
  char buf[LINE_MAX_BYTES];
  size_t len;
};

static volatile sig_atomic_t reopen_wanted;
static const char *log_path;
static int log_fd = -1;
static off_t max_bytes;

static void on_usr1(int sig) {
  (void)sig;
  reopen_wanted = 1;
}

static int open_log(void) {
  int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    helper_fail("crilog: open %s", log_path);
    return -1;
  }
  if (log_fd >= 0) close(log_fd);
  log_fd = fd;
  return 0;
}

/* Writes one record; a failing write is dropped (the container must never block on its log). */
static void record(const struct stream *s, const char *text, size_t len, char tag) {
  struct timespec ts;
  struct tm tm;
  char head[64];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
  n += (size_t)snprintf(head + n, sizeof head - n, ".%09ldZ %s %c ", ts.tv_nsec, s->name, tag);
  struct iovec iov[3] = {{head, n}, {(void *)text, len}, {"\n", 1}};
  ssize_t w;
  do w = writev(log_fd, iov, 3);
  while (w < 0 && errno == EINTR);
  /* O_APPEND: after the cut the next record starts the file again. */
  if (max_bytes > 0 && lseek(log_fd, 0, SEEK_END) > max_bytes) (void)!ftruncate(log_fd, 0);
}

/* Emits every complete line in the buffer, and a partial record when the buffer is full. */
static void flush_lines(struct stream *s, int at_eof) {
  size_t start = 0;
  for (size_t i = 0; i < s->len; i++) {
    if (s->buf[i] != '\n') continue;
    size_t end = i;
    if (end > start && s->buf[end - 1] == '\r') end--;
    record(s, s->buf + start, end - start, 'F');
    start = i + 1;
  }
  memmove(s->buf, s->buf + start, s->len - start);
  s->len -= start;
  if (s->len == sizeof s->buf) {
    record(s, s->buf, s->len, 'P');
    s->len = 0;
  } else if (at_eof && s->len > 0) {
    /* A last line without a newline stays partial, as containerd writes it. */
    record(s, s->buf, s->len, 'P');
    s->len = 0;
  }
}

int cmd_crilog(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: sifkube-helper crilog LOGFILE [MAX_BYTES] (stdout on fd 3, stderr on fd 4)\n");
    return 2;
  }
  log_path = argv[1];
  if (argc == 3) max_bytes = (off_t)strtoll(argv[2], NULL, 10);
  if (open_log() < 0) return 1;
  /* SIGUSR1 is blocked except inside ppoll: a reopen asked for while writing is not missed, and it
   * happens at once even while the container is silent. */
  sigset_t usr1, unblocked;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &unblocked);
  sigdelset(&unblocked, SIGUSR1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  static struct stream streams[2] = {{.fd = 3, .name = "stdout"}, {.fd = 4, .name = "stderr"}};
  int open_streams = 2;
  while (open_streams > 0) {
    struct pollfd pfd[2];
    for (int i = 0; i < 2; i++) pfd[i] = (struct pollfd){.fd = streams[i].fd, .events = POLLIN};
    int ready = ppoll(pfd, 2, NULL, &unblocked);
    if (reopen_wanted) {
      reopen_wanted = 0;
      open_log();
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      helper_fail("crilog: poll");
      return 1;
    }
    for (int i = 0; i < 2; i++) {
      struct stream *s = &streams[i];
      if (s->fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        flush_lines(s, 1);
        close(s->fd);
        s->fd = -1;
        open_streams--;
        continue;
      }
      s->len += (size_t)n;
      flush_lines(s, 0);
    }
  }
  return 0;
}
