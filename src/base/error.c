/*
 * error.c - error codes, their fixed texts (generated from FSC_ERRNO_MAP),
 * and the thread-local detailed message behind fsc_errmsg().
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errmsg_buf[512];
/* The code of the thread's recorded failure, 0 when none (and then
 * errmsg_buf is ""): the prologue of every public call tests it inline
 * (fsc__err_clear, internal.h) and writes the buffer only if it is set. */
_Thread_local int fsc__err_code FSC__TLS_FAST;

const char *fsc_strerror(int code) {
  switch (code) {
  case 0:
    return "success";
#define FSC__ERR_TEXT(name, c, text)                                          \
  case (c):                                                                   \
    return text;
    FSC_ERRNO_MAP(FSC__ERR_TEXT)
#undef FSC__ERR_TEXT
  default:
    return "unknown fscollections error";
  }
}

const char *fsc_errmsg(void) { return errmsg_buf; }

const char *fsc_version(void) { return FSC_VERSION_STRING; }

void fsc__err_reset(void) {
  errmsg_buf[0] = '\0';
  fsc__err_code = 0;
}

int fsc__err_last(void) { return fsc__err_code ? fsc__err_code : FSC_EIO; }

int fsc__err(int code, const char *fmt, ...) {
  va_list ap;
  fsc__err_code = code;
  va_start(ap, fmt);
  vsnprintf(errmsg_buf, sizeof errmsg_buf, fmt, ap);
  va_end(ap);
  return code;
}

int fsc__err_keyerror(const void *key, size_t n) {
  /* What fsc__err(FSC_EKEY, "KeyError: '%.*s'", min(n, 64), key) writes,
   * without vsnprintf (a fifth of a missing-key lookup).  %.*s stops at a
   * NUL byte, so this does too. */
  static const char pre[] = "KeyError: '";
  size_t m = n > 64 ? 64 : n;
  const char *nul = m ? memchr(key, '\0', m) : NULL;
  if (nul)
    m = (size_t)(nul - (const char *)key);
  memcpy(errmsg_buf, pre, sizeof pre - 1);
  if (m)
    memcpy(errmsg_buf + sizeof pre - 1, key, m);
  memcpy(errmsg_buf + sizeof pre - 1 + m, "'", 2);
  fsc__err_code = FSC_EKEY;
  return FSC_EKEY;
}

int fsc__err_errno(int err, const char *what, const char *path) {
  int code;
  switch (err) {
  case ENOSPC:
  case EDQUOT:
  case EFBIG:
    code = FSC_ENOSPC;
    break;
  case ENOMEM:
    code = FSC_ENOMEM;
    break;
  case ENOENT:
    code = FSC_ENOENT;
    break;
  case EACCES:
  case EPERM:
    code = FSC_EACCES;
    break;
  case EROFS:
    code = FSC_EROFS;
    break;
  case EAGAIN:
    code = FSC_EAGAIN;
    break;
  case EINVAL:
  case ELOOP: /* O_NOFOLLOW met a symlink */
  case ENAMETOOLONG:
  case ENOTDIR:
  case EISDIR:
    code = FSC_EINVAL;
    break;
  default:
    code = FSC_EIO;
    break;
  }
  return fsc__err(code, "%s%s%s: %s", what, path ? " " : "", path ? path : "",
                  strerror(err));
}
