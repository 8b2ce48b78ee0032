/*
 * tspod's launcher, what bin/tspod points at. Node is multithreaded and can never enter a user
 * namespace itself, so this single-threaded program does: a pause process holds the user and
 * mount namespaces (started once by dist/src/userns/setup.js, which maps the subordinate ids with
 * newuidmap/newgidmap and records "PID NS" in pause.pid), and every call joins them with setns(2)
 * and execs Node inside. A shell script doing the same through nsenter cost ~6 ms per command
 * (its $(...) forks and the extra exec), which a container start can't afford.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_TSPOD 125

static void die(const char *what) {
  fprintf(stderr, "Error: tspod launcher: %s: %s\n", what, strerror(errno));
  exit(EXIT_TSPOD);
}

/* Read a small file whole into buf; false when it can't be read. */
static int read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return 0;
  buf[n] = 0;
  return 1;
}

/*
 * The pause process's pid when it is alive and still holds the namespace pause.pid recorded:
 * a zombie (nobody reaps orphans on many machines) keeps its namespace links, so its state counts.
 */
static long pause_alive(const char *pidfile) {
  char rec[128], path[64], stat[512], ns[64];
  if (!read_small(pidfile, rec, sizeof rec)) return 0;
  char recorded_ns[64];
  long pid;
  if (sscanf(rec, "%ld %63s", &pid, recorded_ns) != 2 || pid <= 0) return 0;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (!read_small(path, stat, sizeof stat)) return 0;
  char *end = strrchr(stat, ')');
  if (!end || end[1] != ' ' || end[2] == 'Z' || end[2] == 'X') return 0;
  snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
  ssize_t n = readlink(path, ns, sizeof ns - 1);
  if (n < 0) return 0;
  ns[n] = 0;
  return strcmp(ns, recorded_ns) == 0 ? pid : 0;
}

static void join(long pid, const char *kind, int nstype) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/%s", pid, kind);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, nstype) < 0) die(nstype == CLONE_NEWUSER ? "could not join the pause process's user namespace" : "could not join the pause process's mount namespace");
  close(fd);
}

/*
 * Whether the command (the first word after the global flags) is `name`. Global flags take a value
 * unless they are one of these booleans or written --flag=value; the list follows GLOBAL_FLAGS in
 * src/commands/globals.ts (a unit test holds them together).
 */
static const char *BOOLEAN_GLOBALS[] = { "-D", "--debug", "--noout", "--syslog", "--trace", "--remote", "-r", "--help", "-h", "--version", "-v", NULL };

static int command_is(int argc, char **argv, const char *name) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) return strcmp(a, name) == 0;
    if (strcmp(a, "--") == 0) return 0;
    int boolean = strchr(a, '=') != NULL;
    for (const char **b = BOOLEAN_GLOBALS; *b && !boolean; b++) boolean = strcmp(a, *b) == 0;
    if (!boolean) i++;
  }
  return 0;
}

int main(int argc, char **argv) {
  /* Where this launcher really is (through any symlink): the bundle and setup.js are beside it. */
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) die("cannot find its own path in /proc/self/exe");
  self[n] = 0;
  char dir[PATH_MAX], cli[PATH_MAX + 32], setup[PATH_MAX + 32];
  snprintf(dir, sizeof dir, "%s", self);
  *strrchr(dir, '/') = 0;
  snprintf(cli, sizeof cli, "%s/bundle/tspod.cjs", dir);
  snprintf(setup, sizeof setup, "%s/src/userns/setup.js", dir);
  /* conmon runs this launcher again when a detached container exits. */
  setenv("TSPOD_LAUNCHER", self, 1);
  /*
   * Node parses NODE_EXTRA_CA_CERTS at every start (~28 ms for a distribution's CA bundle), when
   * most commands make no TLS connection: tspod reads it from TSPOD_EXTRA_CA_CERTS when one does.
   */
  const char *extra_ca = getenv("NODE_EXTRA_CA_CERTS");
  if (extra_ca && *extra_ca) {
    setenv("TSPOD_EXTRA_CA_CERTS", extra_ca, 1);
    unsetenv("NODE_EXTRA_CA_CERTS");
  }

  /*
   * node [--max-semi-space-size=1] -- CLI ARGS...: a pull or push streams hundreds of MB through small
   * buffers, and a 1 MB young generation trims its peak RSS by ~15 MB; other commands keep V8's
   * defaults, since any V8 flag costs Node its startup snapshot (~20 ms). "--" ends Node's own
   * options (Node 20 would otherwise read --env-file from tspod's arguments).
   */
  char **args = calloc((size_t)argc + 4, sizeof *args);
  if (!args) die("out of memory");
  int a = 0;
  args[a++] = "node";
  if (argc > 1 && (strcmp(argv[1], "pull") == 0 || strcmp(argv[1], "push") == 0)) args[a++] = "--max-semi-space-size=1";
  args[a++] = "--";
  args[a++] = cli;
  for (int i = 1; i < argc; i++) args[a++] = argv[i];
  args[a] = NULL;

  const char *inside = getenv("_TSPOD_IN_USERNS");
  if ((inside && *inside) || getuid() == 0) {
    execvp("node", args);
    die("cannot run node");
  }

  char uid[24], gid[24], rt[PATH_MAX], pidfile[PATH_MAX + 16];
  snprintf(uid, sizeof uid, "%u", getuid());
  snprintf(gid, sizeof gid, "%u", getgid());
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  struct stat st;
  if (xdg && *xdg && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode)) snprintf(rt, sizeof rt, "%s/tspod", xdg);
  else snprintf(rt, sizeof rt, "/tmp/tspod-run-%s", uid);
  setenv("TSPOD_HOST_UID", uid, 1);
  setenv("TSPOD_HOST_GID", gid, 1);
  setenv("TSPOD_RUNTIME_DIR", rt, 1);
  /* doctor looks at the machine from outside: it must run where the user namespace can't be made;
     quadlet only writes unit files, as systemd's generator, early and without the namespace. */
  if (command_is(argc, argv, "doctor") || command_is(argc, argv, "quadlet")) {
    execvp("node", args);
    die("cannot run node");
  }
  snprintf(pidfile, sizeof pidfile, "%s/pause.pid", rt);

  long pid = pause_alive(pidfile);
  if (!pid) {
    pid_t child = fork();
    if (child < 0) die("cannot fork");
    if (child == 0) {
      execlp("node", "node", "--", setup, (char *)NULL);
      die("cannot run node");
    }
    int status;
    while (waitpid(child, &status, 0) < 0) if (errno != EINTR) die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return EXIT_TSPOD;
    pid = pause_alive(pidfile);
    if (!pid) { fprintf(stderr, "Error: the tspod pause process did not start (see above)\n"); return EXIT_TSPOD; }
  }

  /*
   * Joining a mount namespace moves the working directory to its root: come back to the same
   * path (the namespace is a copy of the host's), or to the same directory when the path is gone.
   */
  char cwd[PATH_MAX];
  int have_cwd = getcwd(cwd, sizeof cwd) != NULL;
  int cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  join(pid, "user", CLONE_NEWUSER);
  join(pid, "mnt", CLONE_NEWNS);
  if (!(have_cwd && chdir(cwd) == 0) && !(cwd_fd >= 0 && fchdir(cwd_fd) == 0)) {
    if (chdir("/") < 0) die("chdir /");
  }
  if (cwd_fd >= 0) close(cwd_fd);

  setenv("_TSPOD_IN_USERNS", "1", 1);
  execvp("node", args);
  die("cannot run node");
}
