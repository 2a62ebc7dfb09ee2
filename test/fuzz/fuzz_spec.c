/* fuzz_spec.c - libFuzzer target: spec_parse, the spec_print fixed point, codegen_emit.
 * Built and run by test/fuzz/run.sh. With DIAG_FUZZ_PROGRAMS=DIR set, up to 200 generated
 * programs are written to DIR (named by a hash of their text) for bpftrace to compile. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracespec/codegen.h"

/* Parse text and print its canonical form into out (initialised here, release it). */
static int reprint(const char *text, struct trace_spec **s, struct strbuf *out)
{
	struct spec_error err;

	strbuf_init(out, 4 * SPEC_MAX_LEN);
	return spec_parse(text, s, &err) < 0 ? -1 : spec_print(*s, out);
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
	static int saved;
	struct trace_spec *s = NULL, *s2 = NULL;
	struct strbuf c1, c2 = STRBUF_INIT(0);
	struct codegen_result res = { 0 };
	struct trace_opts o;
	struct spec_error err;
	const char *dir = getenv("DIAG_FUZZ_PROGRAMS");
	char *text, path[4096];
	int bad;

	if (size > SPEC_MAX_LEN / 4 || !(text = calloc(1, size + 1)))
		return -1;
	memcpy(text, data, size);
	if (reprint(text, &s, &c1) == 0) {
		/* The canonical text C1 must parse and print to C1 again (if it is not over the limit). */
		if ((reprint(strbuf_str(&c1), &s2, &c2) != 0 || strcmp(strbuf_str(&c1), strbuf_str(&c2)) != 0)) {
			fprintf(stderr, "fixed-point violation\n  input: %s\n  C1:    %s\n  C2:    %s\n", text,
				strbuf_str(&c1), s2 ? strbuf_str(&c2) : "(does not parse)");
			abort();
		}
		trace_opts_init(&o);
		if (codegen_emit(&s, 1, &o, &env, &res, &err, &bad) == 0 && dir && saved < 200) {
			uint64_t h = 14695981039346656037ull; /* FNV-1a */
			for (const char *p = res.program; *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ull;
			snprintf(path, sizeof(path), "%s/%016llx.bt", dir, (unsigned long long)h);
			FILE *f = fopen(path, "wx"); /* the same program is written once */
			if (f) {
				fputs(res.program, f);
				saved += fclose(f) == 0;
			}
		}
	}
	codegen_release(&res);
	strbuf_release(&c1);
	strbuf_release(&c2);
	spec_free(s);
	spec_free(s2);
	free(text);
	return 0;
}
