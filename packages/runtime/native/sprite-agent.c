/* sprite-agent: PID 1 of a sprite. One poll() loop relays every process over fd 3.
 * Protocol: docs/agent-protocol.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"

static int sig_fd = -1;
static uint8_t *inbuf;
static size_t in_len, in_cap;

static void reap_all(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) chan_reaped(pid, status);
  group_prune();
}

/* SIGKILLs every child (direct children include reparented orphans, since the agent is a
 * subreaper) until none is left or about 2 s passed. */
static void kill_children(void) {
  char path[300], buf[512];
  DIR *d = opendir("/proc");
  if (!d) return;
  pid_t me = getpid();
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    int ppid;
    char state;
    if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == me)
      kill((pid_t)atoi(e->d_name), SIGKILL);
  }
  closedir(d);
}

static __attribute__((noreturn)) void shutdown_agent(int code) {
  chan_kill_all();
  if (getpid() == 1) kill(-1, SIGKILL);
  for (int i = 0; i < 200; i++) {
    kill_children();
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    }
    if (pid < 0 && errno == ECHILD) break;
    usleep(10000);
  }
  exit(code);
}

static void send_failed(uint32_t ch, int code, const char *msg) {
  uint8_t c = (uint8_t)(code > 0 && code < 256 ? code : 1);
  host_send(F_SPAWN_FAILED, ch, &c, 1, msg, strlen(msg));
}

static void on_spawn(uint32_t ch, const uint8_t *p, uint32_t len) {
  char err[256];
  struct spawn_req req;
  if (ch == 0 || chan_find(ch) || stream_exists(ch)) {
    send_failed(ch, ch == 0 ? EINVAL : EEXIST, ch == 0 ? "channel 0 is reserved" : "channel in use");
    return;
  }
  if (spawn_parse(p, len, &req, err, sizeof err) < 0) {
    send_failed(ch, EINVAL, err);
    spawn_free(&req);
    return;
  }
  struct spawn_io io;
  if (spawn_start(&req, &io) < 0) {
    int e = errno;
    snprintf(err, sizeof err, "spawn: %s", strerror(e));
    send_failed(ch, e, err);
  } else if (!chan_add(ch, &io, req.tty)) {
    kill(io.pid, SIGKILL);
    send_failed(ch, ENOMEM, "out of memory");
  } else {
    uint8_t pid[4];
    put_u32(pid, (uint32_t)io.pid);
    host_send(F_STARTED, ch, pid, 4, NULL, 0);
  }
  spawn_free(&req);
}

static void on_frame(uint8_t type, uint32_t ch, const uint8_t *p, uint32_t len) {
  if (type == F_SPAWN) return on_spawn(ch, p, len);
  if (type >= F_TCP_CONNECT && type <= F_RESUME) {
    stream_frame(type, ch, p, len);
    return;
  }
  if (type == F_PING) {
    host_send(F_PONG, ch, p, len, NULL, 0);
    return;
  }
  if (type < F_STDIN || type > F_RELEASE) {
    agent_log("ignoring frame of unknown type 0x%02x", type);
    return;
  }
  struct chan *c = chan_find(ch);
  if (!c) return; /* the process already exited, or RELEASE after EXIT */
  switch (type) {
  case F_STDIN: chan_stdin(c, p, len); break;
  case F_STDIN_EOF: chan_stdin_eof(c); break;
  case F_RESIZE:
    if (len != 4 || !c->tty || c->out_fd < 0) break;
    struct winsize ws = {.ws_row = (unsigned short)(p[0] << 8 | p[1]),
                         .ws_col = (unsigned short)(p[2] << 8 | p[3])};
    ioctl(c->out_fd, TIOCSWINSZ, &ws);
    break;
  case F_SIGNAL:
    if (len == 1 && p[0] > 0 && p[0] < NSIG) chan_signal(c, p[0]);
    else agent_log("channel %u: invalid SIGNAL payload", ch);
    break;
  default: break; /* RELEASE of a live channel: its EXIT still follows */
  }
}

/* Reads what fd 3 has and handles every complete frame. EOF or a protocol error ends the agent. */
static void on_host_readable(void) {
  for (int rounds = 0; rounds < 16; rounds++) {
    if (in_cap - in_len < READ_CHUNK) {
      size_t cap = in_cap ? in_cap * 2 : 4 * READ_CHUNK;
      if (cap > HEADER_LEN + MAX_FRAME + READ_CHUNK) cap = HEADER_LEN + MAX_FRAME + READ_CHUNK;
      uint8_t *next = cap > in_cap ? realloc(inbuf, cap) : inbuf;
      if (!next) {
        agent_log("out of memory reading from the host");
        shutdown_agent(2);
      }
      inbuf = next;
      in_cap = cap;
    }
    ssize_t n = read(HOST_FD, inbuf + in_len, in_cap - in_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      if (n < 0) agent_log("reading the host channel: %s", strerror(errno));
      shutdown_agent(0);
    }
    in_len += (size_t)n;
    size_t off = 0;
    while (in_len - off >= HEADER_LEN) {
      uint32_t len = get_u32(inbuf + off + 5);
      if (len > MAX_FRAME) {
        agent_log("protocol error: frame of %u bytes exceeds %u, exiting", len, MAX_FRAME);
        shutdown_agent(2);
      }
      if (in_len - off < HEADER_LEN + (size_t)len) break;
      on_frame(inbuf[off], get_u32(inbuf + off + 1), inbuf + off + HEADER_LEN, len);
      off += HEADER_LEN + len;
    }
    memmove(inbuf, inbuf + off, in_len - off);
    in_len -= off;
  }
}

