/* SPAWN record parsing and process creation (docs/agent-protocol.md, "Process setup"). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static char *dup_record(const uint8_t *p, uint32_t len) {
  if (memchr(p, 0, len)) return NULL;
  char *s = malloc((size_t)len + 1);
  if (!s) return NULL;
  memcpy(s, p, len);
  s[len] = 0;
  return s;
}

/* Strict decimal: digits only, no sign, at most max. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
  if (!*s) return -1;
  unsigned long v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (unsigned long)(*s - '0');
    if (v > max) return -1;
  }
  *out = v;
  return 0;
}

static int push_str(char ***arr, size_t *n, char *s) {
  char **next = realloc(*arr, (*n + 2) * sizeof(char *));
  if (!next) return -1;
  next[(*n)++] = s;
  next[*n] = NULL;
  *arr = next;
  return 0;
}

static int parse_groups(struct spawn_req *r, char *s) {
  free(r->groups);
  r->groups = NULL;
  r->ngroups = 0;
  r->has_groups = 1;
  if (!*s) return 0;
  for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
    unsigned long g;
    if (parse_uint(tok, 4294967294UL, &g) || r->ngroups >= 65536) return -1;
    gid_t *next = realloc(r->groups, (r->ngroups + 1) * sizeof(gid_t));
    if (!next) return -1;
    r->groups = next;
    r->groups[r->ngroups++] = (gid_t)g;
  }
  return 0;
}

static int parse_tty(struct spawn_req *r, const char *s) {
  char rows[16], *comma = strchr(s, ',');
  unsigned long nr, nc;
  if (!comma || (size_t)(comma - s) >= sizeof rows) return -1;
  memcpy(rows, s, (size_t)(comma - s));
  rows[comma - s] = 0;
  if (parse_uint(rows, 65535, &nr) || parse_uint(comma + 1, 65535, &nc)) return -1;
  r->tty = 1;
  r->rows = (unsigned short)nr;
  r->cols = (unsigned short)nc;
  return 0;
}

/* Applies one record; s is owned by the request afterwards or freed here. */
static int apply_record(struct spawn_req *r, uint8_t tag, char *s) {
  unsigned long v = 0;
  int rc = 0;
  switch (tag) {
  case 1: return push_str(&r->argv, &r->argc, s) ? (free(s), -1) : 0;
  case 2: return push_str(&r->envp, &r->envc, s) ? (free(s), -1) : 0;
  case 3: free(r->cwd); r->cwd = s; return 0;
  case 4: free(r->path); r->path = s; return 0;
  case 5:
    rc = parse_uint(s, 4294967294UL, &v);
    r->uid = (uid_t)v;
    r->has_uid = 1;
    break;
  case 6:
    rc = parse_uint(s, 4294967294UL, &v);
    r->gid = (gid_t)v;
    r->has_gid = 1;
    break;
  case 7: rc = parse_groups(r, s); break;
  case 8: rc = parse_tty(r, s); break;
  case 9:
    if (strcmp(s, "1") && strcmp(s, "0")) rc = -1;
    r->want_stdin = s[0] == '1';
    break;
  default: break; /* unknown tags are skipped */
  }
  free(s);
  return rc;
}

int spawn_parse(const uint8_t *p, uint32_t len, struct spawn_req *r, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  uint32_t off = 0;
  while (off < len) {
    if (len - off < 5) {
      snprintf(err, errlen, "truncated record header at offset %u", off);
      return -1;
    }
    uint8_t tag = p[off];
    uint32_t rl = get_u32(p + off + 1);
    off += 5;
    if (rl > len - off) {
      snprintf(err, errlen, "record tag %u: length %u exceeds the frame", tag, rl);
      return -1;
    }
    char *s = dup_record(p + off, rl);
    if (!s) {
      snprintf(err, errlen, "record tag %u: contains a NUL byte or out of memory", tag);
      return -1;
    }
    if (apply_record(r, tag, s)) {
      snprintf(err, errlen, "record tag %u: invalid value", tag);
      return -1;
    }
    off += rl;
  }
  if (r->argc == 0) {
    snprintf(err, errlen, "argv is empty");
    return -1;
  }
  if (!r->envp && push_str(&r->envp, &r->envc, NULL) == 0) r->envc = 0;
  return 0;
}

void spawn_free(struct spawn_req *r) {
  for (size_t i = 0; i < r->argc; i++) free(r->argv[i]);
  for (size_t i = 0; i < r->envc; i++) free(r->envp[i]);
  free(r->argv);
  free(r->envp);
  free(r->cwd);
  free(r->path);
  free(r->groups);
  memset(r, 0, sizeof *r);
}

/* --- child side: only async-signal-safe-enough calls; the agent is single-threaded. --- */

static void say(const char *a, const char *b, const char *c) {
  char line[PATH_MAX + 256];
  int n = snprintf(line, sizeof line, "%s%s%s\n", a, b, c);
  if (n > 0) {
    ssize_t ignored = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    (void)ignored;
  }
}

static __attribute__((noreturn)) void fail(int code, const char *what, const char *arg, int e) {
  char tail[256];
  snprintf(tail, sizeof tail, ": %s", strerror(e));
  say(what, arg, tail);
  _exit(code);
}

