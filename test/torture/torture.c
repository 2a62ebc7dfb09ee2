/* torture.c - allocation-failure fault injection: the wrapped allocators and the driver. */
#include "test/torture/torture.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

/* ---- the real functions (the linker's --wrap names them __real_X) --------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
FILE *__real_fopen(const char *path, const char *mode);
int __real_fclose(FILE *f);
DIR *__real_opendir(const char *path);
DIR *__real_fdopendir(int fd);
int __real_closedir(DIR *d);
pcre2_code *__real_pcre2_compile_8(PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options, int *errorcode,
				   PCRE2_SIZE *erroroffset, pcre2_compile_context *ccontext);
void __real_pcre2_code_free_8(pcre2_code *code);
pcre2_match_data *__real_pcre2_match_data_create_8(uint32_t ovecsize, pcre2_general_context *gcontext);
pcre2_match_data *__real_pcre2_match_data_create_from_pattern_8(const pcre2_code *code,
								pcre2_general_context *gcontext);
void __real_pcre2_match_data_free_8(pcre2_match_data *md);
pcre2_match_context *__real_pcre2_match_context_create_8(pcre2_general_context *gcontext);
void __real_pcre2_match_context_free_8(pcre2_match_context *mc);
json_t *__real_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);

/* The wrappers: declared here for -Wmissing-prototypes. */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **strp, const char *fmt, va_list ap);
int __wrap_asprintf(char **strp, const char *fmt, ...);
ssize_t __wrap_getline(char **lineptr, size_t *n, FILE *f);
ssize_t __wrap_getdelim(char **lineptr, size_t *n, int delim, FILE *f);
ssize_t __wrap___getdelim(char **lineptr, size_t *n, int delim, FILE *f);
FILE *__wrap_fopen(const char *path, const char *mode);
int __wrap_fclose(FILE *f);
DIR *__wrap_opendir(const char *path);
DIR *__wrap_fdopendir(int fd);
int __wrap_closedir(DIR *d);
pcre2_code *__wrap_pcre2_compile_8(PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options, int *errorcode,
				   PCRE2_SIZE *erroroffset, pcre2_compile_context *ccontext);
void __wrap_pcre2_code_free_8(pcre2_code *code);
pcre2_match_data *__wrap_pcre2_match_data_create_8(uint32_t ovecsize, pcre2_general_context *gcontext);
pcre2_match_data *__wrap_pcre2_match_data_create_from_pattern_8(const pcre2_code *code,
								pcre2_general_context *gcontext);
void __wrap_pcre2_match_data_free_8(pcre2_match_data *md);
pcre2_match_context *__wrap_pcre2_match_context_create_8(pcre2_general_context *gcontext);
void __wrap_pcre2_match_context_free_8(pcre2_match_context *mc);
json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);

/* ---- what is live: an open-addressing set of the pointers handed out ------- */

enum kind { K_MEM, K_FILE, K_DIR, K_PCRE_CODE, K_PCRE_MD, K_PCRE_MC };
static const char *const kind_names[] = {
	"memory", "FILE", "DIR", "pcre2_code", "pcre2_match_data", "pcre2_match_context"
};

#define TOMB ((void *)1)

struct entry {
	void *p; /* NULL: empty; TOMB: deleted */
	unsigned long seq;
	size_t size;
	enum kind kind;
};

static struct {
	struct entry *tab;
	size_t cap, used, live; /* used counts tombstones too */
} set;

