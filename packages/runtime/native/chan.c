/* Per-process channels: stdin queues, output relay, exit after draining. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

struct chan **chans;
size_t nchans;
static size_t chans_cap;

/* Process groups ever started; kept after EXIT so background members can still be killed. */
static pid_t *groups;
static size_t ngroups, groups_cap;

static uint8_t readbuf[READ_CHUNK];

struct chan *chan_find(uint32_t id) {
  for (size_t i = 0; i < nchans; i++)
    if (chans[i]->id == id && !chans[i]->done) return chans[i];
  return NULL;
}

struct chan *chan_add(uint32_t id, const struct spawn_io *io, int tty) {
  if (nchans == chans_cap) {
    size_t cap = chans_cap ? chans_cap * 2 : 16;
    struct chan **next = realloc(chans, cap * sizeof *next);
    if (!next) return NULL;
    chans = next;
    chans_cap = cap;
  }
  struct chan *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->id = id;
  c->pid = io->pid;
  c->tty = tty;
  c->in_fd = io->in_fd;
  c->out_fd = io->out_fd;
  c->err_fd = io->err_fd;
  chans[nchans++] = c;
  group_add(io->pid);
  return c;
}

static void drop_queue(struct chan *c) {
  while (c->q_head) {
    struct chunk *n = c->q_head->next;
    free(c->q_head);
    c->q_head = n;
  }
  c->q_tail = NULL;
  c->queued = 0;
}

/* Closes the stdin side; in TTY mode the master stays open for output. */
static void close_stdin(struct chan *c) {
  drop_queue(c);
  if (!c->tty && c->in_fd >= 0) close(c->in_fd);
  c->in_fd = -1;
}

void chan_flush_stdin(struct chan *c) {
  while (c->q_head && c->in_fd >= 0) {
    struct chunk *k = c->q_head;
    ssize_t w = write(c->in_fd, k->data + k->off, k->len - k->off);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) close_stdin(c); /* EPIPE: the reader is gone */
      return;
    }
    k->off += (uint32_t)w;
    c->queued -= (size_t)w;
    if (k->off == k->len) {
      c->q_head = k->next;
      if (!c->q_head) c->q_tail = NULL;
      free(k);
    }
  }
  if (!c->q_head && c->eof_pending && !c->tty) close_stdin(c);
}

void chan_stdin(struct chan *c, const uint8_t *p, uint32_t len) {
  if (c->in_fd < 0 || len == 0 || c->eof_pending) return;
  if (c->queued + len > MAX_STDIN_QUEUE) {
    agent_log("channel %u: more than %zu bytes of stdin queued, killing it", c->id,
              (size_t)MAX_STDIN_QUEUE);
    close_stdin(c);
    chan_signal(c, SIGKILL);
    return;
  }
  struct chunk *k = malloc(sizeof *k + len);
  if (!k) {
    agent_log("channel %u: out of memory queueing stdin, killing it", c->id);
    close_stdin(c);
    chan_signal(c, SIGKILL);
    return;
  }
  k->next = NULL;
  k->len = len;
  k->off = 0;
  memcpy(k->data, p, len);
  if (c->q_tail) c->q_tail->next = k; else c->q_head = k;
  c->q_tail = k;
  c->queued += len;
  chan_flush_stdin(c);
}

void chan_stdin_eof(struct chan *c) {
  if (c->tty) return;
  c->eof_pending = 1;
  if (!c->q_head) close_stdin(c);
}

/* Closing a PTY master hangs up the slave and SIGHUPs the session, so while the main process
 * runs (it may sit between its last close() and exit()) the master is only parked. */
static void close_output(struct chan *c, int fd) {
  if (c->tty && fd == c->out_fd && !c->exited) {
    c->pty_hup = 1;
    drop_queue(c);
    return;
  }
  if (fd == c->out_fd) {
    c->out_fd = -1;
    if (c->tty) {
      drop_queue(c);
      c->in_fd = -1;
    }
  } else if (fd == c->err_fd) {
    c->err_fd = -1;
  }
  close(fd);
}

