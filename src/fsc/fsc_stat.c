/* SPDX-License-Identifier: MIT */
/*
 * fsc_stat.c - owns the commands that look at a collection as a whole:
 * `fsc stat` (its metrics), `fsc verify` (fsc_*_verify, read-only; with
 * --repair as a writer, repairing, then read back every element) and
 * `fsc compact`.
 */
#include "fsc.h"

#include <string.h>

/* "262144 (256.0 KiB)" */
static const char *human(uint64_t n, char buf[64]) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (n < 1024) {
    snprintf(buf, 64, "%llu", (unsigned long long)n);
    return buf;
  }
  double d = (double)n;
  int u = -1;
  while (d >= 1024 && u < 4) {
    d /= 1024;
    u++;
  }
  snprintf(buf, 64, "%llu (%.1f %s)", (unsigned long long)n, d, units[u]);
  return buf;
}

#define JU(x) json_integer((json_int_t)(x))

/* What the open's recovery (and the previous session's last close)
 * repaired, by kind. */
static const char *cache_name(int t) {
  return t == FSC_CACHE_LRU ? "lru" : t == FSC_CACHE_LFU ? "lfu"
         : t == FSC_CACHE_FIFO ? "fifo" : "none";
}

static void repairs_json(json_t *j, const fsc_metrics *m) {
  json_object_set_new(j, "repaired_dropped", JU(m->repaired_dropped));
  json_object_set_new(j, "repaired_restored", JU(m->repaired_restored));
  json_object_set_new(j, "repaired_rebuilt", JU(m->repaired_rebuilt));
  json_object_set_new(j, "repaired_counters", JU(m->repaired_counters));
  json_object_set_new(j, "repaired_at_close", JU(m->repaired_at_close));
}

static void print_repairs(const char *indent, const fsc_metrics *m) {
  if (m->repaired_items)
    printf("%s(%llu dropped, %llu restored, %llu tables rebuilt, %llu "
           "counters corrected)\n", indent,
           (unsigned long long)m->repaired_dropped,
           (unsigned long long)m->repaired_restored,
           (unsigned long long)m->repaired_rebuilt,
           (unsigned long long)m->repaired_counters);
  if (m->repaired_at_close)
    printf("%s%llu repaired by the previous session's last close (a "
           "writer had died)\n", indent,
           (unsigned long long)m->repaired_at_close);
}

static json_t *describe(const struct cli_coll *c) {
  json_t *j = json_object();
  json_object_set_new(j, "path", json_string(c->path));
  json_object_set_new(j, "kind", json_string(fsc_kind_name(c->kind)));
  json_object_set_new(j, "type", json_string(fsc_type_name(c->type)));
  if (c->kind == FSC_KIND_DICT)
    json_object_set_new(j, "key_type",
                        json_string(fsc_type_name(c->key_type)));
  return j;
}


/* References (fsc_ref_check): only a ref or any collection can hold
 * them, so the walk is skipped for others (*walked false). */
static int refs_of(struct cli_coll *c, fsc_ref_report *r, bool *walked) {
  memset(r, 0, sizeof *r);
  r->size = sizeof *r;
  *walked = c->type == FSC_TYPE_REF || c->type == FSC_TYPE_ANY;
  return *walked ? fsc_ref_check(c->h, 0, r) : 0;
}

static void refs_json(json_t *j, const fsc_ref_report *r) {
  json_t *x = json_object();
  json_object_set_new(x, "count", JU(r->refs));
  json_object_set_new(x, "dangling", JU(r->dangling));
  json_object_set_new(x, "outside", JU(r->outside));
  json_object_set_new(x, "invalid", JU(r->invalid));
  json_object_set_new(j, "references", x);
}

static void print_refs(const char *label, const fsc_ref_report *r) {
  printf("%s%llu", label, (unsigned long long)r->refs);
  if (r->refs)
    printf(" (%llu dangling, %llu outside its directory, %llu malformed)",
           (unsigned long long)r->dangling, (unsigned long long)r->outside,
           (unsigned long long)r->invalid);
  putchar('\n');
}

