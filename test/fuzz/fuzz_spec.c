/* fuzz_spec.c - libFuzzer target: spec_parse, the spec_print fixed point, codegen_emit.
 *
 * Input: one spec; or TAB-separated fields, each a spec (up to 4, one program) or one of
 * trace's options written as one word: -K -U -a -S -A, -pN -LN -uN (uid) -MN -ZN -bN -dN,
 * -nNAME, -cPATH. Every spec must print canonical text that parses and prints the same.
 * Built and run by test/fuzz/run.sh. With DIAG_FUZZ_PROGRAMS=DIR set, the generated programs
 * are written to DIR (named by a hash of their text; DIAG_FUZZ_PROGRAMS_MAX of them, default
 * 200) for bpftrace to compile. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracespec/codegen.h"
#include "tracespec/dwtypes.h"
#include "tracespec/ktypes.h"

static bool registered;

static void release_types(void)
{
	dwtypes_release();
	ktypes_release();
}

#define MAX_SPECS 4

/* Parse text and print its canonical form into out (initialised here, release it). */
static int reprint(const char *text, struct trace_spec **s, struct strbuf *out)
{
	struct spec_error err;

	strbuf_init(out, 4 * SPEC_MAX_LEN);
	return spec_parse(text, s, &err) < 0 ? -1 : spec_print(*s, out);
}

/* A spec that parses must print text that parses and prints the same. Returns the spec, or NULL. */
static struct trace_spec *parse_checked(const char *text)
{
	struct trace_spec *s = NULL, *s2 = NULL;
	struct strbuf c1, c2 = STRBUF_INIT(0);

	if (reprint(text, &s, &c1) == 0) {
		/* The canonical text C1 must parse and print to C1 again. */
		if (reprint(strbuf_str(&c1), &s2, &c2) != 0 || strcmp(strbuf_str(&c1), strbuf_str(&c2)) != 0) {
			fprintf(stderr, "fixed-point violation\n  input: %s\n  C1:    %s\n  C2:    %s\n", text,
				strbuf_str(&c1), s2 ? strbuf_str(&c2) : "(does not parse)");
			abort();
		}
	} else {
		spec_free(s);
		s = NULL;
	}
	strbuf_release(&c1);
	strbuf_release(&c2);
	spec_free(s2);
	return s;
}

/* The number after an option letter, in [min, max]; false when it is not one. */
static bool number(const char *p, long min, long max, long *out)
{
	char *end;

	if (*p < '0' || *p > '9')
		return false;
	*out = strtol(p, &end, 10);
	return !*end && *out >= min && *out <= max;
}

/* One option field into o, with trace's ranges; false when it is no option trace takes. */
static bool option(const char *f, struct trace_opts *o)
{
	long v;
	char **str = f[1] == 'n' ? &o->name : &o->cgroup;

	switch (f[1]) {
	case 'K':
	case 'U':
	case 'a':
	case 'S':
	case 'A':
		if (f[2])
			return false;
		if (f[1] == 'K')
			o->kstack = true;
		else if (f[1] == 'U')
			o->ustack = true;
		else if (f[1] == 'a')
			o->stack_addr = true;
		else if (f[1] == 'S')
			o->include_self = true;
		else
			o->aggregate = true;
		return true;
	case 'p':
	case 'L':
	case 'u':
		if (!number(f + 2, 0, INT_MAX, &v))
			return false;
		*(f[1] == 'p' ? &o->pid : f[1] == 'L' ? &o->tid : &o->uid) = v;
		return true;
	case 'M':
		return number(f + 2, 0, LONG_MAX / 2, &o->max_events);
	case 'Z':
		if (!number(f + 2, 1, CODEGEN_MAX_STRLEN, &v))
			return false;
		o->string_size = (int)v;
		return true;
	case 'b':
		if (!number(f + 2, 1, 65536, &v) || (v & (v - 1)))
			return false;
		o->buffer_pages = (int)v;
		return true;
	case 'd':
		if (!number(f + 2, 0, 24 * 3600, &v))
			return false;
		o->duration = (int)v;
		return true;
	case 'n':
	case 'c':
		free(*str);
		*str = strdup(f + 2);
		return *str != NULL;
	}
	return false;
}

static void save_program(const char *program)
{
	static long saved;
	const char *dir = getenv("DIAG_FUZZ_PROGRAMS"), *max = getenv("DIAG_FUZZ_PROGRAMS_MAX");
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	char path[4096];
	FILE *f;

	if (!dir || saved >= (max ? atol(max) : 200))
		return;
	for (const char *p = program; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	snprintf(path, sizeof(path), "%s/%016llx.bt", dir, (unsigned long long)h);
	f = fopen(path, "wx"); /* the same program is written once */
	if (f) {
		fputs(program, f);
		saved += fclose(f) == 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lower_env env = { .tracefs = "/sys/kernel/tracing",
					      .can_tracepoint = true,
					      .can_kprobe = true,
					      .can_kfunc = false,
					      .can_uprobe = true,
					      .can_usdt = true,
					      .check_symbols = false };
	struct trace_spec *specs[MAX_SPECS];
	struct codegen_result res = { 0 };
	struct trace_opts o;
	struct spec_error err;
	char *text, *field, *save = NULL;
	int n = 0, bad;
	bool usable = true;

	if (!registered) /* the type caches codegen keeps, freed at exit (valgrind counts them otherwise) */
		registered = atexit(release_types) == 0;
	if (size > SPEC_MAX_LEN / 4 || !(text = calloc(1, size + 1)))
		return -1;
	memcpy(text, data, size);
	trace_opts_init(&o);
	if (!memchr(text, '\t', size)) {
		specs[0] = parse_checked(text);
		n = specs[0] != NULL;
		usable = n == 1;
	} else {
		for (field = strtok_r(text, "\t", &save); field; field = strtok_r(NULL, "\t", &save)) {
			if (field[0] == '-') {
				usable = usable && option(field, &o);
			} else if (n == MAX_SPECS) {
				usable = false;
			} else {
				specs[n] = parse_checked(field);
				if (specs[n])
					n++;
				else
					usable = false;
			}
		}
	}
	if (usable && n > 0 && codegen_emit(specs, n, &o, &env, &res, &err, &bad) == 0)
		save_program(res.program);
	codegen_release(&res);
	for (int i = 0; i < n; i++)
		spec_free(specs[i]);
	trace_opts_release(&o);
	free(text);
	return 0;
}
