/* sprite-agent: PID 1 of a sprite. Wire protocol: docs/agent-protocol.md. */
#ifndef SPRITE_AGENT_H
#define SPRITE_AGENT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AGENT_VERSION "sprite-agent/0.2.0"
#define HOST_FD 3
#define HEADER_LEN 9
#define MAX_FRAME (1u << 20)
#define READ_CHUNK (64u * 1024)
#define MAX_STDIN_QUEUE ((size_t)64 << 20)
#define DRAIN_MS 1000
/* Stream channels (stream.c). */
#define STREAM_ID_BIT 0x80000000u   /* set on the ids the agent allocates */
#define STREAM_HIGH_WATER (1u << 20) /* queued bytes that make the agent send PAUSE */
#define STREAM_LOW_WATER (256u << 10)
#define STREAM_MAX_QUEUE ((size_t)8 << 20) /* a host that ignores PAUSE loses the channel */
#define MAX_STREAMS 1024
#define CONNECT_TIMEOUT_MS 10000
#define API_SOCK_DEFAULT "/.sprite/api.sock"
#define API_SOCK_ENV "SPRITE_AGENT_API_SOCK"

/* Host -> agent frame types. */
#define F_SPAWN 0x01
#define F_STDIN 0x02
#define F_STDIN_EOF 0x03
#define F_RESIZE 0x04
#define F_SIGNAL 0x05
#define F_RELEASE 0x06
#define F_PING 0x07
#define F_TCP_CONNECT 0x08
#define F_DATA 0x09
#define F_EOF 0x0a
#define F_CLOSE 0x0b
#define F_PAUSE 0x0c
#define F_RESUME 0x0d
/* Agent -> host frame types. */
#define F_READY 0x80
#define F_STARTED 0x81
#define F_STDOUT 0x82
#define F_STDERR 0x83
#define F_EXIT 0x84
#define F_SPAWN_FAILED 0x85
#define F_PONG 0x87
#define F_CONN_ACCEPTED 0x88
#define F_CONN_OPENED 0x89
#define F_CONN_FAILED 0x8a
#define F_DATA_OUT 0x8b
#define F_EOF_OUT 0x8c
#define F_CLOSE_OUT 0x8d
#define F_PAUSE_OUT 0x8e
#define F_RESUME_OUT 0x90
#define F_LOG 0x8f

static inline uint32_t get_u32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* host.c: the fd 3 channel. */
int host_send(uint8_t type, uint32_t ch, const void *a, size_t alen, const void *b, size_t blen);
int host_is_dead(void);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t now_ms(void);

/* spawn.c: SPAWN records and the child side of fork. */
struct spawn_req {
  char **argv;
  size_t argc;
  char **envp;
  size_t envc;
  char *cwd;
  char *path;
  uid_t uid;
  gid_t gid;
  int has_uid, has_gid, has_groups;
  gid_t *groups;
  size_t ngroups;
  int tty;
  unsigned short rows, cols;
  int want_stdin;
};
struct spawn_io {
  pid_t pid;
  int in_fd;  /* stdin pipe write end, the PTY master, or -1 */
  int out_fd; /* stdout pipe read end or the PTY master */
  int err_fd; /* stderr pipe read end, or -1 in TTY mode */
};
int spawn_parse(const uint8_t *p, uint32_t len, struct spawn_req *req, char *err, size_t errlen);
void spawn_free(struct spawn_req *req);
/* Returns 0, or -1 with errno set when nothing was started. */
int spawn_start(const struct spawn_req *req, struct spawn_io *io);

/* chan.c: per-process channels. */
struct chunk {
  struct chunk *next;
  uint32_t len, off;
  uint8_t data[];
};
struct chan {
  uint32_t id;
  pid_t pid;
  int tty;
  int in_fd, out_fd, err_fd;
  int pty_hup; /* the PTY slave side is all closed; the master stays open until EXIT */
  struct chunk *q_head, *q_tail;
  size_t queued;
  int eof_pending;
  int exited;
  int status;
  int64_t exit_ms;
  int done;
};
extern struct chan **chans;
extern size_t nchans;

struct chan *chan_find(uint32_t id);
struct chan *chan_add(uint32_t id, const struct spawn_io *io, int tty);
void chan_stdin(struct chan *c, const uint8_t *p, uint32_t len);
void chan_stdin_eof(struct chan *c);
void chan_flush_stdin(struct chan *c);
void chan_read(struct chan *c, int fd);
void chan_signal(struct chan *c, int sig);
void chan_reaped(pid_t pid, int status);
void chan_check_exits(int64_t now);
int chan_next_timeout(int64_t now);
void chan_collect(void);
void chan_kill_all(void);
void group_add(pid_t pgid);
/* sprite-agent.c: the poll set; owners are a chan, a stream or the listener (kind). */
enum { OWN_CHAN = 1, OWN_STREAM = 2, OWN_LISTENER = 3 };
size_t poll_add(size_t n, int fd, short events, int kind, void *owner);

/* stream.c: byte-stream channels (api.sock connections, TCP_CONNECT). */
struct stream;
void api_listen(void);
int stream_exists(uint32_t id);
void stream_frame(uint8_t type, uint32_t ch, const uint8_t *p, uint32_t len);
size_t stream_pollset(size_t n);
void stream_dispatch(short revents, int kind, void *owner);
int stream_next_timeout(int64_t now);
void stream_check_timeouts(int64_t now);
void stream_collect(void);
void group_prune(void);
void group_kill_all(void);

#endif
