/*
 * engine.h - the small interface between bench/driver.c and one adapter
 * per engine (bench/eng_*.c).
 *
 * The driver runs every workload of one engine in a child process of its
 * own (so that peak RSS is per engine), and forks grandchildren for the
 * workloads of other processes.  An adapter only knows how to open a store
 * in a directory of its own and to put, get, append and read by index.
 *
 * Errors: an adapter that cannot go on calls bench_die(), which prints the
 * message and ends the (child) process; the driver then reports the
 * engine's remaining workloads as failed.  Nothing in an adapter returns
 * an error code.
 */
#ifndef BENCH_ENGINE_H
#define BENCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a store holds. */
enum bench_kind {
  BK_DICT = 0, /* key -> value */
  BK_LIST = 1  /* values by index 0 .. n-1, appended in order */
};

/* How a store is opened. */
enum bench_mode {
  BM_CREATE = 0, /* a new, empty store (the directory is new and empty) */
  BM_WRITE = 1,  /* an existing store, to read and write (another process) */
  BM_READ = 2    /* an existing store, read-only (another process) */
};

/* Engine capabilities. */
#define ENG_SHARED 0x1u /* other processes can open the store (by path) */
#define ENG_CONCURRENT 0x2u /* ... and one writes while another reads */
#define ENG_LIST 0x4u   /* append and get by index */
#define ENG_FILES 0x8u  /* the store lives in files (disk bytes) */

/* The run's parameters, set by the driver before any adapter call. */
struct bench_params {
  uint64_t n;         /* entries of the stores */
  size_t klen, vlen;  /* bytes of every key and of every value */
  const char *tmpdir; /* the run's private temporary directory */
  bool floor_thp;     /* -H: the floor asks for transparent huge pages */
};
extern struct bench_params bench_p;

struct engine {
  const char *name;  /* column name: "fsc", "lmdb", ... */
  const char *label; /* one line: API, configuration, durability */
  unsigned caps;     /* ENG_* */
  /* Why a capability is missing, for the report (NULL: not missing). */
  const char *why_not_shared, *why_not_concurrent, *why_not_list,
      *why_no_files;

  /* Optional.  Called in the driver's own process before the engine's
   * child is forked: start what the engine needs (a server).  Returns the
   * pid of a helper process to kill if the run is interrupted (0: none),
   * or -1 when the engine cannot run here, with the reason in why. */
  pid_t (*setup)(const char *dir, char *why, size_t whylen);
  /* Optional.  Stop what setup started (the driver's process). */
  void (*teardown)(void);
  /* Optional: peak resident bytes of the process that holds the data when
   * that is not the calling process (a server); 0: use getrusage. */
  uint64_t (*peak_rss)(void);
  /* Versions of the engine's library (and server), for the report. */
  void (*version)(char *buf, size_t cap);

  /* Open a store in `dir` (which the driver made for it). */
  void *(*open)(const char *dir, enum bench_kind kind, enum bench_mode mode);
  /* d[key] = val (insert or replace). */
  void (*put)(void *h, const void *key, size_t klen, const void *val,
              size_t vlen);
  /* d[key]: 1 with *val, *vlen set (valid until the next call on h), or 0
   * if missing. */
  int (*get)(void *h, const void *key, size_t klen, const void **val,
             size_t *vlen);
  /* Optional (ENG_LIST): append; the value at index i. */
  void (*append)(void *h, const void *val, size_t vlen);
  int (*lget)(void *h, uint64_t i, const void **val, size_t *vlen);
  /* Optional: make the writes so far visible to other handles (the
   * batched variants commit their open transaction).  Timed with the
   * writes it ends. */
  void (*flush)(void *h);
  /* Close and free the handle (after a flush). */
  void (*close)(void *h);
};

/* bench/bench_host.c: the program's name and the engine it is running
 * (NULL: none yet), for bench_die's messages. */
extern const char *bench_prog;
extern const struct engine *bench_running;

/* Print "program: engine: message" on stderr and end the process (exit
 * status 3). */
void bench_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* dir/name into buf (dies if it does not fit). */
void bench_path(char *buf, size_t cap, const char *dir, const char *name);

/* The adapters.  Each exists only when its library was found. */
extern const struct engine eng_fsc, eng_floor;
#ifdef BENCH_HAVE_LMDB
extern const struct engine eng_lmdb, eng_lmdb_batch;
#endif
#ifdef BENCH_HAVE_TKRZW
extern const struct engine eng_tkrzw;
#endif
#ifdef BENCH_HAVE_KC
extern const struct engine eng_kc;
#endif
#ifdef BENCH_HAVE_SQLITE
extern const struct engine eng_sqlite;
#endif
#ifdef BENCH_HAVE_REDIS
extern const struct engine eng_redis;
#endif

#endif /* BENCH_ENGINE_H */
