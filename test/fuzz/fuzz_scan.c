/* fuzz_scan.c - libFuzzer target: bpftrace's raw JSON-lines output through the
 * scanner, the renderers and the statistics, as a trace runs it.
 *
 * Input: a first line of TAB-separated specs (and -K, -U, -a, -A) whose
 * generated layout the rest is scanned with; when that line does not
 * generate, the whole input is scanned with a fixed layout of three probes
 * (every column kind and conversion). Properties, each an abort:
 *   - every event renders (render_event_json) to a tree that dumps to JSON
 *     text which loads again to an equal tree, and the direct --jsonl text
 *     (render_event_text) loads to the same tree;
 *   - a line the fast path took as an event or the attach marker is valid
 *     JSON (after bpftrace's documented quirks: \uffffffXX escapes, integers
 *     beyond int64, lone surrogates), and jansson reads the same columns
 *     from it;
 *   - the statistics object dumps to JSON that loads;
 *   - feeding the output in random pieces gives the same events, maps and
 *     counts as scanning it line by line.
 * Built and run by test/fuzz/run.sh scan; DIAG_FUZZ_VERBOSE=1 prints each
 * input's layout and counts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser/bpfmap.h"
#include "parser/render.h"
#include "parser/stats.h"
#include "parser/utf8.h"
#include "tracespec/codegen.h"
#include "tracespec/dwtypes.h"
#include "tracespec/ktypes.h"

static bool registered;

static void release_types(void)
{
	dwtypes_release();
	ktypes_release();
}

#define WALL_NS	 1700000000000000000LL /* mono_to_wall_ns: a 2023 wall clock */
#define MAX_SPEC 4		       /* specs on the first line */

static void fuzz_fail(const char *what, const char *a, size_t alen, const char *b)
{
	fprintf(stderr, "scan property violated: %s\n  line/text: %.*s\n  other:     %s\n", what, (int)alen, a ? a : "",
		b ? b : "");
	abort();
}

/* ---- layouts ---------------------------------------------------------------- */

static struct layout_value vals0[] = { { "s", "arg2", true } };
static struct layout_col cols0[] = { { LC_RETVAL, 0 }, { LC_LATENCY, 0 }, { LC_VALUE, 0 } };
static struct layout_value vals1[] = { { "d", "arg1", false },
				       { "llx", "arg2", false },
				       { "s", "str(arg3)", true },
				       { "c", "arg4", false },
				       { "hu", "(uint16)arg5", false },
				       { "K", "arg6", true },
				       { "lu", "STRCMP(\"a\\\"b\\377\", arg2)", false } };
static struct layout_col cols1[] = { { LC_VALUE, 0 }, { LC_VALUE, 1 }, { LC_VALUE, 2 }, { LC_VALUE, 3 },
				     { LC_VALUE, 4 }, { LC_VALUE, 5 }, { LC_VALUE, 6 }, { LC_RETVAL, 0 } };
static struct layout_value vals2[] = {
	{ "x", "prev_pid", false },
	{ "U", "ip", true },
	{ "s", "((struct task_struct *)curtask)->mm->owner->real_parent->group_leader->comm", true }
};
static struct layout_col cols2[] = {
	{ LC_KSTACK, 0 }, { LC_USTACK, 0 }, { LC_VALUE, 1 }, { LC_VALUE, 0 }, { LC_VALUE, 2 }
};
static struct layout_probe fixed_probes[] = {
	{ "sys_openat", "syscalls:sys_enter_openat", "tracepoint:syscalls:sys_enter_openat", "%s", vals0, 1, cols0, 3,
	  true, true },
	{ "vfs_read", "vfs_read", "kretprobe:vfs_read", "%d %llx [%s] %c %hu %K %lu %% %q %d", vals1, 7, cols1, 8, true,
	  false },
	{ "sched_switch", "sched:sched_switch", "tracepoint:sched:sched_switch", NULL, vals2, 3, cols2, 5, false,
	  false },
};
static struct event_layout fixed = { fixed_probes, 3, -1, 0, 64, 0, false, true, true, NULL };