int cli_cmd_stat(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], FSC_RDONLY, &c);
  if (ex)
    return ex;
  fsc_metrics m;
  int rc = cli_metrics(&c, &m);
  /* A bounded dict's cache state (fsc_dict_cache_metrics). */
  fsc_cache_metrics cm = {.size = sizeof cm};
  bool have_cache = rc == 0 && c.kind == FSC_KIND_DICT &&
                    fsc_dict_cache_metrics(fsc_coll_dict(c.h), &cm) == 0 &&
                    cm.cache_type != FSC_CACHE_NONE;
  if (rc) {
    ex = cli_fail(c.path, rc);
    cli_close(&c);
    return ex;
  }
  fsc_ref_report refs;
  bool walked;
  if ((rc = refs_of(&c, &refs, &walked)) != 0) {
    ex = cli_fail(c.path, rc);
    cli_close(&c);
    return ex;
  }
  if (o->json) {
    json_t *j = describe(&c);
    json_object_set_new(j, "length", JU(m.length));
    json_object_set_new(j, "live_bytes", JU(m.live_bytes));
    json_object_set_new(j, "dead_bytes", JU(m.dead_bytes));
    json_object_set_new(j, "fragmentation_ratio",
                        json_real(m.fragmentation_ratio));
    json_object_set_new(j, "wasted_bytes", JU(m.wasted_bytes));
    json_object_set_new(j, "data_file_bytes", JU(m.data_file_bytes));
    json_object_set_new(j, "index_file_bytes", JU(m.index_file_bytes));
    json_object_set_new(j, "total_disk_usage_bytes",
                        JU(m.total_disk_usage_bytes));
    json_object_set_new(j, "last_close_clean",
                        json_boolean(m.last_close_clean));
    json_object_set_new(j, "open_processes", JU(m.open_processes));
    json_object_set_new(j, "generation", JU(m.generation));
    json_object_set_new(j, "structural_epoch", JU(m.structural_epoch));
    json_object_set_new(j, "repaired_items", JU(m.repaired_items));
    repairs_json(j, &m);
    if (walked)
      refs_json(j, &refs);
    if (have_cache) {
      json_t *cj = json_object();
      json_object_set_new(cj, "policy", json_string(cache_name(cm.cache_type)));
      json_object_set_new(cj, "max_items", JU(cm.max_items));
      json_object_set_new(cj, "max_bytes", JU(cm.max_bytes));
      json_object_set_new(cj, "items", JU(cm.items));
      json_object_set_new(cj, "bytes", JU(cm.bytes));
      json_object_set_new(cj, "evictions", JU(cm.evictions));
      json_object_set_new(cj, "expirations", JU(cm.expirations));
      json_object_set_new(cj, "admission", json_boolean(cm.admission));
      json_object_set_new(cj, "admission_rejects", JU(cm.admission_rejects));
      json_object_set_new(j, "cache", cj);
    }
    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    putchar('\n');
    json_decref(j);
  } else {
    char b[64];
    printf("path:              %s\n", c.path);
    printf("kind:              %s\n", fsc_kind_name(c.kind));
    printf("type:              %s\n", fsc_type_name(c.type));
    if (c.kind == FSC_KIND_DICT)
      printf("key type:          %s\n", fsc_type_name(c.key_type));
    printf("length:            %llu\n", (unsigned long long)m.length);
    printf("live bytes:        %s\n", human(m.live_bytes, b));
    printf("dead bytes:        %s\n", human(m.dead_bytes, b));
    printf("fragmentation:     %.1f%%\n", m.fragmentation_ratio * 100);
    printf("wasted bytes:      %s\n", human(m.wasted_bytes, b));
    printf("data file:         %s\n", human(m.data_file_bytes, b));
    printf("index file:        %s\n", human(m.index_file_bytes, b));
    printf("disk usage:        %s\n", human(m.total_disk_usage_bytes, b));
    printf("last close clean:  %s\n", m.last_close_clean ? "yes" : "no");
    printf("open processes:    %u\n", (unsigned)m.open_processes);
    printf("generation:        %llu\n", (unsigned long long)m.generation);
    printf("structural epoch:  %llu\n",
           (unsigned long long)m.structural_epoch);
    printf("repaired items:    %llu\n",
           (unsigned long long)m.repaired_items);
    print_repairs("                   ", &m);
    if (walked)
      print_refs("references:        ", &refs);
    if (have_cache) {
      printf("cache policy:      %s\n", cache_name(cm.cache_type));
      printf("cache bound:       %llu items, %llu bytes (0: none)\n",
             (unsigned long long)cm.max_items,
             (unsigned long long)cm.max_bytes);
      printf("cache holds:       %llu items, %s\n",
             (unsigned long long)cm.items, human(cm.bytes, b));
      printf("cache evictions:   %llu\n", (unsigned long long)cm.evictions);
      printf("cache expirations: %llu\n",
             (unsigned long long)cm.expirations);
      printf("cache admission:   %s, %llu new keys refused\n",
             cm.admission ? "on" : "off",
             (unsigned long long)cm.admission_rejects);
    }
  }
  return cli_close(&c);
}

