// fail_sync_preload: an LD_PRELOAD library for end-to-end tests that makes
// the sync of RocksDB's write-ahead log fail as a failing disk would.
//
// It interposes fdatasync() and fsync(). While the file named by the
// environment variable HAVEN_FAIL_SYNC_TRIGGER exists, a sync of a
// write-ahead log file (a file named <digits>.log, as RocksDB names them)
// returns -1 with errno EIO, and a line saying so goes to stderr. Every
// other call, and every call while the trigger file is absent, goes to the
// C library. The data written before the sync stays in the page cache, as
// after a real failed fsync that the kernel has not dropped yet.
//
// Built as a shared library (tests/testing/CMakeLists.txt); a test starts
// havend with LD_PRELOAD=<the library> and the trigger variable set, then
// creates the trigger file when the next commit must fail.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*SyncFn)(int);

static SyncFn RealSync(const char* name, SyncFn* cache) {
  SyncFn fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
  if (fn == NULL) {
    fn = (SyncFn)dlsym(RTLD_NEXT, name);
    __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
  }
  return fn;
}

// Whether `fd` is open on a RocksDB write-ahead log file; `path` gets its
// path.
static int IsWriteAheadLog(int fd, char* path, size_t path_size) {
  char link[64];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, path_size - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  const char* slash = strrchr(path, '/');
  const char* base = slash != NULL ? slash + 1 : path;
  size_t length = strlen(base);
  if (length <= 4 || strcmp(base + length - 4, ".log") != 0) return 0;
  for (size_t i = 0; i + 4 < length; ++i) {
    if (base[i] < '0' || base[i] > '9') return 0;
  }
  return 1;
}

static int ShouldFail(int fd, const char* what) {
  const char* trigger = getenv("HAVEN_FAIL_SYNC_TRIGGER");
  if (trigger == NULL || trigger[0] == '\0') return 0;
  const int saved_errno = errno;
  char path[4096];
  const int fail =
      access(trigger, F_OK) == 0 && IsWriteAheadLog(fd, path, sizeof(path));
  errno = saved_errno;
  if (fail) {
    char line[4200];
    int length =
        snprintf(line, sizeof(line),
                 "fail_sync_preload: %s(%s) fails with EIO\n", what, path);
    if (length > 0) {
      size_t size =
          (size_t)length < sizeof(line) ? (size_t)length : sizeof(line) - 1;
      ssize_t ignored = write(STDERR_FILENO, line, size);
      (void)ignored;
    }
  }
  return fail;
}

int fdatasync(int fd) {
  static SyncFn real = NULL;
  if (ShouldFail(fd, "fdatasync")) {
    errno = EIO;
    return -1;
  }
  SyncFn fn = RealSync("fdatasync", &real);
  if (fn == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return fn(fd);
}

int fsync(int fd) {
  static SyncFn real = NULL;
  if (ShouldFail(fd, "fsync")) {
    errno = EIO;
    return -1;
  }
  SyncFn fn = RealSync("fsync", &real);
  if (fn == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return fn(fd);
}
