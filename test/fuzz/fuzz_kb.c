/* fuzz_kb.c - libFuzzer target: the suggestion knowledge base loader
 * (kb_load_text) on any text, and a loaded base answering queries.
 * Properties, each an abort: a refusal has a message and a line inside the
 * text; a loaded base holds what kb.h promises (compiled patterns, weights
 * and factors in (0, 1], unique family ids, a sorted vocabulary, spec
 * templates that fill and parse); suggest_query answers a few texts (the
 * families' own titles among them) with at most the items asked for, each a
 * spec that parses, best first. Built and run by test/fuzz/run.sh kb;
 * DIAG_FUZZ_VERBOSE=1 prints what each input loaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracespec/spec.h"
#include "tracespec/suggest.h"

#define NQUERY 3 /* items asked of each query */

static void fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "kb property violated: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static bool weight_ok(double w)
{
	return w > 0 && w <= 1;
}

/* A template filled with vars parses as a spec. */
static void check_template(const char *tmpl, const struct kb_vars *vars)
{
	struct strbuf sb = STRBUF_INIT(2 * KB_MAX_LINE);
	struct trace_spec *s = NULL;
	struct spec_error err;

	if (kb_fill(tmpl, vars, &sb) != 0)
		fuzz_fail("a loaded spec template does not fill", tmpl);
	if (spec_parse(strbuf_str(&sb), &s, &err) != 0)
		fuzz_fail("a loaded spec template does not parse", strbuf_str(&sb));
	spec_free(s);
	strbuf_release(&sb);
}

static void check_kb(const struct kb *kb)
{
	static const struct kb_vars vars = { 2, "openat" }; /* ENOENT, as the loader checks */

	if (!weight_ok(kb->threshold))
		fuzz_fail("threshold out of (0, 1]", NULL);
	for (int i = 1; i < kb->nwords; i++)
		if (strcmp(kb->words[i - 1], kb->words[i]) >= 0)
			fuzz_fail("the vocabulary is not sorted and unique", kb->words[i]);
	for (int i = 0; i < kb->nwords; i++)
		if (!kb_has_word(kb, kb->words[i], strlen(kb->words[i])))
			fuzz_fail("kb_has_word misses a vocabulary word", kb->words[i]);
	for (int i = 0; i < kb->nextract; i++)
		if (!kb->extract[i].re)
			fuzz_fail("an extract pattern is not compiled", NULL);
	for (int i = 0; i < kb->nfam; i++) {
		const struct kb_family *f = &kb->fam[i];

		if (!f->id || !f->id[0] || !f->title)
			fuzz_fail("a family without an id or a title", f->id);
		for (int j = 0; j < i; j++)
			if (strcmp(kb->fam[j].id, f->id) == 0)
				fuzz_fail("two families with one id", f->id);
		if (f->nsugg < 1 || f->nerrnos > KB_MAX_ERRNOS)
			fuzz_fail("a family without suggestions, or too many errnos", f->id);
		for (int j = 0; j < f->npatterns; j++)
			if (!f->patterns[j].re || !weight_ok(f->patterns[j].weight))
				fuzz_fail("a pattern not compiled, or its weight out of (0, 1]", f->id);
		for (int j = 0; j < f->nsugg; j++) {
			if (!weight_ok(f->sugg[j].factor) || !f->sugg[j].reason)
				fuzz_fail("a suggestion's factor out of (0, 1], or no reason", f->sugg[j].spec);
			check_template(f->sugg[j].spec, &vars);
			for (int k = 0; k < f->sugg[j].ninstead; k++)
				check_template(f->sugg[j].instead[k], &vars);
		}
	}
}

static void check_query(const struct kb *kb, const char *text)
{
	static const struct lower_env env = { .tracefs = "/sys/kernel/tracing",
					      .can_tracepoint = true,
					      .can_kprobe = true,
					      .can_uprobe = true,
					      .can_usdt = true };
	struct suggest_result r;
	struct strbuf cmd = STRBUF_INIT(1 << 16);
	char err[256];

	if (suggest_query(kb, text, &env, NQUERY, &r, err, sizeof(err)) != 0) {
		if (!err[0])
			fuzz_fail("suggest_query failed without a message", text);
		return;
	}
	if (r.nitems > NQUERY)
		fuzz_fail("more suggestions than asked for", text);
	for (int i = 0; i < r.nitems; i++) {
		struct trace_spec *s = NULL;
		struct spec_error se;

		if (!r.items[i].spec || spec_parse(r.items[i].spec, &s, &se) != 0)
			fuzz_fail("a suggested spec does not parse", r.items[i].spec);
		spec_free(s);
		if (r.items[i].score < 0 || r.items[i].score > 1 || (i && r.items[i].score > r.items[i - 1].score))
			fuzz_fail("scores out of [0, 1] or not best first", r.items[i].spec);
		strbuf_reset(&cmd);
		if (suggest_command(&r.items[i], &cmd) != 0)
			fuzz_fail("suggest_command failed", r.items[i].spec);
	}
	strbuf_release(&cmd);
	suggest_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kb *kb = NULL;
	struct kb_error err;
	int rc = kb_load_text((const char *)data, size, "fuzz.kb", &kb, &err), lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (rc != 0) {
		if (kb || !err.msg[0] || err.line < 0 || err.line > lines)
			fuzz_fail("a refusal without a message, or with a line outside the text", err.msg);
		if (getenv("DIAG_FUZZ_VERBOSE"))
			fprintf(stderr, "kb: refused: line %d: %s\n", err.line, err.msg);
		return 0;
	}
	if (getenv("DIAG_FUZZ_VERBOSE"))
		fprintf(stderr, "kb: loaded: %d families, %d words, %d extracts\n", kb->nfam, kb->nwords, kb->nextract);
	check_kb(kb);
	check_query(kb, "open() fails with ENOENT: No such file or directory in nginx[1234], errno=2");
	for (int i = 0; i < kb->nfam && i < 2; i++)
		check_query(kb, kb->fam[i].title);
	kb_free(kb);
	return 0;
}
