// The libc calls Node lacks, as a small Node-API addon: flock, mount, umount2, mknod, l*xattr, a
// SOCK_SEQPACKET connect, a new network namespace bound to a file, and posix_spawn with a thread
// that waits for the child. Each returns what the call returned, or -errno; src/sys/index.ts turns
// that into SysErrors. It loads in well under a millisecond, where a general FFI took ~4 ms at
// every start. Paths may be strings or Buffers (file names are bytes).
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/syscall.h>

#define ARGS(n)                                                                \
  size_t argc = n;                                                             \
  napi_value argv[n];                                                          \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);

static napi_value int_value(napi_env env, long long v) {
  napi_value out;
  napi_create_double(env, (double)v, &out);
  return out;
}

static napi_value result(napi_env env, long long rc) { return int_value(env, rc < 0 ? -errno : rc); }

static long long number_arg(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return (long long)d;
}

// A string or a Buffer, NUL-terminated, in `buf` (freed by the caller); NULL for null/undefined.
static char *bytes_arg(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) return NULL;
  bool is_buffer = false;
  napi_is_buffer(env, v, &is_buffer);
  if (is_buffer) {
    void *data;
    size_t len;
    napi_get_buffer_info(env, v, &data, &len);
    char *s = malloc(len + 1);
    memcpy(s, data, len);
    s[len] = 0;
    return s;
  }
  size_t len = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static napi_value js_flock(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd = (int)number_arg(env, argv[0]), op = (int)number_arg(env, argv[1]);
  int rc;
  do rc = flock(fd, op); while (rc < 0 && errno == EINTR);
  return result(env, rc);
}

static napi_value js_mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  char *source = bytes_arg(env, argv[0]), *target = bytes_arg(env, argv[1]), *fstype = bytes_arg(env, argv[2]), *data = bytes_arg(env, argv[4]);
  int rc = mount(source, target, fstype, (unsigned long)number_arg(env, argv[3]), data);
  napi_value out = result(env, rc);
  free(source); free(target); free(fstype); free(data);
  return out;
}

static napi_value js_umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *target = bytes_arg(env, argv[0]);
  napi_value out = result(env, umount2(target, (int)number_arg(env, argv[1])));
  free(target);
  return out;
}

static napi_value js_mknod(napi_env env, napi_callback_info info) {
  ARGS(4);
  char *path = bytes_arg(env, argv[0]);
  dev_t dev = makedev((unsigned)number_arg(env, argv[2]), (unsigned)number_arg(env, argv[3]));
  napi_value out = result(env, mknod(path, (mode_t)number_arg(env, argv[1]), dev));
  free(path);
  return out;
}

static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  ARGS(3);
  char *path = bytes_arg(env, argv[0]), *name = bytes_arg(env, argv[1]);
  void *value;
  size_t len;
  napi_get_buffer_info(env, argv[2], &value, &len);
  napi_value out = result(env, lsetxattr(path, name, value, len, 0));
  free(path); free(name);
  return out;
}

// The value as a Buffer, or -errno (ENODATA when there is none).
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = bytes_arg(env, argv[0]), *name = bytes_arg(env, argv[1]);
  napi_value out;
  for (;;) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) { out = int_value(env, -errno); break; }
    void *data;
    napi_create_buffer(env, (size_t)size, &data, &out);
    ssize_t got = lgetxattr(path, name, data, (size_t)size);
    if (got == size) break;
    if (got < 0 && errno != ERANGE) { out = int_value(env, -errno); break; }
    // It changed between the two calls: ask again.
  }
  free(path); free(name);
  return out;
}

