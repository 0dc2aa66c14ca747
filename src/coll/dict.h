/*
 * dict.h - shared by the dict's source files (coll layer, not installed):
 * dict.c's key and item helpers that dict_counter.c uses too.
 */
#ifndef FSC_COLL_DICT_H
#define FSC_COLL_DICT_H

#include "struct/hash.h"

#include <string.h>

/* Check a key (UTF-8 for a dict of string keys, at most FSC_KEY_MAX) and
 * hash it into *k. */
int fsc__dict_key_make(struct fsc__gen *c, const void *key, size_t klen,
                       struct fsc__kkey *k);
/* The key and value of the record at off, parsed in r, as views (inline:
 * every get ends here). */
static inline int fsc__dict_item_view(struct fsc__gen *c, uint64_t off,
                                      const struct fsc__krec *r,
                                      fsc_value *key, fsc_value *val) {
  if (key) {
    memset(key, 0, sizeof *key);
    key->type = c->key_type;
    key->u.buf.ptr = r->key;
    key->u.buf.len = r->klen;
  }
  if (val && fsc__value_decode((fsc_type)r->type, r->val, r->vlen, val) != 0)
    return fsc__err(FSC_ECORRUPT, "record at %llu does not decode",
                    (unsigned long long)off);
  return 0;
}

#endif