static const char *env_get(char *const *envp, const char *key) {
  size_t kl = strlen(key);
  for (; *envp; envp++)
    if (!strncmp(*envp, key, kl) && (*envp)[kl] == '=') return *envp + kl + 1;
  return NULL;
}

static __attribute__((noreturn)) void exec_failed(const char *prog, int e) {
  if (e == ENOENT || e == ENOTDIR) fail(127, "", prog, e);
  fail(126, "", prog, e);
}

/* execve with execvpe-style PATH search, using PATH from the process's own environment. */
static __attribute__((noreturn)) void exec_prog(const struct spawn_req *r) {
  const char *prog = r->path ? r->path : r->argv[0];
  if (!*prog) exec_failed(prog, ENOENT);
  if (strchr(prog, '/')) {
    execve(prog, r->argv, r->envp);
    exec_failed(prog, errno);
  }
  const char *path = env_get(r->envp, "PATH");
  if (!path) path = DEFAULT_PATH;
  int denied = 0, other = 0;
  char buf[PATH_MAX];
  size_t pl = strlen(prog);
  for (const char *seg = path;; seg++) {
    const char *end = strchrnul(seg, ':');
    size_t dl = (size_t)(end - seg);
    if (dl + pl + 2 <= sizeof buf) {
      if (dl) memcpy(buf, seg, dl); else buf[dl++] = '.';
      buf[dl] = '/';
      memcpy(buf + dl + 1, prog, pl + 1);
      execve(buf, r->argv, r->envp);
      if (errno == EACCES) denied = 1;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ELOOP &&
               errno != ENAMETOOLONG && !other)
        other = errno;
    }
    seg = end;
    if (!*seg) break;
  }
  if (other) exec_failed(prog, other);
  if (denied) exec_failed(prog, EACCES);
  say(prog, ": command not found", "");
  _exit(127);
}

static void reset_signals(void) {
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static void close_other_fds(void) {
  if (close_range(3, ~0U, 0) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 3; fd < max; fd++) close(fd);
}

static __attribute__((noreturn)) void child(const struct spawn_req *r, int fds[3]) {
  setsid();
  if (r->tty && ioctl(fds[0], TIOCSCTTY, 0) < 0) fail(1, "sprite-agent: ", "TIOCSCTTY", errno);
  for (int i = 0; i < 3; i++)
    if (dup2(fds[i], i) < 0) fail(1, "sprite-agent: ", "dup2", errno);
  if (r->has_groups || r->has_uid || r->has_gid) {
    if (setgroups(r->ngroups, r->groups) < 0 && r->has_groups)
      fail(1, "sprite-agent: ", "setgroups", errno);
  }
  if (r->has_gid && setgid(r->gid) < 0) fail(1, "sprite-agent: ", "setgid", errno);
  if (r->has_uid && setuid(r->uid) < 0) fail(1, "sprite-agent: ", "setuid", errno);
  if (r->cwd && chdir(r->cwd) < 0) fail(1, "cannot change directory to ", r->cwd, errno);
  reset_signals();
  close_other_fds();
  exec_prog(r);
}

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Opens the PTY pair: the parent keeps the master; the slave stays open until after fork, so
 * the master never sees a hang-up before the child has the terminal. */
static int open_pty(const struct spawn_req *r, int *master, int *slave) {
  *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (*master < 0) return -1;
  char name[64];
  struct winsize ws = {.ws_row = r->rows, .ws_col = r->cols};
  if (grantpt(*master) || unlockpt(*master) || ptsname_r(*master, name, sizeof name) ||
      ioctl(*master, TIOCSWINSZ, &ws) < 0 ||
      (*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
    int e = errno;
    close(*master);
    errno = e;
    return -1;
  }
  return 0;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

int spawn_start(const struct spawn_req *r, struct spawn_io *io) {
  int child_fds[3] = {-1, -1, -1}, mine[3] = {-1, -1, -1}, p[2];
  if (r->tty) {
    if (open_pty(r, &mine[0], &child_fds[0]) < 0) return -1;
    child_fds[1] = child_fds[2] = child_fds[0];
    mine[1] = mine[0];
  } else {
    int ok = 1;
    if (r->want_stdin) {
      ok = pipe2(p, O_CLOEXEC) == 0;
      if (ok) child_fds[0] = p[0], mine[0] = p[1];
    } else {
      ok = (child_fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;
    }
    for (int i = 1; ok && i < 3; i++) {
      ok = pipe2(p, O_CLOEXEC) == 0;
      if (ok) mine[i] = p[0], child_fds[i] = p[1];
    }
    for (int i = 0; ok && i < 3; i++) ok = mine[i] < 0 || set_nonblock(mine[i]) == 0;
    if (!ok) {
      int e = errno;
      close_all(child_fds, 3);
      close_all(mine, 3);
      errno = e;
      return -1;
    }
  }
  pid_t pid = fork();
  if (pid == 0) child(r, child_fds);
  int e = errno;
  close_all(child_fds, r->tty ? 1 : 3);
  if (pid < 0) {
    close_all(mine, r->tty ? 1 : 3);
    errno = e;
    return -1;
  }
  io->pid = pid;
  io->in_fd = mine[0];
  io->out_fd = mine[1];
  io->err_fd = r->tty ? -1 : mine[2];
  return 0;
}