static void on_signals(void) {
  struct signalfd_siginfo si;
  int reap = 0;
  while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) reap = 1;
    else if (getpid() == 1 && si.ssi_pid != 0) {
      /* Sent from inside the sprite (a sender outside our pid namespace shows as pid 0): as
       * PID 1 the agent would otherwise be immune; it must stay so, since the host controls
       * the sprite through it. Not logged: a sprite could flood the host's log. */
    } else {
      agent_log("signal %u received, stopping every process", si.ssi_signo);
      shutdown_agent(0);
    }
  }
  if (reap) reap_all();
}

static void setup(void) {
  for (int fd = 0; fd < 3; fd++) /* keep 0-2 taken so pipes never land there */
    if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);
  if (fcntl(HOST_FD, F_SETFD, FD_CLOEXEC) < 0) {
    fprintf(stderr, "sprite-agent: fd 3 is not open: run with the host socket as fd 3\n");
    exit(2);
  }
  fcntl(HOST_FD, F_SETFL, fcntl(HOST_FD, F_GETFL) | O_NONBLOCK);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sig_fd < 0) {
    perror("sprite-agent: signalfd");
    exit(2);
  }
}

struct owner {
  int kind;
  void *p;
};
static struct pollfd *pfds;
static struct owner *owners;
static size_t pcap;

size_t poll_add(size_t n, int fd, short events, int kind, void *owner) {
  if (n == pcap) {
    size_t cap = pcap ? pcap * 2 : 64;
    struct pollfd *np = realloc(pfds, cap * sizeof *np);
    if (np) pfds = np;
    struct owner *no = realloc(owners, cap * sizeof *no);
    if (no) owners = no;
    if (!np || !no) return n; /* skipped this round; polled again next time */
    pcap = cap;
  }
  pfds[n] = (struct pollfd){.fd = fd, .events = events};
  owners[n] = (struct owner){kind, owner};
  return n + 1;
}

static size_t add_pfd(size_t n, int fd, short events, struct chan *c) {
  return poll_add(n, fd, events, OWN_CHAN, c);
}

static size_t build_pollset(void) {
  size_t n = add_pfd(0, HOST_FD, POLLIN, NULL);
  n = add_pfd(n, sig_fd, POLLIN, NULL);
  n = stream_pollset(n);
  for (size_t i = 0; i < nchans; i++) {
    struct chan *c = chans[i];
    short want_out = c->q_head && c->in_fd >= 0 && !c->pty_hup ? POLLOUT : 0;
    if (c->out_fd >= 0 && !c->pty_hup) n = add_pfd(n, c->out_fd, POLLIN | (c->tty ? want_out : 0), c);
    if (c->err_fd >= 0) n = add_pfd(n, c->err_fd, POLLIN, c);
    if (!c->tty && want_out) n = add_pfd(n, c->in_fd, POLLOUT, c);
  }
  return n;
}

static void dispatch(struct pollfd *p, struct owner *o) {
  if (!p->revents) return;
  if (o->kind != OWN_CHAN) {
    stream_dispatch(p->revents, o->kind, o->p);
    return;
  }
  struct chan *c = o->p;
  if (p->fd == c->in_fd && (p->revents & (POLLOUT | POLLERR | POLLHUP)) && c->q_head)
    chan_flush_stdin(c);
  if ((p->fd == c->out_fd || p->fd == c->err_fd) && (p->revents & (POLLIN | POLLHUP | POLLERR)))
    chan_read(c, p->fd);
}

int main(void) {
  setup();
  api_listen(); /* before READY: a ready sandbox already has its api socket */
  host_send(F_READY, 0, AGENT_VERSION, strlen(AGENT_VERSION), NULL, 0);
  for (;;) {
    size_t n = build_pollset();
    int64_t now = now_ms();
    int timeout = chan_next_timeout(now), st = stream_next_timeout(now);
    if (st >= 0 && (timeout < 0 || st < timeout)) timeout = st;
    if (poll(pfds, n, timeout) < 0 && errno != EINTR) {
      agent_log("poll: %s", strerror(errno));
      shutdown_agent(2);
    }
    if (pfds[1].revents) on_signals();
    if (pfds[0].revents) on_host_readable();
    for (size_t i = 2; i < n; i++) dispatch(&pfds[i], &owners[i]);
    chan_check_exits(now_ms());
    stream_check_timeouts(now_ms());
    chan_collect();
    stream_collect();
    if (host_is_dead()) {
      agent_log("the host channel is closed, stopping every process");
      shutdown_agent(0);
    }
  }
}
