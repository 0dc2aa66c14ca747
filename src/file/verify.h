/*
 * verify.h - the verification pass (not installed), shared by the generic
 * driver (verify.c: counters, quiet passes, the repair rounds, the report)
 * and the checks and repairs of each kind's structure, which the driver
 * reaches through the kind operations table (struct fsc__kind_ops's vscan
 * and vrepair, internal.h): struct/list_verify.c for the list's pointer
 * array, struct/hash_verify.c for the dict/set hash index.
 *
 * A structure's vscan reads its index (one atomic load a slot), checks
 * every record it names with fsc__vcheck_rec, and notes what it finds in
 * the pass (fsc__vnote, fsc__vnote_bad; fsc__vmark for a slot or record
 * its repair must remove), with the sums the driver's counter comparison
 * needs.  Its vrepair fixes one layer of what the pass found, with the
 * structure lock held, counting what it did in the tally.  verify.c's top
 * comment says why what a scan reports is never a writer's doing.
 */
#ifndef FSC_VERIFY_H
#define FSC_VERIFY_H

#include "internal.h"

#define FSC__V_QUIET_TRIES 4 /* passes tried for a quiet comparison */
#define FSC__V_SLOT_RETRY 8  /* re-reads of a slot writers keep changing */

/* What fsc__vcheck_rec found at a record offset. */
enum fsc__verdict {
  FSC__RV_OK,
  FSC__RV_DANGLING,   /* outside the written data */
  FSC__RV_BOUNDS,     /* extends past the written data */
  FSC__RV_TYPE,       /* not a record of this collection (type, layout) */
  FSC__RV_SUM,        /* does not match its checksum */
  FSC__RV_SUPERSEDED  /* sound, but flagged dead (FSC__REC_DEAD: a list
                         record superseded, or one of an older file; or
                         never published): a stale value */
};

/* A slot (or record) the repair removes: a dict/set slot turned into a
 * tombstone (CAS from val), or a list element dropped. */
struct fsc__vmark {
  uint64_t idx, val;
  uint64_t rec; /* the record it names (retired once dropped) */
  bool key;     /* it held an element whose record is bad: one dropped */
};

/* One check pass and what it found. */
struct fsc__vpass {
  struct fsc__gen *c;
  bool keyed;
  uint64_t tail;             /* the data tail, re-read when needed */
  bool locked;               /* the structure lock is held */
  bool solo;                 /* ... and no other handle has it open: a
                                dict/set scan then walks the data file for
                                slots naming a superseded record */
  /* findings */
  uint64_t records_checked, bad_bounds, bad_type, bad_sum;
  uint64_t slots_checked, dangling, structure, counters;
  uint64_t superseded;       /* of dangling: slots naming a superseded
                                record (flagged, or below a newer record
                                of its key) */
  char first[240];           /* the first problem, for fsc_errmsg */
  bool counters_checked;
  /* what the repair needs */
  bool need_struct;          /* list: republish; dict: tombstone + rebuild */
  bool need_data;            /* dict: rebuild from the data file */
  bool unrepairable;         /* list: the array itself is unusable */
  bool len_over;             /* list: LEN above the array's capacity */
  bool seal_fix;             /* list: live structure words and their seal
                                disagree (fsc__ls_seal_fix first) */
  bool need_origin;          /* dict: a key's origin (where iteration meets
                                it) does not verify: write it anew */
  int64_t fix_live, fix_dead; /* byte counter corrections (quiet pass) */
  struct fsc__vmark *marks;
  size_t nmarks, capmarks;
  bool oom;
  /* sums of the pass, for the counters */
  uint64_t elems;            /* list: elements (LEN and a pending append) */
  uint64_t phantoms;         /* list: slots below LEN that hold none */
  bool pending;              /* list: slot LEN holds an element */
  uint64_t vslots;           /* dict: slots in key form (good or bad) */
  uint64_t keys;             /* dict: keys with a good record */
  uint64_t nonempty;         /* dict: slots that are not empty */
  uint64_t lost_slack;       /* dict: a COUNT this far above vslots is keys
                                lost from the index (the scan sets it) */
  uint64_t bytes;            /* total bytes of the good records */
  uint64_t count_word;       /* LEN / COUNT as the pass began */
};

/* What the repair did, by kind (the report's items_* fields). */
struct fsc__vtally {
  uint64_t dropped, recovered, restored, tombstoned, rebuilt, counters;
};

/* Count a problem in *counter; the first one's message is kept. */
void fsc__vnote(struct fsc__vpass *p, uint64_t *counter, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));
/* Note slot idx (holding val, naming record rec) for the repair. */
void fsc__vmark(struct fsc__vpass *p, uint64_t idx, uint64_t val,
                uint64_t rec, bool key);

/* Begin a structure's scan: read the data tail, then the structure word
 * (the index header's lenword; its LEN / COUNT goes to p->count_word),
 * which is returned. */
uint64_t fsc__vbegin(struct fsc__vpass *p);

/* A structure's parse of the record at off (header h, checksum and type
 * checked): 0 if it is one of its records (parsed into out). */
typedef int (*fsc__vparse_fn)(struct fsc__gen *c, uint64_t off,
                              const struct fsc__rec *h, void *out);
/* Check the record at off: bounds, checksum, type, then parse.  On
 * FSC__RV_OK, *total is its size in the file.  FSC__RV_SUPERSEDED: the
 * caller re-reads the slot before counting it (an older writer
 * CASed the new record in, then flagged the old one). */
enum fsc__verdict fsc__vcheck_rec(struct fsc__vpass *p, uint64_t off,
                                  fsc__vparse_fn parse, void *out,
                                  uint64_t *total);
/* Count a bad record (verdict r) found in slot idx. */
void fsc__vnote_bad(struct fsc__vpass *p, enum fsc__verdict r, uint64_t idx,
                    uint64_t off);

/* Does a descriptor (off, cap slots) name a region the index handed out? */
bool fsc__vregion_ok(struct fsc__gen *c, uint64_t off, uint64_t cap);
/* Check the spare descriptor of the active one desc[buf] (aoff, acap). */
void fsc__vcheck_spare(struct fsc__vpass *p, unsigned buf, uint64_t aoff,
                       uint64_t acap);

/* Structure lock held: is this handle the only one that has the
 * collection open? */
bool fsc__valone(struct fsc__gen *c);
/* Retire the bad records the repair removed from the index (fsc__vmark
 * with key): move their bytes from live to dead (fsc__rec_retire). */
void fsc__vretire_marked(struct fsc__vpass *p);
/* Correct the byte counters by what a quiet pass measured: did it? */
bool fsc__vfix_bytes(struct fsc__gen *c, const struct fsc__vpass *p);

#endif
