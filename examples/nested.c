/* SPDX-License-Identifier: MIT */
/*
 * nested.c - a dict holding a list by reference: the Python fscollections
 * package's nested-collection example in C.
 *
 *   parent = FSDict("shop")
 *   parent["items"] = FSList("shop.items")
 *   parent["items"].append("apple")
 *   print(list(parent["items"]))
 *
 * The dict stores ref://fscollection:list?path=shop.items (relative to its
 * own directory); the list lives in its own files, and appending to it
 * never rewrites the dict.  The twelve calls in main() are the example;
 * the rest is error checking.
 *
 *   nested [DIR]     (default: a new directory under $TMPDIR, removed after)
 */
#include <fscollections.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check(const char *what, int rc) {
  if (rc < 0) {
    fprintf(stderr, "nested: %s: %s (%s)\n", what, fsc_strerror(rc),
            fsc_errmsg());
    exit(1);
  }
  return rc;
}
#define CK(call) check(#call, (call))

int main(int argc, char **argv) {
  char tmp[512];
  const char *dir = argc > 1 ? argv[1] : NULL;
  if (!dir) {
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/fsc-nested-XXXXXX", t && *t ? t : "/tmp");
    if (!(dir = mkdtemp(tmp))) {
      perror("nested: mkdtemp");
      return 1;
    }
  }
  if (chdir(dir) != 0) {
    perror("nested: chdir");
    return 1;
  }

  fsc_dict *shop;
  fsc_list *items;
  fsc_coll *child;
  fsc_value ref, v;
  CK(fsc_dict_open("shop", NULL, &shop));                            /* 1 */
  CK(fsc_list_open("shop.items", NULL, &items));                     /* 2 */
  CK(fsc_ref_make(fsc_dict_coll(shop), fsc_list_coll(items), &ref)); /* 3 */
  CK(fsc_dict_set(shop, "items", 5, &ref));                          /* 4 */
  fsc_list_free(items);                                              /* 5 */
  CK(fsc_dict_get(shop, "items", 5, &ref));                          /* 6 */
  CK(fsc_ref_open(fsc_dict_coll(shop), &ref, NULL, &child));         /* 7 */
  CK(fsc_list_append_str(fsc_coll_list(child), "apple"));            /* 8 */
  for (int64_t i = 0; fsc_list_get(fsc_coll_list(child), i, &v) == 0; i++)
    printf("%.*s\n", (int)v.u.buf.len, (const char *)v.u.buf.ptr);  /* 9 */
  printf("stored as %.*s\n", (int)ref.u.buf.len,
         (const char *)ref.u.buf.ptr);                               /* 10 */
  fsc_coll_free(child);                                              /* 11 */
  fsc_dict_free(shop);                                               /* 12 */

  if (dir == tmp) { /* ours: remove it */
    static const char *files[] = {
        "shop.data.fscollection", "shop.index.fscollection",
        "shop.items.data.fscollection", "shop.items.index.fscollection"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
      unlink(files[i]);
    if (chdir("/") != 0 || rmdir(tmp) != 0)
      perror("nested: removing the directory");
  }
  return 0;
}