// The names of a file's xattrs, as a Buffer of NUL-terminated names, or -errno.
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *path = bytes_arg(env, argv[0]);
  napi_value out;
  for (;;) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) { out = int_value(env, -errno); break; }
    void *data;
    napi_create_buffer(env, (size_t)size, &data, &out);
    if (size == 0) break;
    ssize_t got = llistxattr(path, data, (size_t)size);
    // overlayfs counts its own attributes in the size, then leaves them out of the list: fewer is fine.
    if (got >= 0) {
      if (got < size) { void *copy; napi_create_buffer_copy(env, (size_t)got, data, &copy, &out); }
      break;
    }
    if (errno != ERANGE) { out = int_value(env, -errno); break; }
  }
  free(path);
  return out;
}

/*
 * sd_notify(3): one datagram to a unix socket, the path systemd gives in NOTIFY_SOCKET (a leading
 * "@" names an abstract socket). Node has no unix datagram sockets.
 */
static napi_value js_notify(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = bytes_arg(env, argv[0]), *msg = bytes_arg(env, argv[1]);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  size_t len = strlen(path);
  int rc = 0;
  if (len == 0 || len >= sizeof(addr.sun_path)) rc = -EINVAL;
  else {
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@') addr.sun_path[0] = 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) rc = -errno;
    else {
      if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) rc = -errno;
      close(fd);
    }
  }
  free(path); free(msg);
  return int_value(env, rc);
}

// A blocking, close-on-exec SOCK_SEQPACKET socket connected to a unix path (conmon's attach socket).
static napi_value js_connect_seqpacket(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *path = bytes_arg(env, argv[0]);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof(addr.sun_path)) { free(path); return int_value(env, -ENAMETOOLONG); }
  strcpy(addr.sun_path, path);
  free(path);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return int_value(env, -errno);
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    close(fd);
    return int_value(env, -e);
  }
  return int_value(env, fd);
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  return result(env, shutdown((int)number_arg(env, argv[0]), (int)number_arg(env, argv[1])));
}

/*
 * A new network namespace, bound to `target` (an existing file), as `unshare --net=FILE` makes one
 * but without starting a process: a thread of ours enters it, binds it, and ends. The thread never
 * goes back (it couldn't: the host's namespace belongs to the parent user namespace), and nothing
 * else of this process ever moves.
 */
struct netns_job { const char *target; int err; };

static void *netns_thread(void *arg) {
  struct netns_job *job = arg;
  job->err = 0;
  if (unshare(CLONE_NEWNET) < 0 || mount("/proc/thread-self/ns/net", job->target, NULL, MS_BIND, NULL) < 0) job->err = errno;
  return NULL;
}

static napi_value js_bind_new_netns(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *target = bytes_arg(env, argv[0]);
  struct netns_job job = { target, 0 };
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, netns_thread, &job);
  if (rc == 0) rc = pthread_join(thread, NULL);
  if (rc == 0) rc = job.err;
  free(target);
  return int_value(env, -rc);
}

/*
 * A user namespace with the given maps and a network namespace it owns, bound to two existing
 * files: for a container with a user namespace of its own whose network tspod sets up before it
 * starts. The network must belong to the container's user namespace, or `exec` could not enter it
 * (runc joins the user namespace first). A thread can't enter a new user namespace, so a forked
 * child does, doing nothing but system calls until it exits.
 */
static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int e = errno;
  close(fd);
  errno = e;
  return n < 0 ? -1 : 0;
}