/* The layout the first line (line[0..len), no newline) generates into cg,
 * or NULL. Generated for every input (no cache: libFuzzer runs a leak check
 * after any input that allocates more than it frees). */
static const struct event_layout *line_layout(const char *line, size_t len, struct codegen_result *cg)
{
	static const struct lower_env env = { .tracefs = "/sys/kernel/tracing",
					      .can_tracepoint = true,
					      .can_kprobe = true,
					      .can_uprobe = true,
					      .can_usdt = true };
	struct trace_spec *specs[MAX_SPEC];
	struct trace_opts o;
	struct spec_error err;
	char *text, *field, *save = NULL;
	int n = 0, bad, rc = -1;

	if (!registered) /* the type caches codegen keeps, freed at exit (valgrind counts them otherwise) */
		registered = atexit(release_types) == 0;
	if (len == 0 || len > SPEC_MAX_LEN || memchr(line, '\0', len) || !(text = strndup(line, len)))
		return NULL;
	trace_opts_init(&o);
	for (field = strtok_r(text, "\t", &save); field; field = strtok_r(NULL, "\t", &save)) {
		if (strcmp(field, "-K") == 0)
			o.kstack = true;
		else if (strcmp(field, "-U") == 0)
			o.ustack = true;
		else if (strcmp(field, "-a") == 0)
			o.stack_addr = true;
		else if (strcmp(field, "-A") == 0)
			o.aggregate = true;
		else if (n == MAX_SPEC || spec_parse(field, &specs[n], &err) < 0)
			goto out;
		else
			n++;
	}
	if (n > 0)
		rc = codegen_emit(specs, n, &o, &env, cg, &err, &bad);
out:
	for (int i = 0; i < n; i++)
		spec_free(specs[i]);
	trace_opts_release(&o);
	free(text);
	return rc == 0 ? cg->layout : NULL;
}

/* ---- one pass ---------------------------------------------------------------- */

struct pass {
	const struct event_layout *l;
	bool check; /* the reference pass: render and check everything */
	struct trace_stats *st;
	struct strbuf text, scratch, msg;
	uint64_t digest; /* of every event's text, map and other line, in order */
	uint64_t nevents, nmarks, nmaps, nother, nlost;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *u = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ u[i]) * 1099511628211ull;
	return h;
}

static void mix_json(struct pass *p, const char *tag, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (!s)
		fuzz_fail("a scanned JSON value does not dump", tag, strlen(tag), NULL);
	p->digest = fnv(fnv(p->digest, tag, strlen(tag) + 1), s, strlen(s));
	free(s);
}

static void check_event(struct pass *p, const struct scan_event *ev)
{
	json_error_t jerr;
	json_t *tree, *back, *fromtext;
	char *dump;

	tree = render_event_json(ev, WALL_NS);
	if (!tree)
		fuzz_fail("render_event_json returned NULL", p->text.buf, p->text.len, NULL);
	dump = json_dumps(tree, JSON_COMPACT);
	if (!dump)
		fuzz_fail("the event tree does not dump", p->text.buf, p->text.len, NULL);
	back = json_loads(dump, JSON_ALLOW_NUL, &jerr);
	if (!back || !json_equal(back, tree))
		fuzz_fail("the dumped event tree does not load back equal", dump, strlen(dump), jerr.text);
	fromtext = json_loadb(p->text.buf, p->text.len, JSON_ALLOW_NUL, &jerr);
	if (!fromtext)
		fuzz_fail("render_event_text is not valid JSON", p->text.buf, p->text.len, jerr.text);
	if (!json_equal(fromtext, tree))
		fuzz_fail("render_event_text and render_event_json differ", p->text.buf, p->text.len, dump);
	json_decref(fromtext);
	json_decref(back);
	json_decref(tree);
	free(dump);
}

