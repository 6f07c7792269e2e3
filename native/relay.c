/* Pieces shared by the terminal relays (pty_exec.c, console_relay.c, pty_proxy.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

int relay_write_all(int fd, const char *p, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, (size_t)n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= w;
  }
  return 0;
}

void relay_set_size(int master, unsigned cols, unsigned rows) {
  struct winsize ws = {0};
  ws.ws_col = (unsigned short)cols;
  ws.ws_row = (unsigned short)rows;
  if (cols && rows) ioctl(master, TIOCSWINSZ, &ws);
}

/* Applies every complete "COLS ROWS" line buffered from the control fd. */
static void apply_resizes(int master, char *buf, size_t *len) {
  char *line = buf, *nl;
  while ((nl = memchr(line, '\n', *len - (size_t)(line - buf))) != NULL) {
    unsigned cols, rows;
    *nl = '\0';
    if (sscanf(line, "%u %u", &cols, &rows) == 2) relay_set_size(master, cols, rows);
    line = nl + 1;
  }
  *len -= (size_t)(line - buf);
  memmove(buf, line, *len);
}

int relay_control(int master, int ctl, char *buf, size_t size, size_t *len) {
  ssize_t n = read(ctl, buf + *len, size - *len - 1);
  if (n <= 0) return -1;
  *len += (size_t)n;
  apply_resizes(master, buf, len);
  if (*len == size - 1) *len = 0; /* a line this long is not a resize */
  return 0;
}

int relay_input(int master) {
  char buf[16384];
  ssize_t n = read(0, buf, sizeof buf);
  if (n > 0) {
    relay_write_all(master, buf, n);
    return 1;
  }
  if (n < 0 && errno == EINTR) return 1;
  /* End of input: send the terminal's EOF character, as a user pressing ^D would. */
  struct termios t;
  char eof = tcgetattr(master, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
  relay_write_all(master, &eof, 1);
  return 0;
}