static napi_value js_bind_new_userns_netns(napi_env env, napi_callback_info info) {
  ARGS(4);
  char *user_target = bytes_arg(env, argv[0]), *net_target = bytes_arg(env, argv[1]);
  char *uid_map = bytes_arg(env, argv[2]), *gid_map = bytes_arg(env, argv[3]);
  int up[2], down[2], err = 0;
  if (pipe2(up, O_CLOEXEC) < 0) { err = errno; goto out; }
  if (pipe2(down, O_CLOEXEC) < 0) { err = errno; close(up[0]); close(up[1]); goto out; }
  pid_t child = fork();
  if (child < 0) { err = errno; goto close_pipes; }
  if (child == 0) {
    char c = 0;
    if (unshare(CLONE_NEWUSER) < 0) _exit(1);
    if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) != 1) _exit(1);
    if (unshare(CLONE_NEWNET) < 0) _exit(2);
    if (write(up[1], &c, 1) != 1) _exit(1);
    (void)!read(down[0], &c, 1);
    _exit(0);
  }
  char path[64], c = 0;
  if (read(up[0], &c, 1) != 1) { err = ECHILD; goto reap; }
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
  if (write_file(path, uid_map) < 0) { err = errno; goto reap; }
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
  if (write_file(path, gid_map) < 0) { err = errno; goto reap; }
  if (write(down[1], &c, 1) != 1 || read(up[0], &c, 1) != 1) { err = ECHILD; goto reap; }
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
  if (mount(path, user_target, NULL, MS_BIND, NULL) < 0) { err = errno; goto reap; }
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
  if (mount(path, net_target, NULL, MS_BIND, NULL) < 0) { err = errno; umount2(user_target, MNT_DETACH); goto reap; }
reap:
  kill(child, SIGKILL);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
close_pipes:
  close(up[0]); close(up[1]); close(down[0]); close(down[1]);
out:
  free(user_target); free(net_target); free(uid_map); free(gid_map);
  return int_value(env, -err);
}

/* A JS array of strings as a NULL-terminated vector (each element and the vector freed by free_vector). */
static char **string_vector(napi_env env, napi_value array) {
  uint32_t n = 0;
  napi_get_array_length(env, array, &n);
  char **v = calloc(n + 1, sizeof *v);
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    napi_get_element(env, array, i, &item);
    v[i] = bytes_arg(env, item);
  }
  return v;
}

static void free_vector(char **v) {
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

/*
 * spawn(file, argv, envp, fds, newSession): the child's fd i is fds[i] (-1: /dev/null), every other
 * fd of ours is close-on-exec already. posix_spawn starts the child without copying this process's
 * page tables, where fork (what Node's spawn does) costs ~3-5 ms at Node's size. Signals the child
 * gets at their defaults and unblocked, as Node ignores SIGPIPE. Returns the pid, or -errno.
 */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  ARGS(5);
  char *file = bytes_arg(env, argv[0]);
  char **args = string_vector(env, argv[1]), **envp = string_vector(env, argv[2]);
  bool new_session = false;
  napi_get_value_bool(env, argv[4], &new_session);
  uint32_t nfds = 0;
  napi_get_array_length(env, argv[3], &nfds);
  int moved[nfds > 0 ? nfds : 1];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value item;
    napi_get_element(env, argv[3], i, &item);
    int fd = (int)number_arg(env, item);
    // Moved out of the way first, so that giving one fd its place never clobbers another's source.
    moved[i] = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 64);
    if (fd < 0) posix_spawn_file_actions_addopen(&actions, (int)i, "/dev/null", O_RDWR, 0);
    else posix_spawn_file_actions_adddup2(&actions, moved[i], (int)i);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (new_session ? POSIX_SPAWN_SETSID : 0));
  pid_t pid = -1;
  int rc = posix_spawn(&pid, file, &actions, &attr, args, envp);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  for (uint32_t i = 0; i < nfds; i++) if (moved[i] >= 0) close(moved[i]);
  free(file); free_vector(args); free_vector(envp);
  return int_value(env, rc ? -rc : pid);
}

/* pipe2(O_CLOEXEC): [read end, write end], or -errno. */
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return int_value(env, -errno);
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, int_value(env, fds[0]));
  napi_set_element(env, out, 1, int_value(env, fds[1]));
  return out;
}

/*
 * waitExit(pid): a thread waits for the child and writes how it ended, two ints (exit code, or -1;
 * signal, or 0), into a pipe whose read end it returns (or -errno); the main thread reads it like
 * any pipe. The thread never calls into Node, so Node may exit while it still waits. Node's own
 * reaping only ever waits for the pids it spawned, so it never takes this one.
 */
