// tspod-portfwd: publishes a container's ports. It binds every host port in the namespace it is
// started in (the host's), then enters the network namespace the container is reached from and
// forwards there: TCP by splice(2) between the two sockets, a thread per direction; UDP by a flow
// per client address, forgotten after a minute of silence. It runs until it is killed, and its
// sockets close with it, so a port is free again the moment it is gone.
//
//   tspod-portfwd NETNS TAG PROTO:HOST_IP:HOST_PORT:TARGET_IP:TARGET_PORT...
//
// TAG names the container (its own netns path) so that its teardown finds this process. When every
// port is bound it writes "ready\n" to stdout and closes it; a port it cannot bind ends it with
// exit status 1 and one line on stderr naming the port.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { MAX_PORTS = 4096, CHUNK = 1 << 20, UDP_IDLE_SEC = 60 };

struct mapping {
  int udp;
  struct sockaddr_in host, target;
  int fd;
};

static struct mapping maps[MAX_PORTS];
static int nmaps;

static int parse_mapping(char *s, struct mapping *m) {
  char *f[5];
  for (int i = 0; i < 5; i++) {
    f[i] = strsep(&s, ":");
    if (!f[i]) return -1;
  }
  if (strcmp(f[0], "tcp") && strcmp(f[0], "udp")) return -1;
  m->udp = !strcmp(f[0], "udp");
  m->host.sin_family = m->target.sin_family = AF_INET;
  m->host.sin_addr.s_addr = htonl(INADDR_ANY);
  if (*f[1] && inet_pton(AF_INET, f[1], &m->host.sin_addr) != 1) return -1;
  if (inet_pton(AF_INET, f[3], &m->target.sin_addr) != 1) return -1;
  m->host.sin_port = htons(atoi(f[2]));
  m->target.sin_port = htons(atoi(f[4]));
  return 0;
}

static pthread_attr_t small_stack;

static void start_thread(void *(*fn)(void *), void *arg) {
  pthread_t t;
  if (pthread_create(&t, &small_stack, fn, arg) != 0) abort();
}

// ---- TCP: one connection is two halves, each a thread splicing one way through its own pipe.

struct conn {
  int client, server;
  int halves_left;
  pthread_mutex_t lock;
};

struct half {
  struct conn *c;
  int from, to;
};

static void conn_release(struct conn *c) {
  pthread_mutex_lock(&c->lock);
  int last = --c->halves_left == 0;
  pthread_mutex_unlock(&c->lock);
  if (!last) return;
  close(c->client);
  close(c->server);
  free(c);
}

static void *splice_half(void *arg) {
  struct half *h = arg;
  int p[2];
  if (pipe2(p, O_CLOEXEC) == 0) {
    fcntl(p[1], F_SETPIPE_SZ, CHUNK);
    for (;;) {
      ssize_t n = splice(h->from, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
      if (n <= 0) break;
      while (n > 0) {
        ssize_t m = splice(p[0], NULL, h->to, NULL, n, SPLICE_F_MOVE);
        if (m <= 0) goto done;
        n -= m;
      }
    }
  done:
    close(p[0]);
    close(p[1]);
  }
  // The other side sees our end of the stream; a reset one stops the other half too.
  shutdown(h->to, SHUT_WR);
  shutdown(h->from, SHUT_RD);
  conn_release(h->c);
  free(h);
  return NULL;
}

struct accepted {
  int client;
  struct sockaddr_in target;
};

static void *connect_target(void *arg) {
  struct accepted *a = arg;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&a->target, sizeof a->target) != 0) {
    if (s >= 0) close(s);
    close(a->client);
    free(a);
    return NULL;
  }
  struct conn *c = calloc(1, sizeof *c);
  c->client = a->client;
  c->server = s;
  c->halves_left = 2;
  pthread_mutex_init(&c->lock, NULL);
  free(a);
  struct half *up = malloc(sizeof *up), *down = malloc(sizeof *down);
  *up = (struct half){c, c->client, c->server};
  *down = (struct half){c, c->server, c->client};
  start_thread(splice_half, down);
  splice_half(up);
  return NULL;
}

// ---- UDP: a socket in the namespace per client address, and a thread carrying its replies back.

struct flow {
  struct flow *next;
  struct sockaddr_in client;
  int listener, fd;
};

