/*
 * waiting.c - owns the public waits: a list pop that sleeps until an
 * element is there (fsc_list_pop_wait) and the wait for any change of a
 * collection (fsc_coll_wait_change), both on the change event count of
 * file/wait.c.
 *
 * The rule that makes them lose no wake-up: read the event count, then
 * look (pop, or compare the epoch), then sleep only while the count still
 * holds what was read.  A change is published before its writer bumps the
 * count, so a change the look missed has bumped the count after it was
 * read, and the sleep returns at once.
 *
 * A compaction bumps the old generation's count after it marks it moved,
 * so a waiter there wakes and follows; one that read the count of a
 * generation that had already moved finds the handle's generation
 * changed after its look and does not sleep on the old one.
 */
#include "internal.h"

static int wait_on(struct fsc__handle *h, struct fsc__gen *c, uint64_t seen,
                   const struct timespec *dl) {
  if (fsc__cur(h) != c)
    return 0; /* the look ran on a newer generation: look again there */
  if (fsc__gen_moved(c)) {
    int rc = fsc__handle_follow(h, c);
    return rc == FSC__EMOVED ? 0 : rc;
  }
  return fsc__ec_wait(c, seen, dl);
}

int fsc_list_pop_wait(fsc_list *l, int64_t index, int64_t timeout_ms,
                      fsc_value *out) {
  CHECK(l, true);
  if (index != 0 && index != -1)
    return fsc__err(FSC_EINVAL, "pop_wait pops index 0 or -1, not %lld",
                    (long long)index);
  struct fsc__handle *h = FSC__H(l);
  struct timespec dl;
  bool has;
  fsc__ec_deadline(timeout_ms, &dl, &has);
  for (;;) {
    struct fsc__gen *c = fsc__cur(h);
    CHECK_C(c, true);
    uint64_t seen = fsc__ec_value(c);
    /* Empty?  A lock-free look first: a pop(-1) takes the structure lock
     * (two flock calls), which an empty list need not cost.  (pop(0) is
     * lock-free: list_pop.c.) */
    uint64_t n = 1;
    int rc = fsc_list_len(l, &n);
    if (rc)
      return rc;
    if (n > 0) {
      rc = fsc_list_pop(l, index, out);
      if (rc != FSC_EINDEX)
        return rc;
      fsc__err_clear();
    }
    rc = wait_on(h, c, seen, has ? &dl : NULL);
    if (rc == FSC_ETIMEDOUT)
      return fsc__err(FSC_ETIMEDOUT, "pop_wait: the list stayed empty for "
                      "%lld ms", (long long)timeout_ms);
    if (rc)
      return rc;
  }
}

int fsc_coll_wait_change(fsc_coll *hp, uint64_t since, int64_t timeout_ms,
                         uint64_t *epoch) {
  CHECK(hp, false);
  struct fsc__handle *h = FSC__H(hp);
  struct timespec dl;
  bool has;
  fsc__ec_deadline(timeout_ms, &dl, &has);
  for (;;) {
    struct fsc__gen *c = fsc__cur(h);
    CHECK_C(c, false);
    uint64_t now = fsc__ec_value(c);
    if (epoch)
      *epoch = now;
    if (now != since && !fsc__gen_moved(c))
      return 0;
    int rc = wait_on(h, c, now, has ? &dl : NULL);
    if (rc == FSC_ETIMEDOUT)
      return fsc__err(FSC_ETIMEDOUT, "no change within %lld ms",
                      (long long)timeout_ms);
    if (rc)
      return rc;
  }
}

int fsc_list_wait_change(fsc_list *l, uint64_t since, int64_t timeout_ms,
                         uint64_t *epoch) {
  return fsc_coll_wait_change((fsc_coll *)(void *)l, since, timeout_ms,
                              epoch);
}

int fsc_dict_wait_change(fsc_dict *d, uint64_t since, int64_t timeout_ms,
                         uint64_t *epoch) {
  return fsc_coll_wait_change((fsc_coll *)(void *)d, since, timeout_ms,
                              epoch);
}