/* Reads one chunk; returns 1 when data was relayed, 0 on EAGAIN, -1 at EOF. */
static int read_once(struct chan *c, int fd) {
  ssize_t n;
  do n = read(fd, readbuf, sizeof readbuf);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    host_send(fd == c->err_fd ? F_STDERR : F_STDOUT, c->id, readbuf, (size_t)n, NULL, 0);
    return 1;
  }
  if (n < 0 && errno == EAGAIN) return 0;
  close_output(c, fd); /* EOF, or EIO from a PTY master whose slave side is all closed */
  return -1;
}

void chan_read(struct chan *c, int fd) { read_once(c, fd); }

void chan_signal(struct chan *c, int sig) {
  if (kill(-c->pid, sig) < 0 && errno == ESRCH && !c->exited) kill(c->pid, sig);
}

void chan_reaped(pid_t pid, int status) {
  for (size_t i = 0; i < nchans; i++) {
    struct chan *c = chans[i];
    if (c->pid == pid && !c->exited) {
      c->exited = 1;
      c->status = status;
      c->exit_ms = now_ms();
      return;
    }
  }
}

static void finish(struct chan *c) {
  int fds[2] = {c->out_fd, c->err_fd};
  if (c->pty_hup) fds[0] = -1;
  for (int i = 0; i < 2; i++) /* whatever is already buffered, bounded */
    for (int k = 0; k < 64 && fds[i] >= 0 && read_once(c, fds[i]) > 0; k++) {
    }
  if (c->out_fd >= 0) close_output(c, c->out_fd);
  if (c->err_fd >= 0) close_output(c, c->err_fd);
  close_stdin(c);
  uint8_t p[2] = {0, 0};
  if (WIFEXITED(c->status)) {
    p[0] = (uint8_t)WEXITSTATUS(c->status);
  } else if (WIFSIGNALED(c->status)) {
    int s = WTERMSIG(c->status);
    p[0] = (uint8_t)(128 + s > 255 ? 255 : 128 + s);
    p[1] = (uint8_t)s;
  } else {
    p[0] = 255;
  }
  host_send(F_EXIT, c->id, p, 2, NULL, 0);
  c->done = 1;
}

void chan_check_exits(int64_t now) {
  for (size_t i = 0; i < nchans; i++) {
    struct chan *c = chans[i];
    if (c->done || !c->exited) continue;
    int outputs_done = (c->out_fd < 0 || c->pty_hup) && c->err_fd < 0;
    if (outputs_done || now >= c->exit_ms + DRAIN_MS) finish(c);
  }
}

int chan_next_timeout(int64_t now) {
  int64_t best = -1;
  for (size_t i = 0; i < nchans; i++) {
    struct chan *c = chans[i];
    if (c->done || !c->exited) continue;
    int64_t left = c->exit_ms + DRAIN_MS - now;
    if (left < 0) left = 0;
    if (best < 0 || left < best) best = left;
  }
  return (int)best;
}

void chan_collect(void) {
  size_t j = 0;
  for (size_t i = 0; i < nchans; i++) {
    if (chans[i]->done) free(chans[i]);
    else chans[j++] = chans[i];
  }
  nchans = j;
}

void chan_kill_all(void) {
  for (size_t i = 0; i < nchans; i++) chan_signal(chans[i], SIGKILL);
  group_kill_all();
}

void group_add(pid_t pgid) {
  if (ngroups == groups_cap) {
    size_t cap = groups_cap ? groups_cap * 2 : 16;
    pid_t *next = realloc(groups, cap * sizeof *next);
    if (!next) return; /* a forgotten group is still reached through its channel */
    groups = next;
    groups_cap = cap;
  }
  groups[ngroups++] = pgid;
}

void group_prune(void) {
  size_t j = 0;
  for (size_t i = 0; i < ngroups; i++)
    if (kill(-groups[i], 0) == 0 || errno != ESRCH) groups[j++] = groups[i];
  ngroups = j;
}

void group_kill_all(void) {
  for (size_t i = 0; i < ngroups; i++) kill(-groups[i], SIGKILL);
}
