/*
 * checksum.c - owns record checksums (doc/FORMAT.md, "Records" and
 * "Counter records"): a plain record's, a counter's with its value word
 * left out (unsealed) or covered (sealed), and the check of a published
 * record against its checksum that a writer unsealing a counter at the
 * same moment cannot fool (fsc__rec_sum_ok).
 */
#include "internal.h"

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

/* The bytes of a counter's payload before its value word that a checksum
 * covers: all of them, or (the close-word shape, format.h) those before
 * the close word, which sits just before the value word. */
static uint64_t head_len(const uint8_t *payload, uint64_t n, uint64_t v) {
  uint64_t cw = fsc__ctr_cwoff(payload, n);
  return cw ? cw : v;
}

/* The checksum of a counter record: the payload without its value word
 * and its close word if it has one (the bytes before them, then the bytes
 * after, chained), with a seed that no plain record of the same type and
 * size uses. */
static uint32_t sum_counter(uint8_t type, const uint8_t *payload,
                            uint64_t n) {
  uint64_t v = fsc__ctr_voff(n);
  uint64_t seed = ((uint64_t)type << 56) ^ n ^ UINT64_C(0xC0C0C0C0C0C0C0C0);
  uint64_t h = XXH3_64bits_withSeed(payload,
                                    (size_t)head_len(payload, n, v), seed);
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
  uint64_t h = XXH3_64bits_withSeed(payload,
                                    (size_t)head_len(payload, n, v), seed);
  h = XXH3_64bits_withSeed(&w, 8, h);
  h = XXH3_64bits_withSeed(payload + v + 8, (size_t)(n - v - 8), h);
  return (uint32_t)h;
}

uint32_t fsc__ctr_sum(uint8_t type, const void *payload, uint64_t n,
                      bool sealed) {
  return sealed ? sum_sealed(type, payload, n)
                : sum_counter(type, payload, n);
}

uint32_t fsc__rec_sum(uint8_t type, const void *payload, uint64_t n,
                      uint16_t ctl) {
  if ((ctl & FSC__CTR_FLAG) && fsc__ctr_shape_ok(n))
    return fsc__ctr_sum(type, payload, n, (ctl & FSC__CTR_SEALED) != 0);
  return sum_plain(type, payload, n);
}

bool fsc__rec_sum_ok(const struct fsc__rec *r) {
  const uint8_t *pl = fsc__rec_pl(r);
  uint64_t n = fsc__rec_size(r);
  uint32_t *sp = (uint32_t *)(uintptr_t)&r->checksum;
  uint16_t ctl = ck_pr_load_16((uint16_t *)(uintptr_t)&r->ctl);
  if (__builtin_expect(!(ctl & FSC__CTR_FLAG) || !fsc__ctr_shape_ok(n), 1))
    return sum_plain(r->rtype, pl, n) == ck_pr_load_32(sp);
  /* A counter holds its sealed or its unsealed checksum, whatever SEALED
   * says (the bit changes apart from the checksum: ctr_seal.c).  The
   * checksum is loaded after the value (acquire): a writer stores the
   * unsealed one before it changes the value, so a value seen changed
   * comes with the unsealed checksum, and an unchanged one matches
   * either.  Damage to the value of a counter holding its sealed checksum
   * matches neither. */
  uint32_t us = sum_counter(r->rtype, pl, n);
  uint32_t ss = sum_sealed(r->rtype, pl, n);
  ck_pr_fence_load();
  uint32_t sum = ck_pr_load_32(sp);
  return sum == us || sum == ss;
}
