/* Internal to stream.c and net.c: one byte-stream channel. */
#ifndef SPRITE_STREAM_H
#define SPRITE_STREAM_H

#include <poll.h>
#include <sys/socket.h>

#include "agent.h"

struct stream {
  uint32_t id;
  int fd;
  int connecting;   /* TCP_CONNECT in progress: fd is the socket of addrs[cur] */
  int64_t deadline_ms;
  struct sockaddr_storage addrs[2];
  socklen_t addrlens[2];
  int naddrs, cur;
  int host_paused;  /* the host sent PAUSE: the socket is not read */
  int we_paused;    /* the agent sent PAUSE: the queue passed STREAM_HIGH_WATER */
  int rd_eof;       /* the socket hit EOF; EOF was sent */
  int eof_pending;  /* the host sent EOF: shut the write side down once the queue is empty */
  int wr_done;
  int dead;
  struct chunk *q_head, *q_tail; /* host data not yet written to the socket */
  size_t queued;
};

struct stream *stream_find(uint32_t id);
struct stream *stream_add(uint32_t id, int fd);
size_t stream_count(void);
void stream_end(struct stream *s, int tell_host, const char *why);
void stream_flush(struct stream *s);

/* net.c */
size_t listener_pollset(size_t n);
void listener_accept(void);
void stream_connect(uint32_t ch, const uint8_t *p, uint32_t len);
void connect_progress(struct stream *s);
void connect_timed_out(struct stream *s);

#endif
