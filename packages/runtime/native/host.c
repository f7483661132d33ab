/* Framed writes to the host over fd 3 and the agent's own log lines. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

static int host_dead;

int host_is_dead(void) { return host_dead; }

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The host always reads, so waiting for POLLOUT here is bounded by the host's read loop. */
static void wait_writable(void) {
  struct pollfd p = {.fd = HOST_FD, .events = POLLOUT};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

/* Writes one frame (header, then a and b as its payload). Returns -1 once the host is gone. */
int host_send(uint8_t type, uint32_t ch, const void *a, size_t alen, const void *b, size_t blen) {
  if (host_dead) return -1;
  uint8_t h[HEADER_LEN];
  h[0] = type;
  put_u32(h + 1, ch);
  put_u32(h + 5, (uint32_t)(alen + blen));
  struct iovec iov[3] = {{h, HEADER_LEN}, {(void *)a, alen}, {(void *)b, blen}};
  struct iovec *v = iov;
  int n = 3;
  while (n > 0) {
    ssize_t w = writev(HOST_FD, v, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        wait_writable();
        continue;
      }
      host_dead = 1;
      return -1;
    }
    while (n > 0 && (size_t)w >= v->iov_len) {
      w -= (ssize_t)v->iov_len;
      v++;
      n--;
    }
    if (n > 0) {
      v->iov_base = (char *)v->iov_base + w;
      v->iov_len -= (size_t)w;
    }
  }
  return 0;
}

/* One line to stderr and, while the host is connected, a LOG frame on channel 0. */
void agent_log(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
  char line[600];
  int ln = snprintf(line, sizeof line, "sprite-agent: %.*s\n", (int)len, msg);
  if (ln > 0) {
    ssize_t ignored = write(2, line, (size_t)ln < sizeof line ? (size_t)ln : sizeof line - 1);
    (void)ignored;
  }
  host_send(F_LOG, 0, msg, len, NULL, 0);
}
