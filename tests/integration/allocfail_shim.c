/* SPDX-License-Identifier: MIT */
/*
 * An LD_PRELOAD allocation-failure shim for tests/integration/allocfail.sh
 * (RELIABILITY DB-2): counts every malloc, calloc, realloc and aligned
 * allocation of the whole process (envdrift, SQLite, jansson, libc's own
 * strdup and stdio) from the moment main() is called, and fails one of them.
 *
 *   ED_FAIL_ALLOC_AT=N       the Nth allocation after main() starts returns NULL
 *                            with errno ENOMEM, once; every other one succeeds
 *                            (so a ROLLBACK after the failure can run)
 *   ED_FAIL_ALLOC_PERSIST=1  fail every allocation from the Nth on instead (memory
 *                            that stays exhausted: cleanup paths fail too)
 *   ED_FAIL_ALLOC_REPORT=F   at exit, write "CALLS FAILED\n" to F: the number of
 *                            allocations counted and 1 if the Nth was reached
 *
 * Allocations before main() (the dynamic loader, library constructors) are
 * never counted: the shim wraps __libc_start_main and arms itself there.
 * The real functions come from dlsym(RTLD_NEXT), so the shim also sits in
 * front of AddressSanitizer's allocator (run with
 * ASAN_OPTIONS=verify_asan_link_order=0); dlsym's own allocations are served
 * from a static buffer. Threads allocate too: the counter is atomic.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*main_fn)(int, char **, char **);
typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *);

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
		      void (*rtld_fini)(void), void *stack_end);
void *reallocarray(void *p, size_t n, size_t size);
void *memalign(size_t align, size_t n);

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static atomic_bool armed;      /* main() has started: count and fail */
static atomic_long calls;      /* allocations counted so far */
static atomic_bool hit;        /* the fail_at-th allocation was reached */
static long fail_at;           /* from ED_FAIL_ALLOC_AT; 0: never fail */
static bool persist;           /* from ED_FAIL_ALLOC_PERSIST: fail from fail_at on */
static const char *report;     /* from ED_FAIL_ALLOC_REPORT */
static atomic_int resolving;   /* inside dlsym: serve from boot[] */

/* dlsym may allocate (its error buffer) before the real functions are known. */
static alignas(max_align_t) char boot[8192];
static atomic_size_t boot_used;

static void *boot_alloc(size_t n)
{
	n = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
	size_t at = atomic_fetch_add(&boot_used, n);
	if (at + n > sizeof(boot))
		return NULL;
	return boot + at; /* static storage: already zeroed, never reused */
}

static bool is_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + sizeof(boot);
}

static void resolve(void)
{
	if (real_free)
		return;
	atomic_fetch_add(&resolving, 1);
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	void (*f)(void *) = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	atomic_fetch_sub(&resolving, 1);
	if (!real_malloc || !real_calloc || !real_realloc || !f) {
		static const char msg[] = "allocfail_shim: cannot find the real allocator\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(127);
	}
	real_free = f;
}

/* True when this allocation is the one to fail. */
static bool fails(void)
{
	if (!atomic_load_explicit(&armed, memory_order_relaxed))
		return false;
	long n = atomic_fetch_add(&calls, 1) + 1;
	if (!fail_at || (persist ? n < fail_at : n != fail_at))
		return false;
	atomic_store(&hit, true);
	errno = ENOMEM;
	return true;
}

void *malloc(size_t n)
{
	if (atomic_load(&resolving))
		return boot_alloc(n);
	resolve();
	return fails() ? NULL : real_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (atomic_load(&resolving)) {
		if (size && n > (size_t)-1 / size)
			return NULL;
		return boot_alloc(n * size);
	}
	resolve();
	return fails() ? NULL : real_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (is_boot(p)) {
		/* A block from boot[]: move it to the real heap (its size is unknown: copy what fits). */
		void *q = malloc(n);
		if (q) {
			size_t room = (size_t)(boot + sizeof(boot) - (char *)p);
			memcpy(q, p, n < room ? n : room);
		}
		return q;
	}
	if (atomic_load(&resolving))
		return p ? NULL : boot_alloc(n);
	resolve();
	return fails() ? NULL : real_realloc(p, n);
}

void *reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

void free(void *p)
{
	if (!p || is_boot(p))
		return;
	resolve();
	real_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	resolve();
	if (fails())
		return ENOMEM;
	return real_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	resolve();
	return fails() ? NULL : real_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n)
{
	resolve();
	return fails() ? NULL : real_memalign(align, n);
}

/* Writes the report with write(2): no stdio, no allocation. */
static void write_report(void)
{
	if (!report || !*report)
		return;
	char line[64];
	int len = snprintf(line, sizeof(line), "%ld %d\n", atomic_load(&calls), atomic_load(&hit) ? 1 : 0);
	int fd = open(report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (len > 0 && (size_t)len < sizeof(line))
		(void)!write(fd, line, (size_t)len);
	close(fd);
}

static main_fn real_main;

/* Arms the shim, runs main, and writes the report (also when main returns). */
static int armed_main(int argc, char **argv, char **envp)
{
	atexit(write_report);
	atomic_store(&armed, true);
	return real_main(argc, argv, envp);
}

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
		      void (*rtld_fini)(void), void *stack_end)
{
	resolve();
	const char *at = getenv("ED_FAIL_ALLOC_AT");
	fail_at = at ? strtol(at, NULL, 10) : 0;
	report = getenv("ED_FAIL_ALLOC_REPORT");
	const char *p = getenv("ED_FAIL_ALLOC_PERSIST");
	persist = p && *p && strcmp(p, "0") != 0;
	start_fn next = (start_fn)dlsym(RTLD_NEXT, "__libc_start_main");
	if (!next) {
		static const char msg[] = "allocfail_shim: cannot find __libc_start_main\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(127);
	}
	real_main = main;
	return next(armed_main, argc, argv, init, fini, rtld_fini, stack_end);
}
