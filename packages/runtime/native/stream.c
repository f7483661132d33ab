/* Byte-stream channels: one socket each (an api.sock connection or a TCP connection the host
 * asked for), relayed as DATA/EOF/CLOSE with PAUSE/RESUME flow control both ways. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream.h"

struct stream **streams;
size_t nstreams;
static size_t streams_cap;
static uint8_t readbuf[READ_CHUNK];

struct stream *stream_find(uint32_t id) {
  for (size_t i = 0; i < nstreams; i++)
    if (streams[i]->id == id && !streams[i]->dead) return streams[i];
  return NULL;
}

int stream_exists(uint32_t id) { return stream_find(id) != NULL; }

size_t stream_count(void) {
  size_t n = 0;
  for (size_t i = 0; i < nstreams; i++) n += !streams[i]->dead;
  return n;
}

struct stream *stream_add(uint32_t id, int fd) {
  if (nstreams == streams_cap) {
    size_t cap = streams_cap ? streams_cap * 2 : 16;
    struct stream **next = realloc(streams, cap * sizeof *next);
    if (!next) return NULL;
    streams = next;
    streams_cap = cap;
  }
  struct stream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->id = id;
  s->fd = fd;
  streams[nstreams++] = s;
  return s;
}

static void drop_queue(struct stream *s) {
  while (s->q_head) {
    struct chunk *n = s->q_head->next;
    free(s->q_head);
    s->q_head = n;
  }
  s->q_tail = NULL;
  s->queued = 0;
}

/* Ends the channel: closes the socket and, unless the host asked for it, sends CLOSE with an
 * optional reason. The stream is freed by stream_collect(). */
void stream_end(struct stream *s, int tell_host, const char *why) {
  if (s->dead) return;
  s->dead = 1;
  drop_queue(s);
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (tell_host) host_send(F_CLOSE_OUT, s->id, why, why ? strlen(why) : 0, NULL, 0);
}

static void maybe_finish(struct stream *s) {
  if (s->rd_eof && s->wr_done && !s->dead) stream_end(s, 1, NULL);
}

/* Writes queued host data to the socket; sends RESUME once the queue is low again, and does the
 * pending half-close once it is empty. */
void stream_flush(struct stream *s) {
  while (s->q_head && !s->dead) {
    struct chunk *k = s->q_head;
    ssize_t w = send(s->fd, k->data + k->off, k->len - k->off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      stream_end(s, 1, strerror(errno));
      return;
    }
    k->off += (uint32_t)w;
    s->queued -= (size_t)w;
    if (k->off == k->len) {
      s->q_head = k->next;
      if (!s->q_head) s->q_tail = NULL;
      free(k);
    }
  }
  if (s->dead) return;
  if (s->we_paused && s->queued <= STREAM_LOW_WATER) {
    s->we_paused = 0;
    host_send(F_RESUME_OUT, s->id, NULL, 0, NULL, 0);
  }
  if (!s->q_head && s->eof_pending && !s->wr_done) {
    shutdown(s->fd, SHUT_WR);
    s->wr_done = 1;
    maybe_finish(s);
  }
}

static void on_data(struct stream *s, const uint8_t *p, uint32_t len) {
  if (len == 0 || s->eof_pending) return;
  if (s->queued + len > STREAM_MAX_QUEUE) {
    agent_log("channel %u: host ignored PAUSE (%zu bytes queued), closing it", s->id, s->queued);
    stream_end(s, 1, "flow control violated");
    return;
  }
  struct chunk *k = malloc(sizeof *k + len);
  if (!k) {
    stream_end(s, 1, "out of memory");
    return;
  }
  k->next = NULL;
  k->len = len;
  k->off = 0;
  memcpy(k->data, p, len);
  if (s->q_tail) s->q_tail->next = k;
  else s->q_head = k;
  s->q_tail = k;
  s->queued += len;
  if (!s->connecting) stream_flush(s);
  if (!s->dead && !s->we_paused && s->queued > STREAM_HIGH_WATER) {
    s->we_paused = 1;
    host_send(F_PAUSE_OUT, s->id, NULL, 0, NULL, 0);
  }
}

/* Reads one chunk from the socket and relays it; EOF sends EOF, an error ends the channel. */
static void stream_read(struct stream *s) {
  ssize_t n;
  do n = recv(s->fd, readbuf, sizeof readbuf, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    host_send(F_DATA_OUT, s->id, readbuf, (size_t)n, NULL, 0);
  } else if (n == 0) {
    s->rd_eof = 1;
    host_send(F_EOF_OUT, s->id, NULL, 0, NULL, 0);
    maybe_finish(s);
  } else if (errno != EAGAIN) {
    stream_end(s, 1, strerror(errno));
  }
}

void stream_frame(uint8_t type, uint32_t ch, const uint8_t *p, uint32_t len) {
  if (type == F_TCP_CONNECT) {
    stream_connect(ch, p, len);
    return;
  }
  struct stream *s = stream_find(ch);
  if (!s) return; /* already closed on this side; the host learns it from our CLOSE */
  switch (type) {
  case F_DATA: on_data(s, p, len); break;
  case F_EOF:
    s->eof_pending = 1;
    if (!s->connecting) stream_flush(s);
    break;
  case F_CLOSE: stream_end(s, 0, NULL); break;
  case F_PAUSE: s->host_paused = 1; break;
  case F_RESUME: s->host_paused = 0; break;
  default: break;
  }
}

size_t stream_pollset(size_t n) {
  n = listener_pollset(n);
  for (size_t i = 0; i < nstreams; i++) {
    struct stream *s = streams[i];
    if (s->dead) continue;
    short ev = 0;
    if (s->connecting || s->q_head) ev |= POLLOUT;
    if (!s->connecting && !s->host_paused && !s->rd_eof) ev |= POLLIN;
    if (ev) n = poll_add(n, s->fd, ev, OWN_STREAM, s);
  }
  return n;
}

void stream_dispatch(short revents, int kind, void *owner) {
  if (kind == OWN_LISTENER) {
    listener_accept();
    return;
  }
  struct stream *s = owner;
  if (s->dead || !revents) return;
  if (s->connecting) {
    connect_progress(s);
    return;
  }
  if ((revents & (POLLOUT | POLLERR | POLLHUP)) && s->q_head) stream_flush(s);
  if (!s->dead && !s->host_paused && !s->rd_eof && (revents & (POLLIN | POLLHUP | POLLERR)))
    stream_read(s);
}

int stream_next_timeout(int64_t now) {
  int64_t best = -1;
  for (size_t i = 0; i < nstreams; i++) {
    struct stream *s = streams[i];
    if (s->dead || !s->connecting) continue;
    int64_t left = s->deadline_ms - now;
    if (left < 0) left = 0;
    if (best < 0 || left < best) best = left;
  }
  return (int)best;
}

void stream_check_timeouts(int64_t now) {
  for (size_t i = 0; i < nstreams; i++) {
    struct stream *s = streams[i];
    if (!s->dead && s->connecting && now >= s->deadline_ms) connect_timed_out(s);
  }
}

void stream_collect(void) {
  size_t j = 0;
  for (size_t i = 0; i < nstreams; i++) {
    if (streams[i]->dead) free(streams[i]);
    else streams[j++] = streams[i];
  }
  nstreams = j;
}