static struct flow *flows;
static pthread_mutex_t flows_lock = PTHREAD_MUTEX_INITIALIZER;

static void *udp_replies(void *arg) {
  struct flow *f = arg;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(f->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break; // a minute of silence (SO_RCVTIMEO), or the target refused
    sendto(f->listener, buf, n, 0, (struct sockaddr *)&f->client, sizeof f->client);
  }
  pthread_mutex_lock(&flows_lock);
  for (struct flow **p = &flows; *p; p = &(*p)->next) {
    if (*p == f) { *p = f->next; break; }
  }
  pthread_mutex_unlock(&flows_lock);
  close(f->fd);
  free(f);
  return NULL;
}

static void udp_datagram(struct mapping *m) {
  char buf[65536];
  struct sockaddr_in from;
  socklen_t len = sizeof from;
  ssize_t n = recvfrom(m->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
  if (n < 0) return;
  pthread_mutex_lock(&flows_lock);
  struct flow *f = flows;
  while (f && !(f->listener == m->fd && f->client.sin_addr.s_addr == from.sin_addr.s_addr && f->client.sin_port == from.sin_port)) f = f->next;
  if (!f) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct timeval idle = {UDP_IDLE_SEC, 0};
    if (s >= 0 && setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle) == 0 && connect(s, (struct sockaddr *)&m->target, sizeof m->target) == 0) {
      f = calloc(1, sizeof *f);
      f->client = from;
      f->listener = m->fd;
      f->fd = s;
      f->next = flows;
      flows = f;
      start_thread(udp_replies, f);
    } else if (s >= 0) {
      close(s);
    }
  }
  int fd = f ? f->fd : -1;
  pthread_mutex_unlock(&flows_lock);
  if (fd >= 0) send(fd, buf, n, MSG_DONTWAIT);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s NETNS TAG PROTO:HOST_IP:HOST_PORT:TARGET_IP:TARGET_PORT...\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  for (int i = 3; i < argc && nmaps < MAX_PORTS; i++) {
    char *spec = strdup(argv[i]);
    if (parse_mapping(spec, &maps[nmaps]) != 0) {
      fprintf(stderr, "invalid port mapping %s\n", argv[i]);
      return 2;
    }
    free(spec);
    nmaps++;
  }
  // Bind every port in the host's namespace first: nothing is forwarded unless all of them are.
  for (int i = 0; i < nmaps; i++) {
    struct mapping *m = &maps[i];
    m->fd = socket(AF_INET, (m->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (!m->udp) setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&m->host, sizeof m->host) != 0 || (!m->udp && listen(m->fd, 512) != 0)) {
      char ip[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &m->host.sin_addr, ip, sizeof ip);
      fprintf(stderr, "cannot publish %s:%d/%s: %s\n", ip, ntohs(m->host.sin_port), m->udp ? "udp" : "tcp", errno == EADDRINUSE ? "address already in use" : strerror(errno));
      return 1;
    }
  }
  int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
    fprintf(stderr, "cannot enter the network namespace %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  close(ns);
  pthread_attr_init(&small_stack);
  pthread_attr_setstacksize(&small_stack, 256 * 1024);
  pthread_attr_setdetachstate(&small_stack, PTHREAD_CREATE_DETACHED);
  if (write(1, "ready\n", 6) != 6) return 1;
  int devnull = open("/dev/null", O_RDWR);
  dup2(devnull, 0);
  dup2(devnull, 1);
  dup2(devnull, 2);

  struct pollfd *pfds = calloc(nmaps, sizeof *pfds);
  for (int i = 0; i < nmaps; i++) pfds[i] = (struct pollfd){.fd = maps[i].fd, .events = POLLIN};
  for (;;) {
    if (poll(pfds, nmaps, -1) < 0) continue;
    for (int i = 0; i < nmaps; i++) {
      if (!(pfds[i].revents & POLLIN)) continue;
      if (maps[i].udp) { udp_datagram(&maps[i]); continue; }
      int client = accept4(maps[i].fd, NULL, NULL, SOCK_CLOEXEC);
      if (client < 0) continue;
      struct accepted *a = malloc(sizeof *a);
      a->client = client;
      a->target = maps[i].target;
      start_thread(connect_target, a);
    }
  }
}
