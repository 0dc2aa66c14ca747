/*
 * checksum.c - owns record checksums (doc/FORMAT.md, "Records" and
 * "Counter records"): a plain record's, a counter's with its value word
 * left out (unsealed) or covered (sealed), and the check of a published
 * record against its checksum that a writer unsealing a counter at the
 * same moment cannot fool (fsc__rec_sum_ok).
 */
#include "internal.h"

#include <string.h>
/* XXH3 compiled in, not called through libxxhash: the checksum of a short
 * record is a few dozen instructions, about what the call and its length
 * dispatch cost.  The same algorithm (XXH3 is stable since 0.8.0). */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* The checksum of a plain record (doc/FORMAT.md, "Records"). */
static uint32_t sum_plain(uint8_t type, const void *payload, uint64_t n) {
  return (uint32_t)XXH3_64bits_withSeed(payload, (size_t)n,
                                        ((uint64_t)type << 56) ^ n);
}

/* The checksum of a counter record: the payload without its value word
 * (the bytes before it, then the bytes after it, chained), with a seed
 * that no plain record of the same type and size uses. */
static uint32_t sum_counter(uint8_t type, const uint8_t *payload,
                            uint64_t n) {
  uint64_t v = fsc__ctr_voff(n);
  uint64_t seed = ((uint64_t)type << 56) ^ n ^ UINT64_C(0xC0C0C0C0C0C0C0C0);
  uint64_t h = XXH3_64bits_withSeed(payload, (size_t)v, seed);
  h = XXH3_64bits_withSeed(payload + v + 8, (size_t)(n - v - 8), h);
  return (uint32_t)h;
}

/* The checksum of a sealed counter record: the same chain with the value
 * word between (loaded atomically: a writer that unsealed the record may
 * be changing it; the caller then sees the header change, see
 * fsc__rec_sum_ok), and a seed of its own. */
static uint32_t sum_sealed(uint8_t type, const uint8_t *payload,
                           uint64_t n) {
  uint64_t v = fsc__ctr_voff(n);
  uint64_t seed = ((uint64_t)type << 56) ^ n ^ UINT64_C(0x5EA15EA15EA15EA1);
  uint64_t w = ck_pr_load_64((uint64_t *)(uintptr_t)(payload + v));
  uint64_t h = XXH3_64bits_withSeed(payload, (size_t)v, seed);
  h = XXH3_64bits_withSeed(&w, 8, h);
  h = XXH3_64bits_withSeed(payload + v + 8, (size_t)(n - v - 8), h);
  return (uint32_t)h;
}

uint32_t fsc__ctr_sum(uint8_t type, const void *payload, uint64_t n,
                      bool sealed) {
  return sealed ? sum_sealed(type, payload, n)
                : sum_counter(type, payload, n);
}

/* The checksum record r should hold for the header's first word hw. */
static uint32_t sum_for(const struct fsc__rec *r, uint64_t hw) {
  struct fsc__rec h;
  memcpy(&h, &hw, 8);
  uint64_t n = r->size;
  if (__builtin_expect((h.ctl & FSC__CTR_FLAG) && fsc__ctr_shape_ok(n), 0))
    return fsc__ctr_sum(h.type, r + 1, n, (h.ctl & FSC__CTR_SEALED) != 0);
  return sum_plain(h.type, r + 1, n);
}

uint32_t fsc__rec_sum(uint8_t type, const void *payload, uint64_t n,
                      uint16_t ctl) {
  if ((ctl & FSC__CTR_FLAG) && fsc__ctr_shape_ok(n))
    return fsc__ctr_sum(type, payload, n, (ctl & FSC__CTR_SEALED) != 0);
  return sum_plain(type, payload, n);
}

uint32_t fsc__rec_checksum(uint8_t type, const void *payload, uint64_t n) {
  /* Every payload handed here follows its header in the mapping. */
  const struct fsc__rec *r = (const struct fsc__rec *)payload - 1;
  uint16_t ctl = ck_pr_load_16((uint16_t *)(uintptr_t)&r->ctl);
  if (__builtin_expect((ctl & FSC__CTR_FLAG) && fsc__ctr_shape_ok(n), 0))
    return fsc__ctr_sum(type, payload, n, (ctl & FSC__CTR_SEALED) != 0);
  return sum_plain(type, payload, n);
}

/* The header word's SEALED bit and checksum, the two things a writer
 * unsealing the record changes together. */
static uint64_t seal_state(uint64_t hw) {
  struct fsc__rec h;
  memcpy(&h, &hw, 8);
  return ((uint64_t)(h.ctl & (FSC__CTR_FLAG | FSC__CTR_SEALED)) << 32) |
         h.checksum;
}

bool fsc__rec_sum_ok(const struct fsc__rec *r) {
  /* A sealed counter's first writer of a session clears SEALED and swaps
   * the checksum (one CAS of the header's first word) before it changes
   * the value.  A check that read the sealed header and then a changed
   * value fails; reading the header again (after the value: acquire)
   * then shows the unsealed one, and the check runs again.  A record is
   * unsealed at most once between two seals, so two rounds are enough
   * but for a close sealing it meanwhile: four. */
  const uint64_t *hp = (const uint64_t *)(const void *)r;
  uint64_t hw = ck_pr_load_64((uint64_t *)(uintptr_t)hp);
  for (int i = 0; i < 4; i++) {
    struct fsc__rec h;
    memcpy(&h, &hw, 8);
    ck_pr_fence_load();
    if (sum_for(r, hw) == h.checksum)
      return true;
    ck_pr_fence_load();
    uint64_t again = ck_pr_load_64((uint64_t *)(uintptr_t)hp);
    if (seal_state(again) == seal_state(hw))
      return false;
    hw = again;
  }
  return false;
}