static void on_event(void *ud, const struct scan_event *ev)
{
	struct pass *p = ud;

	if (ev->probe < 0 || ev->probe >= p->l->nprobes || ev->lp != &p->l->probes[ev->probe])
		fuzz_fail("an event of no probe", NULL, 0, NULL);
	p->nevents++;
	strbuf_reset(&p->text);
	if (render_event_text(ev, WALL_NS, &p->text, &p->scratch) != 0)
		fuzz_fail("render_event_text failed", p->text.buf, p->text.len, NULL);
	p->digest = fnv(p->digest, p->text.buf, p->text.len + 1);
	if (!p->check)
		return;
	strbuf_reset(&p->msg);
	render_message(ev, &p->msg);
	stats_event(p->st, ev);
	if (p->l->aggregate)
		stats_message(p->st, strbuf_str(&p->msg), p->msg.len);
	check_event(p, ev);
}

static void on_attached(void *ud, uint64_t nsecs)
{
	struct pass *p = ud;

	p->nmarks++;
	p->digest = fnv(p->digest, &nsecs, sizeof(nsecs));
}

static void on_lost(void *ud, uint64_t n)
{
	struct pass *p = ud;

	p->nlost++;
	p->digest = fnv(p->digest, &n, sizeof(n));
	if (p->check)
		stats_lost(p->st, n);
}

/* What the diagnose modules do with a map: keys, numbers, histograms. */
static void read_map(json_t *value)
{
	struct bpfmap_hist h;
	const char *key, *rest;
	int64_t ints[2], i;
	uint64_t u;
	json_t *v;

	if (json_is_array(value) && bpfmap_hist_parse(value, &h) == 0) {
		bpfmap_hist_merge(&h, &h);
		bpfmap_hist_pct(&h, 50);
		bpfmap_hist_pct(&h, 99.9);
	}
	bpfmap_i64(value, &i);
	json_object_foreach(value, key, v)
	{
		bpfmap_key(key, 1, ints, NULL);
		bpfmap_key(key, 2, ints, &rest);
		bpfmap_u64(v, &u);
		if (json_is_array(v) && bpfmap_hist_parse(v, &h) == 0)
			bpfmap_hist_pct(&h, 90);
	}
}

static void on_map(void *ud, const char *name, json_t *value)
{
	struct pass *p = ud;

	p->nmaps++;
	mix_json(p, name, value);
	if (!p->check)
		return;
	stats_map(p->st, name, value);
	read_map(value);
}

static void on_other(void *ud, const char *type, json_t *line)
{
	struct pass *p = ud;

	p->nother++;
	mix_json(p, type, line);
}

static int pass_init(struct pass *p, const struct event_layout *l, bool check)
{
	memset(p, 0, sizeof(*p));
	p->l = l;
	p->check = check;
	p->digest = 14695981039346656037ull;
	strbuf_init(&p->text, 4 << 20);
	strbuf_init(&p->scratch, 1 << 20);
	strbuf_init(&p->msg, 1 << 20);
	p->st = check ? stats_new(l) : NULL;
	return check && !p->st ? -1 : 0;
}

static void pass_release(struct pass *p)
{
	strbuf_release(&p->text);
	strbuf_release(&p->scratch);
	strbuf_release(&p->msg);
	stats_free(p->st);
}

/* ---- the fast path against jansson --------------------------------------------- */

/* Would jansson read line as it is? Not with bpftrace's \uffffffXX, integers
 * of 19+ digits (int64 may not hold them), bytes that are not UTF-8, or a
 * surrogate escape (JSON's grammar allows a lone one, which the scanner reads
 * as U+FFFD; jansson refuses it). */
