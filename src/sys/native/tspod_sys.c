// The libc calls Node lacks, as a small Node-API addon: flock, mount, umount2, mknod, l*xattr, and a
// SOCK_SEQPACKET connect. Each returns what the call returned, or -errno; src/sys/index.ts turns
// that into SysErrors. It loads in well under a millisecond, where a general FFI took ~4 ms at
// every start. Paths may be strings or Buffers (file names are bytes).
#include <node_api.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>

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

static napi_value init(napi_env env, napi_value exports) {
  const struct { const char *name; napi_callback fn; } fns[] = {
    { "flock", js_flock }, { "mount", js_mount }, { "umount2", js_umount2 }, { "mknod", js_mknod },
    { "lsetxattr", js_lsetxattr }, { "lgetxattr", js_lgetxattr }, { "connectSeqpacket", js_connect_seqpacket }, { "shutdown", js_shutdown },
  };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