struct wait_job { pid_t pid; int fd; };

static void *wait_thread(void *arg) {
  struct wait_job job = *(struct wait_job *)arg;
  free(arg);
  int status = 0;
  while (waitpid(job.pid, &status, 0) < 0 && errno == EINTR) {}
  int out[2] = { WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0 };
  ssize_t ignored = write(job.fd, out, sizeof out);
  (void)ignored;
  close(job.fd);
  return NULL;
}

static napi_value js_wait_exit(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return int_value(env, -errno);
  struct wait_job *job = malloc(sizeof *job);
  job->pid = (pid_t)number_arg(env, argv[0]);
  job->fd = fds[1];
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  int rc = pthread_create(&thread, &attr, wait_thread, job);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    free(job);
    close(fds[0]);
    close(fds[1]);
    return int_value(env, -rc);
  }
  return int_value(env, fds[0]);
}

// A terminal's size (TIOCGWINSZ) as rows * 65536 + columns, or -errno: Node asks only its own
// output streams, and a foreground -t run may have a terminal only on stdin.
/*
 * Whether this kernel runs x32 system calls (CONFIG_X86_X32_ABI): getpid with the x32 bit set
 * answers ENOSYS where it does not. A seccomp filter need not hold rules for an ABI that can't be used.
 */
static napi_value js_x32_syscalls(napi_env env, napi_callback_info info) {
  (void)info;
  bool yes = false;
#if defined(__x86_64__)
  yes = syscall(0x40000000 | SYS_getpid) >= 0;
#endif
  napi_value v;
  napi_get_boolean(env, yes, &v);
  return v;
}

static napi_value js_window_size(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct winsize ws;
  if (ioctl((int)number_arg(env, argv[0]), TIOCGWINSZ, &ws) < 0) return int_value(env, -errno);
  return int_value(env, (long long)ws.ws_row * 65536 + ws.ws_col);
}

// cfmakeraw(3) on a terminal, returning its settings before (to give back to restoreTerminal), or
// -errno. Node's raw mode keeps ONLCR, which doubles the \r of a container's own pty.
static napi_value js_make_raw(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = (int)number_arg(env, argv[0]);
  struct termios before, raw;
  if (tcgetattr(fd, &before) < 0) return int_value(env, -errno);
  raw = before;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) < 0) return int_value(env, -errno);
  napi_value out;
  void *data;
  napi_create_buffer_copy(env, sizeof(before), &before, &data, &out);
  return out;
}

static napi_value js_restore_terminal(napi_env env, napi_callback_info info) {
  ARGS(2);
  void *data;
  size_t len;
  napi_get_buffer_info(env, argv[1], &data, &len);
  if (len != sizeof(struct termios)) return int_value(env, -EINVAL);
  return result(env, tcsetattr((int)number_arg(env, argv[0]), TCSANOW, (struct termios *)data));
}

static napi_value init(napi_env env, napi_value exports) {
  const struct { const char *name; napi_callback fn; } fns[] = {
    { "flock", js_flock }, { "mount", js_mount }, { "umount2", js_umount2 }, { "mknod", js_mknod },
    { "lsetxattr", js_lsetxattr }, { "lgetxattr", js_lgetxattr }, { "llistxattr", js_llistxattr }, { "connectSeqpacket", js_connect_seqpacket }, { "notify", js_notify }, { "shutdown", js_shutdown },
    { "bindNewNetns", js_bind_new_netns }, { "bindNewUsernsNetns", js_bind_new_userns_netns }, { "spawn", js_spawn }, { "pipe", js_pipe }, { "waitExit", js_wait_exit },
    { "windowSize", js_window_size }, { "x32Syscalls", js_x32_syscalls }, { "makeRaw", js_make_raw }, { "restoreTerminal", js_restore_terminal },
  };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
