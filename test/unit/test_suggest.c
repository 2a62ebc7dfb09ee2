/* test_suggest.c - the knowledge base loader (errors by line) and the suggestion
 * engine (scoring, typos, what is read from a text, alternatives, limits). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracespec/kb.h"
#include "tracespec/suggest.h"

static struct lower_env env;

static int group_setup(void **state)
{
	const char *tfs = access("/sys/kernel/tracing/events", F_OK) == 0 ? "/sys/kernel/tracing" :
									    "/sys/kernel/debug/tracing";

	env.tracefs = tfs;
	env.can_tracepoint = true;
	env.can_uprobe = true;
	env.check_symbols = true;
	return 0;
}

static struct kb *load(const char *text)
{
	struct kb_error err;
	struct kb *kb = NULL;

	if (kb_load_text(text, strlen(text), "t.kb", &kb, &err) < 0)
		fail_msg("load: %d: %s (%s)", err.line, err.msg, err.hint);
	return kb;
}

/* ---- loading ------------------------------------------------------------------ */

static void test_builtin(void **state)
{
	struct kb_error err;
	struct kb *kb = NULL;
	int starters = 0;

	assert_int_equal(kb_load_builtin(&kb, &err), 0);
	assert_true(kb->nfam >= 40);
	assert_true(kb->nextract > 0 && kb->nwords > 100);
	for (int i = 0; i < kb->nfam; i++)
		starters += kb->fam[i].starter > 0;
	assert_int_equal(starters, 3);
	kb_free(kb);
	kb_free(NULL);
}

#define FAM "family f\ntitle t\n"

