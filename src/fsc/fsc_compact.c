/* SPDX-License-Identifier: MIT */
/*
 * fsc_compact.c - owns `fsc compact PATH`: compact a collection while other
 * processes keep using it, with a progress bar (the new data file's tail,
 * read by a second thread, against the live bytes to copy) and a report of
 * the metrics before and after (--json: one JSON object).
 */
#include "fsc.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct watch {
  char path[4096];           /* P.data.fscollection.compact */
  struct cli_progress *bar;
  atomic_bool stop;
};

/* The new data file's tail (offset 64 of its header): bytes copied. */
static void *watcher(void *arg) {
  struct watch *w = arg;
  while (!atomic_load(&w->stop)) {
    int fd = open(w->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      uint64_t tail = 0;
      if (pread(fd, &tail, sizeof tail, 64) == (ssize_t)sizeof tail &&
          tail >= 4096)
        cli_progress_tick(w->bar, (tail - 4096) & ~UINT64_C(1023));
      close(fd);
    }
    usleep(100000);
  }
  return NULL;
}

static json_t *metrics_json(const fsc_metrics *m) {
  json_t *j = json_object();
  json_object_set_new(j, "generation", json_integer((json_int_t)m->generation));
  json_object_set_new(j, "length", json_integer((json_int_t)m->length));
  json_object_set_new(j, "live_bytes", json_integer((json_int_t)m->live_bytes));
  json_object_set_new(j, "dead_bytes", json_integer((json_int_t)m->dead_bytes));
  json_object_set_new(j, "fragmentation_ratio",
                      json_real(m->fragmentation_ratio));
  json_object_set_new(j, "data_file_bytes",
                      json_integer((json_int_t)m->data_file_bytes));
  json_object_set_new(j, "index_file_bytes",
                      json_integer((json_int_t)m->index_file_bytes));
  return j;
}

int cli_cmd_compact(const struct cli_opts *o, int argc, char **argv) {
  (void)argc;
  const char *path = argv[0];
  struct cli_coll c;
  int ex = cli_open(path, 0, &c);
  if (ex)
    return ex;
  fsc_metrics before, after;
  int rc = cli_metrics(&c, &before);
  struct cli_progress bar;
  struct watch w = {.bar = &bar};
  snprintf(w.path, sizeof w.path, "%s.data.fscollection.compact", path);
  cli_progress_start(&bar, o, "compact", before.live_bytes);
  pthread_t th;
  bool watching = rc == 0 && bar.on &&
                  pthread_create(&th, NULL, watcher, &w) == 0;
  double t0 = cli_now();
  if (rc == 0)
    rc = fsc_coll_compact(c.h);
  double secs = cli_now() - t0;
  if (watching) {
    atomic_store(&w.stop, true);
    pthread_join(th, NULL);
  }
  if (rc == 0)
    cli_progress_tick(&bar, before.live_bytes & ~UINT64_C(1023));
  cli_progress_end(&bar);
  if (rc == 0)
    rc = cli_metrics(&c, &after);
  if (rc) {
    ex = cli_fail(path, rc);
    cli_close(&c);
    return ex;
  }
  if (o->json) {
    json_t *j = json_object();
    json_object_set_new(j, "path", json_string(path));
    json_object_set_new(j, "seconds", json_real(secs));
    json_object_set_new(j, "before", metrics_json(&before));
    json_object_set_new(j, "after", metrics_json(&after));
    char *s = json_dumps(j, JSON_COMPACT);
    if (s)
      printf("%s\n", s);
    free(s);
    json_decref(j);
  } else {
    printf("%s: generation %llu -> %llu in %.2f s\n", path,
           (unsigned long long)before.generation,
           (unsigned long long)after.generation, secs);
    printf("  dead bytes  %llu -> %llu\n",
           (unsigned long long)before.dead_bytes,
           (unsigned long long)after.dead_bytes);
    printf("  data file   %llu -> %llu bytes\n",
           (unsigned long long)before.data_file_bytes,
           (unsigned long long)after.data_file_bytes);
    printf("  index file  %llu -> %llu bytes\n",
           (unsigned long long)before.index_file_bytes,
           (unsigned long long)after.index_file_bytes);
  }
  return cli_close(&c);
}
