/* SPDX-License-Identifier: MIT */
/*
 * fsc_progress.c - owns the progress bar of long operations (dump, load,
 * verify): drawn on stderr when stderr is a terminal (or with --progress),
 * never with --quiet, and only once an operation has run for 300 ms, so
 * quick ones and scripts stay quiet (--progress draws it at once).
 */
#include "fsc.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define SHOW_AFTER 0.3
#define REDRAW_EVERY 0.1

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(struct cli_progress *p, const struct cli_opts *o,
                        const char *label, uint64_t total) {
  memset(p, 0, sizeof *p);
  p->on = !o->quiet && (o->progress || isatty(STDERR_FILENO));
  p->forced = p->on && o->progress;
  p->label = label;
  p->total = total;
  p->start = p->last = cli_now();
}

static void draw(struct cli_progress *p, double now) {
  double secs = now - p->start;
  double rate = secs > 0 ? (double)p->done / secs : 0;
  if (p->total) {
    uint64_t d = p->done > p->total ? p->total : p->done;
    int fill = (int)((double)d * BAR_WIDTH / (double)p->total);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
      bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %3d%% %llu/%llu  %.0f/s ", p->label, bar,
            (int)((double)d * 100 / (double)p->total),
            (unsigned long long)d, (unsigned long long)p->total, rate);
  } else {
    fprintf(stderr, "\r%s %llu  %.0f/s ", p->label,
            (unsigned long long)p->done, rate);
  }
  fflush(stderr);
  p->shown = true;
  p->last = now;
}

void cli_progress_tick(struct cli_progress *p, uint64_t done) {
  p->done = done;
  if (!p->on || (done & 1023) != 0)
    return;
  double now = cli_now();
  if ((!p->forced && now - p->start < SHOW_AFTER) ||
      now - p->last < REDRAW_EVERY)
    return;
  draw(p, now);
}

void cli_progress_end(struct cli_progress *p) {
  if (!p->shown && !p->forced)
    return;
  draw(p, cli_now());
  fputc('\n', stderr);
  p->shown = false;
}