static size_t slot_of(const void *p, size_t cap)
{
	return (size_t)((((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static void set_grow(void)
{
	struct entry *old = set.tab;
	size_t ocap = set.cap;

	set.cap = ocap ? ocap * 2 : 4096;
	if (set.live * 4 < ocap)
		set.cap = ocap; /* mostly tombstones: rehash in place */
	set.tab = __real_calloc(set.cap, sizeof(*set.tab));
	if (!set.tab) {
		fprintf(stderr, "torture: out of memory for the allocation table\n");
		abort();
	}
	set.used = set.live = 0;
	for (size_t i = 0; i < ocap; i++) {
		struct entry *e = &old[i];

		if (e->p && e->p != TOMB) {
			size_t j = slot_of(e->p, set.cap);

			while (set.tab[j].p)
				j = (j + 1) & (set.cap - 1);
			set.tab[j] = *e;
			set.used++;
			set.live++;
		}
	}
	__real_free(old);
}

static void set_add(void *p, unsigned long seq, size_t size, enum kind kind)
{
	size_t j;

	if ((set.used + 1) * 2 > set.cap)
		set_grow();
	j = slot_of(p, set.cap);
	while (set.tab[j].p && set.tab[j].p != TOMB)
		j = (j + 1) & (set.cap - 1);
	if (!set.tab[j].p)
		set.used++;
	set.tab[j] = (struct entry){ p, seq, size, kind };
	set.live++;
}

/* Remove p; returns its entry's kind, or -1 when p was not recorded. */
static int set_del(const void *p)
{
	size_t j;

	if (!set.cap || !p)
		return -1;
	for (j = slot_of(p, set.cap); set.tab[j].p; j = (j + 1) & (set.cap - 1)) {
		if (set.tab[j].p == p) {
			int kind = (int)set.tab[j].kind;

			set.tab[j].p = TOMB;
			set.live--;
			return kind;
		}
	}
	return -1;
}

/* ---- the counter ------------------------------------------------------------- */

#define STACK_DEPTH 24
#define MAX_CAPTURE 3

static struct {
	bool armed;	       /* count, record, and fail allocation fail_at */
	int atomic;	       /* inside a call that counts as one allocation: count nothing */
	unsigned long count;   /* counted calls in this run */
	unsigned long fail_at; /* 0: fail none */
	bool failed;	       /* allocation fail_at happened */
	const char *fail_what; /* the call that failed */
	void *fail_stack[STACK_DEPTH];
	int fail_depth;
	int mismatched;			    /* frees of the wrong kind (free() of a FILE *, ...) */
	unsigned long capture[MAX_CAPTURE]; /* allocations whose stacks to keep (leak reports) */
	void *cap_stack[MAX_CAPTURE][STACK_DEPTH];
	int cap_depth[MAX_CAPTURE];
	int ncapture;
	char where[256]; /* the path and run, for a crash report */
} T;

/* Count one allocating call; true when it must fail. */
static bool t_fail(const char *what)
{
	if (!T.armed || T.atomic)
		return false;
	T.count++;
	for (int i = 0; i < T.ncapture; i++)
		if (T.capture[i] == T.count)
			T.cap_depth[i] = backtrace(T.cap_stack[i], STACK_DEPTH);
	if (T.count != T.fail_at)
		return false;
	T.failed = true;
	T.fail_what = what;
	T.fail_depth = backtrace(T.fail_stack, STACK_DEPTH);
	return true;
}

static void t_record(void *p, size_t size, enum kind kind)
{
	if (T.armed && p)
		set_add(p, T.count, size, kind);
}

static void t_forget(const void *p, enum kind kind)
{
	int k = set_del(p);

	if (k >= 0 && k != (int)kind) {
		fprintf(stderr, "torture: %s released as %s\n", kind_names[k], kind_names[kind]);
		T.mismatched++;
	}
}

static void *t_malloc(size_t n, const char *what)
{
	void *p;

	if (t_fail(what)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_malloc(n);
	t_record(p, n, K_MEM);
	return p;
}

static void *t_realloc(void *p, size_t n, const char *what)
{
	void *q;
	bool tracked;

	if (p && n == 0) { /* glibc frees and returns NULL */
		__wrap_free(p);
		return NULL;
	}
	if (t_fail(what)) {
		errno = ENOMEM;
		return NULL;
	}
	q = __real_realloc(p, n);
	if (!q)
		return NULL;
	tracked = p && set_del(p) >= 0;
	if (T.armed)
		set_add(q, T.count, n, K_MEM);
	else if (tracked)
		set_add(q, 0, n, K_MEM);
	return q;
}

void *__wrap_malloc(size_t n)
{
	return t_malloc(n, "malloc");
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (t_fail("calloc")) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_calloc(n, size);
	t_record(p, n * size, K_MEM);
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	return t_realloc(p, n, "realloc");
}

void __wrap_free(void *p)
{
	if (!p)
		return;
	t_forget(p, K_MEM);
	__real_free(p);
}

char *__wrap_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = t_malloc(n, "strdup");

	if (p)
		memcpy(p, s, n);
	return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = t_malloc(len + 1, "strndup");

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

int __wrap_vasprintf(char **strp, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	*strp = NULL;
	if (n < 0)
		return -1;
	*strp = t_malloc((size_t)n + 1, "asprintf");
	if (!*strp)
		return -1;
	return vsnprintf(*strp, (size_t)n + 1, fmt, ap);
}

int __wrap_asprintf(char **strp, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __wrap_vasprintf(strp, fmt, ap);
	va_end(ap);
	return n;
}

/* getdelim() on the counted allocator: the first buffer is allocated before
 * reading (as glibc does), growth is a counted realloc; a failure returns -1
 * with errno ENOMEM and leaves *lineptr as it was (still the caller's). */
ssize_t __wrap___getdelim(char **lineptr, size_t *n, int delim, FILE *f)
{
	size_t len = 0;
	ssize_t rc = -1;
	int c;

	if (!lineptr || !n || !f) {
		errno = EINVAL;
		return -1;
	}
	if (!*lineptr || !*n) {
		char *p = t_realloc(*lineptr, 120, "getline");

		if (!p)
			return -1;
		*lineptr = p;
		*n = 120;
	}
	flockfile(f);
	for (;;) {
		c = getc_unlocked(f);
		if (c == EOF) {
			if (len)
				break;
			(*lineptr)[0] = '\0';
			goto out;
		}
		if (len + 2 > *n) {
			size_t cap = *n * 2;
			char *p = t_realloc(*lineptr, cap, "getline");

			if (!p)
				goto out;
			*lineptr = p;
			*n = cap;
		}
		(*lineptr)[len++] = (char)c;
		if (c == delim)
			break;
	}
	(*lineptr)[len] = '\0';
	rc = (ssize_t)len;
out:
	funlockfile(f);
	return rc;
}

ssize_t __wrap_getdelim(char **lineptr, size_t *n, int delim, FILE *f)
{
	return __wrap___getdelim(lineptr, n, delim, f);
}

ssize_t __wrap_getline(char **lineptr, size_t *n, FILE *f)
{
	return __wrap___getdelim(lineptr, n, '\n', f);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	FILE *f;

	if (t_fail("fopen")) {
		errno = ENOMEM;
		return NULL;
	}
	f = __real_fopen(path, mode);
	t_record(f, 0, K_FILE);
	return f;
}

int __wrap_fclose(FILE *f)
{
	t_forget(f, K_FILE);
	return __real_fclose(f);
}

DIR *__wrap_opendir(const char *path)
{
	DIR *d;

	if (t_fail("opendir")) {
		errno = ENOMEM;
		return NULL;
	}
	d = __real_opendir(path);
	t_record(d, 0, K_DIR);
	return d;
}

DIR *__wrap_fdopendir(int fd)
{
	DIR *d;

	if (t_fail("fdopendir")) {
		errno = ENOMEM;
		return NULL;
	}
	d = __real_fdopendir(fd);
	t_record(d, 0, K_DIR);
	return d;
}

int __wrap_closedir(DIR *d)
{
	t_forget(d, K_DIR);
	return __real_closedir(d);
}

pcre2_code *__wrap_pcre2_compile_8(PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options, int *errorcode,
				   PCRE2_SIZE *erroroffset, pcre2_compile_context *ccontext)
{
	pcre2_code *re;

	if (t_fail("pcre2_compile")) {
		*errorcode = PCRE2_ERROR_HEAP_FAILED;
		*erroroffset = 0;
		return NULL;
	}
	re = __real_pcre2_compile_8(pattern, length, options, errorcode, erroroffset, ccontext);
	t_record(re, 0, K_PCRE_CODE);
	return re;
}

void __wrap_pcre2_code_free_8(pcre2_code *code)
{
	t_forget(code, K_PCRE_CODE);
	__real_pcre2_code_free_8(code);
}

pcre2_match_data *__wrap_pcre2_match_data_create_8(uint32_t ovecsize, pcre2_general_context *gcontext)
{
	pcre2_match_data *md;

	if (t_fail("pcre2_match_data_create"))
		return NULL;
	md = __real_pcre2_match_data_create_8(ovecsize, gcontext);
	t_record(md, 0, K_PCRE_MD);
	return md;
}

pcre2_match_data *__wrap_pcre2_match_data_create_from_pattern_8(const pcre2_code *code, pcre2_general_context *gcontext)
{
	pcre2_match_data *md;

	if (t_fail("pcre2_match_data_create_from_pattern"))
		return NULL;
	md = __real_pcre2_match_data_create_from_pattern_8(code, gcontext);
	t_record(md, 0, K_PCRE_MD);
	return md;
}

void __wrap_pcre2_match_data_free_8(pcre2_match_data *md)
{
	t_forget(md, K_PCRE_MD);
	__real_pcre2_match_data_free_8(md);
}

pcre2_match_context *__wrap_pcre2_match_context_create_8(pcre2_general_context *gcontext)
{
	pcre2_match_context *mc;

	if (t_fail("pcre2_match_context_create"))
		return NULL;
	mc = __real_pcre2_match_context_create_8(gcontext);
	t_record(mc, 0, K_PCRE_MC);
	return mc;
}

void __wrap_pcre2_match_context_free_8(pcre2_match_context *mc)
{
	t_forget(mc, K_PCRE_MC);
	__real_pcre2_match_context_free_8(mc);
}

/* jansson's parser drops a byte of a token when growing its buffer fails
 * (load.c: lex_save() ignores strbuffer_append_byte()'s result), so a
 * failure inside it can give a wrong document instead of an error. A parse
 * is therefore one allocation that fails whole, as out of memory; what it
 * allocates inside is recorded, never failed. */
json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error)
{
	json_t *j;

	if (t_fail("json_loadb")) {
		if (error) {
			memset(error, 0, sizeof(*error));
			error->line = error->column = error->position = -1;
			snprintf(error->text, sizeof(error->text), "Out of memory");
			error->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_out_of_memory;
		}
		return NULL;
	}
	T.atomic++;
	j = __real_json_loadb(buffer, buflen, flags, error);
	T.atomic--;
	return j;
}

void torture_hold(void)
{
	T.atomic++;
}

void torture_release(void)
{
	T.atomic--;
}

/* jansson's allocator: the same counter. */
static void *json_alloc(size_t n)
{
	return t_malloc(n, "jansson");
}

static void json_release(void *p)
{
	__wrap_free(p);
}

/* ---- output --------------------------------------------------------------------- */

void torture_put(struct torture_out *o, const char *s, size_t len)
{
	if (o->len + len + 1 > o->cap) {
		size_t cap = (o->len + len + 1) * 2;
		char *b = __real_realloc(o->buf, cap);

		if (!b)
			abort();
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

void torture_printf(struct torture_out *o, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t)n < sizeof(small)) {
		torture_put(o, small, (size_t)n);
		return;
	}
	char *big = __real_malloc((size_t)n + 1);

	if (!big)
		abort();
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	torture_put(o, big, (size_t)n);
	__real_free(big);
}

static void out_reset(struct torture_out *o)
{
	o->len = 0;
	if (o->buf)
		o->buf[0] = '\0';
}

/* ---- reports -------------------------------------------------------------------- */

/* Print a call stack from the caller of the wrapped function up to the
 * path's own function, one frame a line, with file:line from addr2line. */
static void print_stack(void *const *stack, int depth)
{
	for (int i = 1; i < depth; i++) {
		Dl_info info;
		char cmd[1024], line[512];
		FILE *p = NULL;
		bool last = false;

		if (dladdr(stack[i], &info) && info.dli_fname) {
			uintptr_t off = (uintptr_t)stack[i] - (uintptr_t)info.dli_fbase - 1;

			snprintf(cmd, sizeof(cmd), "addr2line -f -i -p -C -e '%s' 0x%lx 2>/dev/null", info.dli_fname,
				 (unsigned long)off);
			p = popen(cmd, "r");
		}
		if (p && fgets(line, sizeof(line), p) && line[0] != '?') {
			if (strncmp(line, "run_once at ", 12) == 0)
				last = true;
			else if (!strstr(line, "test/torture/torture.c:"))
				printf("        %s", line);
			while (fgets(line, sizeof(line), p))
				printf("            %s", line);
		} else {
			printf("        %p\n", stack[i]);
		}
		if (p)
			pclose(p);
		if (last)
			break;
	}
}

static void release_entry(struct entry *e)
{
	switch (e->kind) {
	case K_MEM:
		__real_free(e->p);
		break;
	case K_FILE:
		__real_fclose(e->p);
		break;
	case K_DIR:
		__real_closedir(e->p);
		break;
	case K_PCRE_CODE:
		__real_pcre2_code_free_8(e->p);
		break;
	case K_PCRE_MD:
		__real_pcre2_match_data_free_8(e->p);
		break;
	case K_PCRE_MC:
		__real_pcre2_match_context_free_8(e->p);
		break;
	}
}

/* Collect what is still live (sorted by allocation number) into leaks[0..max),
 * release all of it, and return how many there were. */
static size_t take_leaks(struct entry *leaks, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < set.cap; i++) {
		struct entry *e = &set.tab[i];

		if (!e->p || e->p == TOMB)
			continue;
		if (n < max) {
			size_t j = n;

			while (j > 0 && leaks[j - 1].seq > e->seq) {
				leaks[j] = leaks[j - 1];
				j--;
			}
			leaks[j] = *e;
		}
		n++;
		release_entry(e);
		e->p = TOMB;
	}
	set.live = 0;
	return n;
}

static struct sigaction saved_segv, saved_bus;

static void on_crash(int sig)
{
	static const char head[] = "\ntorture: crashed in ";

	if (write(2, head, sizeof(head) - 1) < 0 || write(2, T.where, strlen(T.where)) < 0 || write(2, "\n", 1) < 0)
		_exit(99);
	/* The fault repeats when this returns, and the handler that was there
	 * takes it: cmocka's fails the test and goes on to the next. */
	if (sig == SIGSEGV)
		sigaction(SIGSEGV, &saved_segv, NULL);
	else if (sig == SIGBUS)
		sigaction(SIGBUS, &saved_bus, NULL);
}

#ifdef __SANITIZE_ADDRESS__
static void on_asan_death(void)
{
	on_crash(0);
}
#endif

void torture_init(void)
{
	void *warm[2];

	json_set_alloc_funcs(json_alloc, json_release);
	backtrace(warm, 2); /* loads the unwinder now, not inside a counted run */
#ifdef __SANITIZE_ADDRESS__
	__sanitizer_set_death_callback(on_asan_death);
#endif
}

/* ---- the driver ------------------------------------------------------------------ */

struct run {
	int rc;
	unsigned long count;
	bool failed;
	size_t nleaks;
	struct entry leaks[8];
	int mismatched;
};

static struct torture_out base_out;

const char *torture_baseline(void)
{
	return base_out.buf ? base_out.buf : "";
}

static int devnull = -1;

/* One run of p with allocation fail_at failing (0: none); stacks of the
 * allocations in capture[] are kept. */
static void run_once(const struct torture_path *p, unsigned long fail_at, const unsigned long *capture, int ncapture,
		     struct torture_out *out, struct run *r)
{
	int saved = -1;
	bool quiet = p->quiet_stderr && !getenv("TORTURE_VERBOSE");

	snprintf(T.where, sizeof(T.where), "%s, allocation %lu failing", p->name, fail_at);
	out_reset(out);
	if (quiet) {
		fflush(stderr);
		saved = dup(2);
		if (devnull < 0)
			devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		dup2(devnull, 2);
	}
	T.count = 0;
	T.fail_at = fail_at;
	T.failed = false;
	T.mismatched = 0;
	T.ncapture = ncapture;
	for (int i = 0; i < ncapture; i++) {
		T.capture[i] = capture[i];
		T.cap_depth[i] = 0;
	}
	T.armed = true;
	r->rc = p->fn(p->arg, out);
	T.armed = false;
	if (quiet) {
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
	}
	r->count = T.count;
	r->failed = T.failed;
	r->mismatched = T.mismatched;
	r->nleaks = take_leaks(r->leaks, sizeof(r->leaks) / sizeof(r->leaks[0]));
}

static bool same_out(const struct torture_out *a, const struct torture_out *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->buf, b->buf, a->len) == 0);
}

/* From the first line where a and b differ, up to three lines of each, for a message. */
static void print_diff(const struct torture_out *base, const struct torture_out *got)
{
	const char *a = base->buf ? base->buf : "", *b = got->buf ? got->buf : "";
	size_t i = 0, ls = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			ls = i + 1;
		i++;
	}
	for (int k = 0; k < 2; k++) {
		const char *s = (k ? b : a) + ls;

		for (int n = 0; n < 3 && *s; n++) {
			int len = (int)strcspn(s, "\n");

			printf("      %s %.*s\n", n ? "        " : k ? "got:    " : "baseline:", len, s);
			s += len + (s[len] == '\n');
		}
		if (!*((k ? b : a) + ls))
			printf("      %s\n", k ? "got:     (nothing)" : "baseline: (nothing)");
	}
}

static void print_leaks(const struct torture_path *p, unsigned long fail_at, struct run *r)
{
	unsigned long seqs[MAX_CAPTURE] = { 0 };
	struct torture_out scratch = { 0 };
	struct run again;
	int n = 0;

	printf("    %zu left allocated:\n", r->nleaks);
	for (size_t i = 0; i < r->nleaks && i < sizeof(r->leaks) / sizeof(r->leaks[0]); i++) {
		printf("      #%lu: %s", r->leaks[i].seq, kind_names[r->leaks[i].kind]);
		if (r->leaks[i].kind == K_MEM)
			printf(" (%zu bytes)", r->leaks[i].size);
		printf("\n");
		if (n < MAX_CAPTURE && r->leaks[i].seq)
			seqs[n++] = r->leaks[i].seq;
	}
	/* The runs are deterministic: run it again to see where they came from. */
	run_once(p, fail_at, seqs, n, &scratch, &again);
	for (int i = 0; i < n; i++) {
		printf("    allocation #%lu, left allocated, came from:\n", seqs[i]);
		print_stack(T.cap_stack[i], T.cap_depth[i]);
	}
	__real_free(scratch.buf);
}

#define MAX_SHOWN 10 /* problems printed per path */

/* Count a problem and print it (the first MAX_SHOWN); true when printed. */
static bool problem(const struct torture_path *p, struct torture_stats *st, unsigned long i, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool problem(const struct torture_path *p, struct torture_stats *st, unsigned long i, const char *fmt, ...)
{
	va_list ap;

	st->problems++;
	if (st->problems > MAX_SHOWN) {
		if (st->problems == MAX_SHOWN + 1)
			printf("  %s: more problems not shown\n", p->name);
		return false;
	}
	printf("  PROBLEM %s: ", p->name);
	if (i)
		printf("allocation %lu failing: ", i);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (i && T.failed) {
		printf("    the failed call (%s):\n", T.fail_what);
		print_stack(T.fail_stack, T.fail_depth);
	}
	return true;
}

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 10) : dflt;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool torture_selected(const struct torture_path *p)
{
	const char *only = getenv("TORTURE_PATH");

	return !only || strstr(p->name, only);
}

unsigned long torture_path(const struct torture_path *p, struct torture_stats *st)
{
	struct torture_out out = { 0 };
	unsigned long stride = env_ulong("TORTURE_STRIDE", 1), only = env_ulong("TORTURE_ONLY", 0);
	int want = p->err ? p->err : -ENOMEM;
	struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_RESETHAND };
	struct run base, r;
	bool baseline_bad;
	double t0;

	memset(st, 0, sizeof(*st));
	out_reset(&base_out);
	if (!torture_selected(p))
		return 0;
	t0 = now_s();
	if (stride < 1)
		stride = 1;
	/* after a crash in an earlier path (cmocka went on): what it left is no leak of this one */
	T.armed = false;
	T.atomic = 0;
	for (size_t i = 0; i < set.cap; i++)
		if (set.tab[i].p)
			set.tab[i].p = TOMB;
	set.live = 0;
	sigaction(SIGSEGV, &sa, &saved_segv);
	sigaction(SIGBUS, &sa, &saved_bus);

	/* warm-up: lazy caches (kernel BTF, ...) fill here, not in a counted run */
	run_once(p, 0, NULL, 0, &out, &base);
	run_once(p, 0, NULL, 0, &base_out, &base);
	st->allocs = base.count;
	snprintf(st->baseline, sizeof(st->baseline), "%s", torture_baseline());
	if (base.nleaks && problem(p, st, 0, "the baseline run leaks"))
		print_leaks(p, 0, &base);
	if ((base.rc != 0) != p->baseline_fails)
		problem(p, st, 0, "the baseline run returned %d: %.200s", base.rc, torture_baseline());
	run_once(p, 0, NULL, 0, &out, &r);
	baseline_bad = st->problems > 0;
	if (r.count != base.count || r.rc != base.rc || !same_out(&out, &base_out)) {
		if (problem(p, st, 0, "two runs differ (%lu and %lu allocations, rc %d and %d): not deterministic",
			    base.count, r.count, base.rc, r.rc))
			print_diff(&base_out, &out);
		baseline_bad = true;
	}

	for (unsigned long i = only ? only : 1; i <= base.count && !baseline_bad; i += stride) {
		run_once(p, i, NULL, 0, &out, &r);
		if (r.failed)
			st->injected++;
		if (!r.failed) {
			problem(p, st, i, "the run made only %lu allocations: not deterministic", r.count);
		} else if (r.rc == want) {
			st->errors++;
		} else if (r.rc == base.rc && same_out(&out, &base_out)) {
			st->recovered++;
			if (getenv("TORTURE_SHOW_RECOVERED")) {
				printf("  %s: allocation %lu failing: recovered; the failed call (%s):\n", p->name, i,
				       T.fail_what);
				print_stack(T.fail_stack, T.fail_depth);
			}
		} else if (r.rc == base.rc && p->degraded_ok &&
			   p->degraded_ok(torture_baseline(), out.buf ? out.buf : "")) {
			st->degraded++;
		} else if (problem(p, st, i, "returned %d (want %d, or %d with the baseline's output)%s", r.rc, want,
				   base.rc, r.rc == base.rc ? ": output differs" : "")) {
			print_diff(&base_out, &out);
		}
		if (r.nleaks && problem(p, st, i, "leaks"))
			print_leaks(p, i, &r);
		if (r.mismatched)
			problem(p, st, i, "%d releases by the wrong function", r.mismatched);
		if (only)
			break;
	}
	sigaction(SIGSEGV, &saved_segv, NULL);
	sigaction(SIGBUS, &saved_bus, NULL);
	printf("torture %-40s %5lu allocations, %5lu failed in turn: %5lu errors, %4lu recovered, ", p->name,
	       st->allocs, st->injected, st->errors, st->recovered);
	if (p->degraded_ok)
		printf("%lu degraded, ", st->degraded);
	printf("%lu problems, %.2f s\n", st->problems, now_s() - t0);
	fflush(stdout);
	__real_free(out.buf);
	return st->problems;
}
