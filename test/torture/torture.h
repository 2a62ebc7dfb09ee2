/* torture.h - allocation-failure fault injection (curl's torture mode) for the tests.
 *
 * The torture binary is linked with -Wl,--wrap for every allocating call the
 * project's objects make (malloc, calloc, realloc, free, strdup, strndup,
 * asprintf, vasprintf, getline/__getdelim, fopen/fclose, opendir/fdopendir/
 * closedir and PCRE2's compile, match-data and match-context constructors);
 * jansson's allocations are routed through the same counter with
 * json_set_alloc_funcs(), except inside json_loadb(), which counts as one
 * allocation (jansson's parser can drop bytes when its own allocation fails,
 * instead of failing). While a run is armed, every one of those calls is
 * numbered, and the one numbered fail_at returns NULL (errno ENOMEM), or -1
 * for getline; everything handed out is recorded until it is given back, so
 * a leak shows without LSan or valgrind.
 *
 * torture_path() runs a path once to count its allocations (N), then N times
 * more with allocation i failing, and checks each run: it returned the
 * path's error (-ENOMEM unless the path says otherwise) or, when the failure
 * was recovered from, exactly the baseline's result; nothing it allocated is
 * left. Each problem is printed with the failed allocation's call stack.
 *
 * Not counted: what the C library, libbpf (the kernel's BTF, loaded once
 * before the counted runs) and libcurl allocate inside themselves. fopen
 * and opendir count because each allocates, and a FILE or DIR left open
 * on an error path shows as a leak like memory does.
 */
#ifndef DIAG_TORTURE_H
#define DIAG_TORTURE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* What a path reports: its text output (compared with the baseline's). The
 * buffer is the harness's own memory, never counted. */
struct torture_out {
	char *buf;
	size_t len, cap;
};

void torture_printf(struct torture_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void torture_put(struct torture_out *o, const char *s, size_t len);

/* One path: fn does the whole job (set up, work, clean up) and returns 0 or
 * a negative errno, writing what it produced to out. */
struct torture_path {
	const char *name;
	int (*fn)(void *arg, struct torture_out *out);
	void *arg;
	int err;	     /* the error a failed allocation must give: -ENOMEM (0 means that) */
	bool quiet_stderr;   /* send the path's stderr to /dev/null (set TORTURE_VERBOSE=1 to see it) */
	bool baseline_fails; /* the baseline is expected to return an error (an invalid input) */
	/* Optional: true when got, the output of a run that returned the
	 * baseline's code, is an acceptable degradation of the baseline's
	 * output (an API that cannot report an error fails closed). */
	bool (*degraded_ok)(const char *baseline, const char *got);
};

/* Figures of one path's torture. */
struct torture_stats {
	unsigned long allocs;	 /* counted in the baseline run */
	unsigned long injected;	 /* runs in which the chosen allocation really failed */
	unsigned long errors;	 /* of those, runs that returned the error */
	unsigned long recovered; /* of those, runs that gave the baseline's result */
	unsigned long degraded;	 /* of those, runs whose result degraded_ok() accepted */
	unsigned long problems;	 /* leaks, wrong results, crashes caught as wrong results */
	char baseline[200];	 /* the start of the baseline's output, for messages */
};

/* Between torture_hold() and torture_release(), allocations are recorded
 * (a leak still shows) but neither counted nor failed: for a test's own
 * look at a result (json_dumps of a tree the product built). They nest. */
void torture_hold(void);
void torture_release(void);

/* Install the allocator hooks (jansson's too). Call once, first thing in main. */
void torture_init(void);

/* Torture p: a warm-up run (lazy caches fill), two counted baselines (they
 * must agree), then one run per allocation with that allocation failing.
 * TORTURE_STRIDE=K in the environment tries only every K-th allocation (for
 * valgrind), TORTURE_ONLY=I only allocation I (to debug one),
 * TORTURE_PATH=TEXT only the paths whose name holds TEXT,
 * TORTURE_SHOW_RECOVERED=1 where each recovered failure was. Prints one
 * summary line and every problem; returns the number of problems. */
unsigned long torture_path(const struct torture_path *p, struct torture_stats *st);

/* False when TORTURE_PATH leaves p out (torture_path() then does nothing). */
bool torture_selected(const struct torture_path *p);

/* The baseline output of the last torture_path() call (valid until the next call). */
const char *torture_baseline(void);

#endif /* DIAG_TORTURE_H */