static json_t *report_json(const fsc_verify_report *r) {
  json_t *j = json_object();
  json_object_set_new(j, "healthy", json_boolean(r->healthy));
  json_object_set_new(j, "repaired", json_boolean(r->repaired));
  json_object_set_new(j, "counters_checked",
                      json_boolean(r->counters_checked));
  json_object_set_new(j, "length", JU(r->length));
  json_object_set_new(j, "records_checked", JU(r->records_checked));
  json_object_set_new(j, "records_bad", JU(r->records_bad));
  json_object_set_new(j, "records_bad_bounds", JU(r->records_bad_bounds));
  json_object_set_new(j, "records_bad_type", JU(r->records_bad_type));
  json_object_set_new(j, "records_bad_checksum",
                      JU(r->records_bad_checksum));
  json_object_set_new(j, "slots_checked", JU(r->slots_checked));
  json_object_set_new(j, "index_problems", JU(r->index_problems));
  json_object_set_new(j, "index_dangling", JU(r->index_dangling));
  json_object_set_new(j, "index_structure", JU(r->index_structure));
  json_object_set_new(j, "index_counters", JU(r->index_counters));
  json_object_set_new(j, "items_repaired", JU(r->items_repaired));
  json_object_set_new(j, "items_dropped", JU(r->items_dropped));
  json_object_set_new(j, "problems_left", JU(r->problems_left));
  json_object_set_new(j, "index_superseded", JU(r->index_superseded));
  json_object_set_new(j, "items_restored", JU(r->items_restored));
  json_object_set_new(j, "items_tombstoned", JU(r->items_tombstoned));
  json_object_set_new(j, "tables_rebuilt", JU(r->tables_rebuilt));
  json_object_set_new(j, "counters_corrected", JU(r->counters_corrected));
  return j;
}