static bool plain_json(const char *line, size_t len)
{
	size_t digits = 0;

	for (size_t i = 0, l; i < len; i += l) {
		l = (unsigned char)line[i] < 0x80 ? 1 : utf8_seq_len((const unsigned char *)line + i, len - i);
		if (l == 0)
			return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\\' && i + 7 < len && line[i + 1] == 'u' && strncasecmp(line + i + 2, "ffffff", 6) == 0)
			return false;
		if (line[i] == '\\' && i + 3 < len && line[i + 1] == 'u' && (line[i + 2] | 0x20) == 'd' &&
		    strchr("89abcdefABCDEF", line[i + 3]))
			return false;
		digits = line[i] >= '0' && line[i] <= '9' ? digits + 1 : 0;
		if (digits >= 19)
			return false;
	}
	return true;
}

/* Column c of the tuple as jansson read it against the scanner's value. */
static bool same_value(json_t *j, const struct scan_value *v)
{
	switch (v->kind) {
	case SV_NULL:
		return json_is_null(j);
	case SV_INT:
		return json_is_integer(j) && json_integer_value(j) == v->i;
	case SV_STR:
		return json_is_string(j) && json_string_length(j) == v->len &&
		       memcmp(json_string_value(j), v->s, v->len) == 0;
	}
	return false;
}

struct line_check {
	const char *line;
	size_t len;
	bool plain;
};

static struct line_check *cur_line;

