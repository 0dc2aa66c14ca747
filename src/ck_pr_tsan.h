/*
 * ck_pr_tsan.h - ck_pr loads and stores that ThreadSanitizer understands
 * (only in a build configured with --enable-tsan; internal.h includes it
 * after <ck_pr.h> when FSC_TSAN is defined).
 *
 * With CK_USE_CC_BUILTINS, Concurrency Kit's read-modify-writes (CAS, add,
 * and, ...) are __sync builtins, which TSan sees as atomics, but
 * ck_pr_load_* / ck_pr_store_* are volatile plain accesses, and the fences
 * (ck_pr_fence_load / _store) are not modelled by TSan at all.  Every
 * lock-free read of a published word would then be reported as a race with
 * the CAS or store that published it.
 *
 * The library's protocol is "write the bytes, ck_pr_fence_store, publish
 * with ck_pr_store / CAS" and "ck_pr_load the word, ck_pr_fence_load, read
 * what it names" (rule 2 of doc/DESIGN.md).  TSan models exactly that
 * ordering when the load is an acquire and the store a release, so here
 * they are.
 * (On x86-64, every load and store already has these semantics in the
 * hardware; the release build is unchanged.)
 */
#ifndef FSC_CK_PR_TSAN_H
#define FSC_CK_PR_TSAN_H

#undef ck_pr_load_64
#undef ck_pr_load_32
#undef ck_pr_load_16
#undef ck_pr_load_8
#undef ck_pr_load_ptr
#undef ck_pr_store_64
#undef ck_pr_store_32
#undef ck_pr_store_16
#undef ck_pr_store_8
#undef ck_pr_store_ptr

#define ck_pr_load_64(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ck_pr_load_32(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ck_pr_load_16(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ck_pr_load_8(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ck_pr_load_ptr(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ck_pr_store_64(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ck_pr_store_32(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ck_pr_store_16(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ck_pr_store_8(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ck_pr_store_ptr(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#endif