static void test_load_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *msg;
	} cases[] = {
		{ FAM "mach 0.5 x\n", 3, "unknown directive 'mach'" },
		{ FAM "match 1.5 x\n", 3, "match weight '1.5' must be a number in (0, 1]" },
		{ FAM "match 0 x\n", 3, "match weight '0' must be a number in (0, 1]" },
		{ FAM "match 0.5\n", 3, "match: missing pattern" },
		{ FAM "match 0.5 a(b\n", 3, "bad pattern at offset 3: missing closing parenthesis" },
		{ FAM "match 0.5 x\nsuggest 1 sys_read\n", 4, "suggestion without a reason" },
		{ FAM "match 0.5 x\n", 1, "family 'f' suggests nothing" },
		{ "family f\nmatch 0.5 x\nsuggest 1 sys_read\nreason r\n", 1, "family 'f' has no title" },
		{ FAM "suggest 1 sys_read\nreason r\n", 1, "family 'f' has nothing to match" },
		{ FAM "errno 0.5 ENOPE\n", 3, "unknown errno 'ENOPE'" },
		{ FAM "match 0.5 x\nsuggest 1 sys_read {bogus}\nreason r\n", 4, "unknown placeholder in spec" },
		{ FAM "match 0.5 x\nsuggest 1 sys_read\nreason about {nothing}\n", 5, "unknown placeholder in reason" },
		{ FAM "match 0.5 x\nreason r\n", 4, "'reason' before any suggest" },
		{ "title t\n", 1, "'title' outside a family" },
		{ FAM "match 0.5 x\nsuggest 1 sys_read\nreason r\nfamily f\n", 6,
		  "family 'f' already defined on line 1" },
		{ "family F!\n", 1, "bad family name 'F!'" },
		{ FAM "carry maybe\n", 3, "bad carry 'maybe'" },
		{ "extract \\d+\n", 1, "extract pattern has no pid, name, comm or errno group" },
		{ "process nginx ==\n", 1, "process: bad entry '=='" },
		{ "process =nginx\n", 1, "process: bad entry '=nginx'" },
		{ "process nginx=\n", 1, "process: bad entry 'nginx='" },
		{ "process a=b=c\n", 1, "process: bad entry 'a=b=c'" },
		{ "# only a comment\n", 0, "no symptom families" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kb_error err;
		struct kb *kb = NULL;
		int rc = kb_load_text(cases[i].text, strlen(cases[i].text), "t.kb", &kb, &err);

		if (rc != -EINVAL || err.line != cases[i].line || strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("case %zu: rc %d, line %d: '%s'; want line %d: '%s'", i, rc, err.line, err.msg,
				 cases[i].line, cases[i].msg);
		assert_null(kb);
	}
}

static void test_bad_spec_names_line_and_column(void **state)
{
	const char *text = FAM "match 0.5 x\nsuggest 1 sys_read (arg3 >\nreason r\n";
	struct kb_error err;
	struct kb *kb;
	char buf[600];

	assert_int_equal(kb_load_text(text, strlen(text), "t.kb", &kb, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(kb_error_text(&err, buf, sizeof(buf)), "t.kb:4: bad spec: "));
}

static void test_fill(void **state)
{
	struct kb_vars v = { EACCES, "openat" }, none = { 0, NULL };
	struct strbuf sb = STRBUF_INIT(256);

	assert_int_equal(kb_fill("r::sys_{syscall} ((int)retval == -{errno}) \"{errno_name} {{x}\"", &v, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "r::sys_openat ((int)retval == -13) \"EACCES {x}\"");
	strbuf_release(&sb);
	assert_int_equal(kb_fill("{errno}", &none, &sb), -EINVAL);
	strbuf_release(&sb);
	assert_false(kb_fillable("{syscall}", &none));
	assert_true(kb_fillable("sys_read", &none));
	assert_int_equal(kb_errno_by_name("enoent", 6), ENOENT);
	assert_int_equal(kb_errno_by_name("EWOULDBLOCK", 11), EAGAIN);
	assert_int_equal(kb_errno_by_name("ENOPE", 5), 0);
	assert_string_equal(kb_errno_name(ECONNREFUSED), "ECONNREFUSED");
	assert_null(kb_errno_name(0));
}

/* ---- the engine --------------------------------------------------------------- */

static const char *const small_kb = "extract \\bpid\\s*(?<pid>\\d+)\n"
				    "extract \\b(?<comm>[a-z]+)\\[(?<pid>\\d+)\\]\n"
				    "extract \\bprocess\\s+'(?<name>[a-z]+)'\n"
				    "extract \\berrno\\s*(?<errno>\\d+)\n"
				    "stopword worker\n"
				    "process postgresql=postgres\n"
				    "family exec\n"
				    "title programs started\n"
				    "match 0.5 \\bstarted\\b\n"
				    "match 0.5 \\bprograms?\\b\n"
				    "starter 2\n"
				    "suggest 1.0 t:sched:sched_process_exec \"exec %s\", args->filename\n"
				    "reason every exec\n"
				    "family noent\n"
				    "title missing files\n"
				    "match 0.9 \\bmissing\\b\n"
				    "errno 0.95 ENOENT\n"
				    "carry name\n"
				    "starter 1\n"
				    "suggest 1.0 r::sys_openat ((int)retval == -{errno}) \"{errno_name}: %s\", arg2\n"
				    "reason openat fails with {errno_name}\n"
				    "suggest 0.9 r::sys_openat \"openat %d\", retval\n"
				    "reason every openat\n"
				    "suggest 0.85 t:sched:sched_process_exit \"exit %s\", args->comm\n"
				    "reason every exit\n"
				    "family connect\n"
				    "title slow connects\n"
				    "match 0.8 \\bslow connects?\\b\n"
				    "suggest 1.0 r::tcp_v4_connect \"tcp_v4_connect %d\", retval\n"
				    "instead t:sock:inet_sock_set_state \"state %d\", args->newstate\n"
				    "reason the connect path\n"
				    "suggest 0.9 p::tcp_v6_connect\n"
				    "reason no alternative\n";

static void ask(const struct kb *kb, const char *text, int max, struct suggest_result *r)
{
	char err[256];

	if (suggest_query(kb, text, &env, max, r, err, sizeof(err)) < 0)
		fail_msg("query '%s': %s", text, err);
}

static void test_scoring(void **state)
{
	struct kb *kb = load(small_kb);
	struct suggest_result r;

	/* two independent matches of 0.5: 1 - 0.5 * 0.5 */
	ask(kb, "which programs are started", 5, &r);
	assert_true(r.matched);
	assert_int_equal(r.nitems, 1);
	assert_string_equal(r.items[0].target, "sched:sched_process_exec");
	assert_true(r.items[0].score > 0.749 && r.items[0].score < 0.751);
	assert_string_equal(r.items[0].reason, "matched 'started', 'programs' [programs started]: every exec");
	suggest_release(&r);

	/* below the threshold (0.35): nothing matched, the starters in order */
	ask(kb, "hello", 5, &r);
	assert_false(r.matched);
	assert_int_equal(r.nitems, 2);
	assert_string_equal(r.items[0].spec, "r::sys_openat ((int)retval == -2) \"ENOENT: %s\", arg2");
	assert_string_equal(r.items[1].target, "sched:sched_process_exec");
	assert_true(r.items[0].score == 0.0);
	suggest_release(&r);
	kb_free(kb);
}

static void test_ranking_spreads_targets(void **state)
{
	struct kb *kb = load(small_kb);
	struct suggest_result r;

	/* noent: 0.9 and 0.95 -> 0.995; openat twice, then the exit tracepoint:
	 * the second openat counts 0.8 of 0.8955, below exit's 0.846 */
	ask(kb, "missing file", 5, &r);
	assert_int_equal(r.nitems, 3);
	assert_string_equal(r.items[0].target, "openat");
	assert_string_equal(r.items[1].target, "sched:sched_process_exit");
	assert_string_equal(r.items[2].target, "openat");
	assert_true(r.items[0].score >= r.items[1].score && r.items[1].score >= r.items[2].score);
	suggest_release(&r);
	ask(kb, "missing file", 1, &r);
	assert_int_equal(r.nitems, 1);
	suggest_release(&r);
	kb_free(kb);
}

static void test_reading(void **state)
{
	struct kb *kb = load(small_kb);
	struct suggest_result r;

	ask(kb, "postgres[77]: open: No such file or directory", 5, &r);
	assert_int_equal(r.pid, 77);
	assert_string_equal(r.process, "postgres");
	assert_int_equal(r.nerrnos, 1);
	assert_int_equal(r.errnos[0], ENOENT);
	/* noent carries the name only */
	assert_int_equal(r.items[0].pid, 0);
	assert_string_equal(r.items[0].process, "postgres");
	suggest_release(&r);

	/* a stopword is no name; a well-known name is mapped to its comm */
	ask(kb, "process 'worker' on postgresql, errno 13, pid 55", 5, &r);
	assert_string_equal(r.process, "postgres");
	assert_int_equal(r.pid, 55);
	assert_int_equal(r.nerrnos, 1);
	assert_int_equal(r.errnos[0], EACCES);
	suggest_release(&r);

	/* typos: corrected, said, weighed 0.75 */
	ask(kb, "programs strated", 5, &r);
	assert_int_equal(r.nfixes, 1);
	assert_string_equal(r.fixes[0].from, "strated");
	assert_string_equal(r.fixes[0].to, "started");
	assert_true(r.items[0].score > 0.687 && r.items[0].score < 0.688); /* 1 - 0.5 * 0.625 */
	assert_non_null(strstr(r.items[0].reason, "(read 'strated' as 'started')"));
	suggest_release(&r);

	/* an inflection is not a typo */
	ask(kb, "programs starts", 5, &r);
	assert_int_equal(r.nfixes, 0);
	suggest_release(&r);
	kb_free(kb);
}

static void test_alternatives(void **state)
{
	struct kb *kb = load(small_kb);
	struct suggest_result r;

	/* no kprobes in env: the tracepoint stands in, the other is unavailable */
	ask(kb, "slow connect", 5, &r);
	assert_int_equal(r.nitems, 1);
	assert_string_equal(r.items[0].target, "sock:inet_sock_set_state");
	assert_string_equal(r.items[0].instead_of, "r::tcp_v4_connect \"tcp_v4_connect %d\", retval");
	assert_non_null(strstr(r.items[0].reason, "cannot attach here"));
	assert_int_equal(r.nunavail, 1);
	assert_string_equal(r.unavail[0].spec, "p::tcp_v6_connect");
	assert_non_null(strstr(r.unavail[0].why, "kprobe"));
	suggest_release(&r);
	kb_free(kb);
}

static void test_limits(void **state)
{
	struct kb *kb = load(small_kb);
	struct suggest_result r;
	char err[256], *big = malloc(SUGGEST_MAX_TEXT + 2);

	assert_int_equal(suggest_query(kb, "  \n", &env, 5, &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(suggest_query(kb, "x", &env, 0, &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(suggest_query(kb, "x", &env, SUGGEST_MAX_ITEMS + 1, &r, err, sizeof(err)), -EINVAL);
	memset(big, 'a', SUGGEST_MAX_TEXT + 1);
	big[SUGGEST_MAX_TEXT + 1] = '\0';
	assert_int_equal(suggest_query(kb, big, &env, 5, &r, err, sizeof(err)), -E2BIG);
	big[SUGGEST_MAX_TEXT] = '\0';
	assert_int_equal(suggest_query(kb, big, &env, 5, &r, err, sizeof(err)), 0);
	suggest_release(&r);
	/* invalid UTF-8 and control bytes are read, not choked on */
	assert_int_equal(suggest_query(kb, "missing \xff\xfe\x01 file", &env, 5, &r, err, sizeof(err)), 0);
	assert_true(r.matched);
	suggest_release(&r);
	free(big);
	kb_free(kb);
}

static void test_command(void **state)
{
	struct suggest_item it = { .spec = "sys_read \"it's\"", .pid = 12 };
	struct strbuf sb = STRBUF_INIT(512);

	assert_int_equal(suggest_command(&it, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "diagagent trace -p 12 'sys_read \"it'\\''s\"'");
	strbuf_release(&sb);
	it.pid = 0;
	it.process = "a b";
	assert_int_equal(suggest_command(&it, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "diagagent trace -n 'a b' 'sys_read \"it'\\''s\"'");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_bad_spec_names_line_and_column),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_scoring),
		cmocka_unit_test(test_ranking_spreads_targets),
		cmocka_unit_test(test_reading),
		cmocka_unit_test(test_alternatives),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_command),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