/* The value line the scanner just took: jansson must read it, with the same columns. */
static void check_line(const struct scan_event *ev, bool marker)
{
	struct line_check *lc = cur_line;
	json_error_t jerr;
	json_t *root, *data;

	if (!lc || !lc->plain)
		return;
	root = json_loadb(lc->line, lc->len, JSON_ALLOW_NUL, &jerr);
	if (!root)
		fuzz_fail("the scanner took a line that is not JSON", lc->line, lc->len, jerr.text);
	json_decref(root);
	root = json_loadb(lc->line, lc->len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return; /* duplicate keys: the fast path reads the first "data", jansson the last */
	data = json_object_get(root, "data");
	if (!json_is_object(root) || !json_is_array(data) || !json_is_string(json_object_get(root, "type")) ||
	    strcmp(json_string_value(json_object_get(root, "type")), "value") != 0)
		fuzz_fail("the scanner took a line that is not a value line", lc->line, lc->len, NULL);
	if (marker) {
		if (json_array_size(data) != 2 || !json_is_string(json_array_get(data, 0)))
			fuzz_fail("the attach marker is not [\"attached\", N]", lc->line, lc->len, NULL);
	} else {
		const struct layout_probe *lp = ev->lp;
		json_t *comm = json_array_get(data, LH_COMM);

		if (json_array_size(data) != (size_t)(LAYOUT_HEADER + lp->ncols))
			fuzz_fail("the tuple has another number of columns", lc->line, lc->len, NULL);
		if (json_is_string(comm) && (json_string_length(comm) != ev->comm_len ||
					     memcmp(json_string_value(comm), ev->comm, ev->comm_len) != 0))
			fuzz_fail("the comm differs from jansson's", lc->line, lc->len, NULL);
		if (json_is_integer(json_array_get(data, LH_PID)) &&
		    json_integer_value(json_array_get(data, LH_PID)) != ev->pid)
			fuzz_fail("the pid differs from jansson's", lc->line, lc->len, NULL);
		for (int j = 0; j < lp->ncols; j++) {
			json_t *col = json_array_get(data, LAYOUT_HEADER + j);
			const struct scan_value *v;

			if (lp->cols[j].kind != LC_VALUE)
				continue;
			v = &ev->values[lp->cols[j].value];
			/* an integer column written as a string reads as the integer (bpftrace 0.24+) */
			if (v->kind == SV_INT && json_is_string(col))
				continue;
			if (!same_value(col, v))
				fuzz_fail("a column differs from jansson's", lc->line, lc->len, NULL);
		}
	}
	json_decref(root);
}

static void on_event_checked(void *ud, const struct scan_event *ev)
{
	check_line(ev, false);
	on_event(ud, ev);
}

static void on_attached_checked(void *ud, uint64_t nsecs)
{
	check_line(NULL, true);
	on_attached(ud, nsecs);
}

/* ---- the target ------------------------------------------------------------------ */

static void check_stats(struct pass *p, const struct scan_stats *ss)
{
	json_error_t jerr;
	json_t *j = stats_json(p->st, 1.5, ss), *back;
	char *s;

	if (!j)
		fuzz_fail("stats_json returned NULL", NULL, 0, NULL);
	s = json_dumps(j, JSON_COMPACT);
	if (!s)
		fuzz_fail("the statistics do not dump", NULL, 0, NULL);
	back = json_loads(s, JSON_ALLOW_NUL, &jerr);
	if (!back || !json_equal(back, j))
		fuzz_fail("the statistics do not load back equal", s, strlen(s), jerr.text);
	json_decref(back);
	json_decref(j);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *body = in, *end = in + size;
	const char *nl = memchr(in, '\n', size);
	struct codegen_result cg = { 0 };
	const struct event_layout *l = nl ? line_layout(in, (size_t)(nl - in), &cg) : NULL;
	struct scan_callbacks cb = { on_event_checked, on_attached_checked, on_lost, on_map, on_other, NULL };
	struct scanner *s1, *s2;
	struct pass a, b;
	uint64_t rnd;

	if (l)
		body = nl + 1;
	else
		l = &fixed;
	if (pass_init(&a, l, true) < 0 || pass_init(&b, l, false) < 0)
		abort();
	/* the reference: line by line */
	cb.ud = &a;
	s1 = scan_new(l, &cb);
	cb = (struct scan_callbacks){ on_event, on_attached, on_lost, on_map, on_other, &b };
	s2 = scan_new(l, &cb);
	if (!s1 || !s2)
		abort();
	for (const char *p = body; p < end;) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		struct line_check lc = { p, (size_t)((e ? e : end) - p), false };

		lc.plain = plain_json(lc.line, lc.len);
		cur_line = &lc;
		scan_line(s1, lc.line, lc.len);
		cur_line = NULL;
		p = e ? e + 1 : end;
	}
	/* the same bytes in pieces of 1 to 64 bytes, as a pipe delivers them */
	rnd = fnv(14695981039346656037ull, data, size);
	for (const char *p = body; p < end;) {
		size_t n = 1 + (rnd >> 33) % 64;

		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		if (n > (size_t)(end - p))
			n = (size_t)(end - p);
		scan_feed(s2, p, n);
		p += n;
	}
	scan_finish(s2);
	{
		const struct scan_stats *x = scan_stats(s1), *y = scan_stats(s2);

		if (x->events != a.nevents || x->events > x->lines || x->malformed > x->lines)
			fuzz_fail("the scanner's counts do not add up", NULL, 0, NULL);
		if (a.digest != b.digest || a.nevents != b.nevents || a.nmarks != b.nmarks || a.nmaps != b.nmaps ||
		    a.nother != b.nother || a.nlost != b.nlost || x->lines != y->lines || x->events != y->events ||
		    x->malformed != y->malformed || x->lost != y->lost || x->attached_probes != y->attached_probes)
			fuzz_fail("fed in pieces, the output scans differently than line by line", body,
				  (size_t)(end - body), NULL);
		check_stats(&a, x);
		if (getenv("DIAG_FUZZ_VERBOSE"))
			fprintf(stderr,
				"scan: %s layout (%d probes): %llu lines, %llu events, %llu malformed, %llu maps\n",
				l == &fixed ? "fixed" : "generated", l->nprobes, (unsigned long long)x->lines,
				(unsigned long long)x->events, (unsigned long long)x->malformed,
				(unsigned long long)a.nmaps);
	}
	scan_free(s1);
	scan_free(s2);
	pass_release(&a);
	pass_release(&b);
	codegen_release(&cg);
	return 0;
}