int cli_cmd_verify(const struct cli_opts *o, int argc, char **argv) {
  const char *path = argv[0];
  struct cli_coll c;
  /* A check writes nothing: read-only.  --repair opens as a writer, so an
   * unclean previous close is also verified and repaired by the open. */
  int rc = cli_open_rc(path, o->repair ? 0 : FSC_RDONLY, &c);
  if (rc) {
    if (o->repair && (rc == FSC_EACCES || rc == FSC_EROFS)) {
      cli_msg("%s: --repair needs write permission (%s)", path,
              fsc_errmsg());
      return cli_exit_code(rc);
    }
    return cli_fail(path, rc);
  }
  fsc_metrics m;
  if ((rc = cli_metrics(&c, &m)) != 0) {
    int ex = cli_fail(path, rc);
    cli_close(&c);
    return ex;
  }

  /* The library's check (and repair). */
  fsc_verify_report r;
  int vrc = cli_verify(&c, o->repair ? FSC_VERIFY_REPAIR : 0, &r);
  char vmsg[512] = "";
  if (vrc)
    snprintf(vmsg, sizeof vmsg, "%s", fsc_errmsg());
  int ex = CLI_OK;
  const char *problem = NULL;
  char pbuf[700];
  if (vrc == FSC_ECORRUPT || vrc == FSC_EAGAIN) {
    snprintf(pbuf, sizeof pbuf, "%s%s", vmsg,
             o->repair || vrc == FSC_EAGAIN
                 ? ""
                 : " (fsc verify --repair repairs it)");
    problem = pbuf;
    ex = CLI_CORRUPT;
  } else if (vrc) {
    snprintf(pbuf, sizeof pbuf, "%s: %s", fsc_strerror(vrc), vmsg);
    problem = pbuf;
    ex = cli_exit_code(vrc);
  }

  /* Read back every element. */
  uint64_t len = 0, count = 0;
  fsc_coll_len(c.h, &len);
  struct cli_progress p;
  cli_progress_start(&p, o, "verify", len);
  fsc_coll_iter it;
  fsc_value k, v;
  rc = fsc_coll_iter_init(c.h, &it);
  while (rc == 0 && (rc = fsc_coll_iter_next(&it, &k, &v)) == 1) {
    cli_progress_tick(&p, ++count);
    rc = 0;
  }
  cli_progress_end(&p);
  /* References whose collection is missing: reported, not a problem of
   * this collection. */
  fsc_ref_report refs;
  bool walked = false;
  if (rc >= 0 && refs_of(&c, &refs, &walked) != 0)
    walked = false;
  if (rc < 0 && !problem) {
    snprintf(pbuf, sizeof pbuf, "reading element %llu: %s: %s",
             (unsigned long long)count, fsc_strerror(rc), fsc_errmsg());
    problem = pbuf;
    ex = cli_exit_code(rc);
  } else if (!problem && count != len && m.open_processes <= 1) {
    snprintf(pbuf, sizeof pbuf, "the length says %llu but %llu elements "
             "were read", (unsigned long long)len, (unsigned long long)count);
    problem = pbuf;
    ex = CLI_CORRUPT;
  }

  if (o->json) {
    json_t *j = describe(&c);
    json_object_set_new(j, "ok", json_boolean(ex == CLI_OK));
    json_object_set_new(j, "repair", json_boolean(o->repair));
    json_object_set_new(j, "length", JU(len));
    json_object_set_new(j, "elements_read", JU(count));
    json_object_set_new(j, "last_close_clean",
                        json_boolean(m.last_close_clean));
    json_object_set_new(j, "repaired_items", JU(m.repaired_items));
    repairs_json(j, &m);
    json_object_set_new(j, "open_processes", JU(m.open_processes));
    json_object_set_new(j, "read_only", json_boolean(!o->repair));
    json_object_set_new(j, "verify", report_json(&r));
    if (walked)
      refs_json(j, &refs);
    json_object_set_new(j, "problem", problem ? json_string(problem)
                                              : json_null());
    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    putchar('\n');
    json_decref(j);
  } else {
    printf("%s: %s of %s", path, fsc_kind_name(c.kind),
           fsc_type_name(c.type));
    if (c.kind == FSC_KIND_DICT)
      printf(" (%s keys)", fsc_type_name(c.key_type));
    printf(", %llu elements\n", (unsigned long long)len);
    if (m.last_close_clean)
      printf("previous close:  clean\n");
    else if (!o->repair)
      printf("previous close:  NOT clean (the check below tells what that "
             "left)\n");
    else if (m.open_processes > 1)
      printf("previous close:  NOT clean (not repaired at open: other "
             "processes have it open; the first opener after a crash "
             "repairs)\n");
    else
      printf("previous close:  NOT clean: verified and repaired at this "
             "open (%llu items)\n", (unsigned long long)m.repaired_items);
    printf("repaired items:  %llu\n",
           (unsigned long long)(m.repaired_items + r.items_repaired));
    print_repairs("                 ", &m);
    printf("records:         %llu checked, %llu bad (%llu bounds, %llu "
           "type, %llu checksum)\n",
           (unsigned long long)r.records_checked,
           (unsigned long long)r.records_bad,
           (unsigned long long)r.records_bad_bounds,
           (unsigned long long)r.records_bad_type,
           (unsigned long long)r.records_bad_checksum);
    printf("index:           %llu slots checked, %llu problems (%llu "
           "dangling, %llu structure, %llu counters)\n",
           (unsigned long long)r.slots_checked,
           (unsigned long long)r.index_problems,
           (unsigned long long)r.index_dangling,
           (unsigned long long)r.index_structure,
           (unsigned long long)r.index_counters);
    printf("counters:        %s\n",
           r.counters_checked ? "checked"
           : r.records_bad || r.index_problems
               ? "not judged (the problems above come first)"
           : m.open_processes > 1
               ? "not checked (other processes have it open)"
               : "not checked (writers kept changing them)");
    if (o->repair)
      printf("repair:          %s: %llu problems fixed, %llu elements "
             "dropped, %llu left\n",
             r.repaired ? "done" : "nothing changed",
             (unsigned long long)r.items_repaired,
             (unsigned long long)r.items_dropped,
             (unsigned long long)r.problems_left);
    if (o->repair && r.repaired)
      printf("                 %llu restored, %llu slots tombstoned, %llu "
             "tables rebuilt, %llu counters corrected\n",
             (unsigned long long)r.items_restored,
             (unsigned long long)r.items_tombstoned,
             (unsigned long long)r.tables_rebuilt,
             (unsigned long long)r.counters_corrected);
    printf("read back:       %llu elements\n", (unsigned long long)count);
    if (walked)
      print_refs("references:      ", &refs);
    if (problem)
      printf("PROBLEM: %s\n", problem);
    else
      printf("OK\n");
  }
  if (problem)
    cli_msg("%s: %s", path, problem);
  int cex = cli_close(&c);
  return ex ? ex : cex;
}
