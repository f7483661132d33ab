// idmap-mount: creates an idmapped bind mount of <source> at <target>.
// Usage: idmap-mount <source> <target> <uid-base> <count>
// On-disk uid/gid 0..count-1 appear as host uid/gid uid-base..uid-base+count-1.
// The mapping comes from a throwaway user namespace: a child unshares CLONE_NEWUSER,
// the parent writes its uid_map/gid_map and keeps /proc/<child>/ns/user open, then
// open_tree(2), mount_setattr(2) with MOUNT_ATTR_IDMAP and move_mount(2) attach the clone.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct idmap_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

static void die(const char *what) {
  fprintf(stderr, "idmap-mount: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int parse_u32(const char *s, uint32_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || !end || *end || s[0] == '-' || v > UINT32_MAX) return -1;
  *out = (uint32_t)v;
  return 0;
}

static void write_file(pid_t pid, const char *name, const char *data) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  ssize_t len = (ssize_t)strlen(data);
  if (write(fd, data, (size_t)len) != len) die(path);
  close(fd);
}

// Returns an fd of a user namespace mapping 0..count-1 to base..base+count-1.
static int make_userns(uint32_t base, uint32_t count) {
  int ready[2], release[2];
  if (pipe2(ready, O_CLOEXEC) || pipe2(release, O_CLOEXEC)) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    char c = 'x';
    close(ready[0]);
    close(release[1]);
    if (unshare(CLONE_NEWUSER)) _exit(1);
    if (write(ready[1], &c, 1) != 1) _exit(1);
    while (read(release[0], &c, 1) > 0) {
    }
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  char c;
  if (read(ready[0], &c, 1) != 1) {
    errno = ECHILD;
    die("unshare(CLONE_NEWUSER) in child");
  }
  char map[64];
  snprintf(map, sizeof map, "0 %u %u\n", base, count);
  write_file(pid, "setgroups", "deny");
  write_file(pid, "uid_map", map);
  write_file(pid, "gid_map", map);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int nsfd = open(path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) die(path);
  close(release[1]);
  waitpid(pid, NULL, 0);
  return nsfd;
}

int main(int argc, char **argv) {
  uint32_t base, count;
  if (argc != 5 || parse_u32(argv[3], &base) || parse_u32(argv[4], &count) || count == 0) {
    fprintf(stderr, "usage: idmap-mount <source> <target> <uid-base> <count>\n");
    return 2;
  }
  int nsfd = make_userns(base, count);
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, argv[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) die("open_tree");
  struct idmap_mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)nsfd};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr)) die("mount_setattr");
  if (syscall(SYS_move_mount, fd, "", AT_FDCWD, argv[2], MOVE_MOUNT_F_EMPTY_PATH)) die("move_mount");
  close(fd);
  close(nsfd);
  return 0;
}
