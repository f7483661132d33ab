/* The api.sock listener (agent-allocated channels) and TCP_CONNECT (host-allocated channels). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "stream.h"

static int listen_fd = -1;
static uint32_t next_accept_id;

/* Listens on SPRITE_AGENT_API_SOCK when set (empty: no listener), else on /.sprite/api.sock when
 * the agent is PID 1 (inside a sprite). A stale socket file is replaced; the mode is 0666. */
void api_listen(void) {
  const char *path = getenv(API_SOCK_ENV);
  if (!path) path = getpid() == 1 ? API_SOCK_DEFAULT : "";
  if (!*path) return;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    agent_log("api socket path too long: %s", path);
    return;
  }
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    agent_log("api socket: %s", strerror(errno));
    return;
  }
  unlink(path);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0666) < 0 ||
      listen(fd, 128) < 0) {
    agent_log("api socket %s: %s", path, strerror(errno));
    close(fd);
    return;
  }
  listen_fd = fd;
}

size_t listener_pollset(size_t n) {
  return listen_fd >= 0 ? poll_add(n, listen_fd, POLLIN, OWN_LISTENER, NULL) : n;
}

static uint32_t allocate_accept_id(void) {
  for (;;) {
    uint32_t id = STREAM_ID_BIT | (next_accept_id++ & ~STREAM_ID_BIT);
    if (!stream_find(id)) return id;
  }
}

/* Accepts what is pending (bounded per round) and announces each with its peer's credentials. */
void listener_accept(void) {
  for (int i = 0; i < 32; i++) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        agent_log("api socket accept: %s", strerror(errno));
      return;
    }
    struct ucred cred = {0};
    socklen_t cl = sizeof cred;
    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
    struct stream *s = stream_count() < MAX_STREAMS ? stream_add(allocate_accept_id(), fd) : NULL;
    if (!s) {
      close(fd); /* over the limit: the client sees the connection closed */
      continue;
    }
    uint8_t p[12];
    put_u32(p, (uint32_t)cred.uid);
    put_u32(p + 4, (uint32_t)cred.gid);
    put_u32(p + 8, (uint32_t)cred.pid);
    host_send(F_CONN_ACCEPTED, s->id, p, sizeof p, NULL, 0);
  }
}

static void send_conn_failed(uint32_t ch, int e, const char *msg) {
  uint8_t c = (uint8_t)(e > 0 && e < 256 ? e : EIO);
  host_send(F_CONN_FAILED, ch, &c, 1, msg, strlen(msg));
}

static int add_addr(struct stream *s, const char *host, int port) {
  struct sockaddr_storage *ss = &s->addrs[s->naddrs];
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    s->addrlens[s->naddrs++] = sizeof *in4;
    return 0;
  }
  if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    s->addrlens[s->naddrs++] = sizeof *in6;
    return 0;
  }
  return -1;
}

/* Parses `port u16 | host` into the stream's address list; `[v6]` brackets are accepted. */
static int parse_target(struct stream *s, const uint8_t *p, uint32_t len) {
  char host[INET6_ADDRSTRLEN + 2];
  if (len < 3 || len - 2 >= sizeof host || memchr(p + 2, 0, len - 2)) return -1;
  int port = p[0] << 8 | p[1];
  memcpy(host, p + 2, len - 2);
  host[len - 2] = 0;
  char *h = host;
  size_t hl = strlen(h);
  if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
    h[hl - 1] = 0;
    h++;
  }
  if (port == 0) return -1;
  if (!strcmp(h, "localhost")) return add_addr(s, "127.0.0.1", port) | add_addr(s, "::1", port);
  return add_addr(s, h, port);
}

/* Starts connecting to addrs[cur]; on immediate failure tries the next. Returns the last errno
 * when none is left, 0 when connected or in progress. */
static int try_connect(struct stream *s) {
  int e = ECONNREFUSED;
  for (; s->cur < s->naddrs; s->cur++) {
    int fd = socket(s->addrs[s->cur].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      e = errno;
      continue;
    }
    s->fd = fd;
    if (connect(fd, (struct sockaddr *)&s->addrs[s->cur], s->addrlens[s->cur]) == 0 ||
        errno == EINPROGRESS) {
      s->connecting = 1;
      return 0;
    }
    e = errno;
    close(fd);
    s->fd = -1;
  }
  return e;
}

static void fail_stream(struct stream *s, int e) {
  char msg[160];
  snprintf(msg, sizeof msg, "connect: %s", strerror(e));
  send_conn_failed(s->id, e, msg);
  s->connecting = 0;
  stream_end(s, 0, NULL);
}

void stream_connect(uint32_t ch, const uint8_t *p, uint32_t len) {
  struct stream *s = NULL;
  if (ch == 0 || (ch & STREAM_ID_BIT) || stream_exists(ch) || chan_find(ch))
    send_conn_failed(ch, EEXIST, "channel in use or reserved");
  else if (stream_count() >= MAX_STREAMS) send_conn_failed(ch, EMFILE, "too many channels");
  else if (!(s = stream_add(ch, -1))) send_conn_failed(ch, ENOMEM, "out of memory");
  if (!s) return;
  if (parse_target(s, p, len) < 0 || s->naddrs == 0) {
    send_conn_failed(ch, EINVAL, "the target must be port 1-65535 and an IP address or localhost");
    stream_end(s, 0, NULL);
    return;
  }
  s->deadline_ms = now_ms() + CONNECT_TIMEOUT_MS;
  int e = try_connect(s);
  if (e) fail_stream(s, e);
}

void connect_progress(struct stream *s) {
  int err = 0;
  socklen_t el = sizeof err;
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) err = errno;
  if (err == 0) {
    s->connecting = 0;
    host_send(F_CONN_OPENED, s->id, NULL, 0, NULL, 0);
    stream_flush(s);
    return;
  }
  close(s->fd);
  s->fd = -1;
  s->cur++;
  int e = try_connect(s);
  if (e) fail_stream(s, err);
}

void connect_timed_out(struct stream *s) { fail_stream(s, ETIMEDOUT); }
