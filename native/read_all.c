/* Reading a whole input (a BPF program piped in by the TypeScript side). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "helper.h"

long helper_read_all(int fd, unsigned char **out) {
  size_t cap = 65536, len = 0;
  unsigned char *buf = malloc(cap);
  if (!buf) return -1;
  for (;;) {
    if (len == cap) {
      unsigned char *bigger = realloc(buf, cap *= 2);
      if (!bigger) {
        free(buf);
        return -1;
      }
      buf = bigger;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      free(buf);
      return -1;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  *out = buf;
  return (long)len;
}
