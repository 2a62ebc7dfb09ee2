/* test_expr.c - unit tests for filter expressions: parse, print, emit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tracespec/expr.h"

static const char *const sig_params[] = { "filename", "flags", "sk" };
static const struct expr_names names6 = { sig_params, 3, 6 };

/* ---- helpers ----------------------------------------------------------------- */

/* Parse all of text (col0 0) or fail the test. */
static struct expr *parse_all(const char *text)
{
	struct spec_error err;
	struct expr *e = NULL;
	size_t used = 99;
	int rc = expr_parse(text, 0, &names6, &e, &used, &err);

	if (rc != 0) {
		print_error("parse '%s': rc %d, col %d: %s (%s)\n", text, rc, err.col, err.msg, err.hint);
		fail();
	}
	if (used != strlen(text)) {
		print_error("parse '%s': consumed %zu of %zu\n", text, used, strlen(text));
		expr_free(e);
		fail();
	}
	assert_non_null(e);
	assert_string_equal(err.msg, "");
	return e;
}

static char *print_str(const struct expr *e)
{
	struct strbuf sb = STRBUF_INIT(4096);

	assert_int_equal(expr_print(e, &sb), 0);
	return strbuf_detach(&sb, NULL);
}

static void expect_str(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		print_error("%s\n   got: %s\n  want: %s\n", what, got, want);
		fail();
	}
}

/* Two trees are equal when they have the same shape and values (columns aside). */
static bool tree_equal(const struct expr *a, const struct expr *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case EXPR_INT:
		if (a->u.ival != b->u.ival)
			return false;
		break;
	case EXPR_STR:
	case EXPR_STRCMP:
		if (a->u.str.len != b->u.str.len || memcmp(a->u.str.s, b->u.str.s, a->u.str.len) != 0)
			return false;
		break;
	case EXPR_ARG:
		if (a->u.arg.n != b->u.arg.n || a->u.arg.user != b->u.arg.user)
			return false;
		break;
	case EXPR_TPFIELD:
		if (strcmp(a->u.name, b->u.name) != 0)
			return false;
		break;
	case EXPR_BUILTIN:
		if (a->u.builtin != b->u.builtin)
			return false;
		break;
	case EXPR_PARAM:
		if (a->u.param.index != b->u.param.index || strcmp(a->u.param.name, b->u.param.name) != 0)
			return false;
		break;
	case EXPR_UNARY:
	case EXPR_BINARY:
		if (a->u.op != b->u.op)
			return false;
		break;
	case EXPR_CAST:
		if (a->u.cast.type != b->u.cast.type || a->u.cast.stars != b->u.cast.stars ||
		    (a->u.cast.name == NULL) != (b->u.cast.name == NULL) ||
		    (a->u.cast.name && strcmp(a->u.cast.name, b->u.cast.name) != 0))
			return false;
		break;
	case EXPR_MEMBER:
		if (a->u.member.arrow != b->u.member.arrow || strcmp(a->u.member.name, b->u.member.name) != 0)
			return false;
		break;
	default:
		break;
	}
	return tree_equal(a->a, b->a) && tree_equal(a->b, b->b) && tree_equal(a->c, b->c);
}

/* Parse text, print it, check the canonical text, then parse that again:
 * the same tree, and the same text once more (a fixed point). */
static void check_canonical(const char *text, const char *want)
{
	struct expr *e = parse_all(text), *e2;
	char *s = print_str(e), *s2;

	expect_str(text, s, want);
	e2 = parse_all(s);
	s2 = print_str(e2);
	expect_str(s, s2, s);
	if (!tree_equal(e, e2)) {
		print_error("'%s': reparsing '%s' gave another tree\n", text, s);
		fail();
	}
	free(s);
	free(s2);
	expr_free(e);
	expr_free(e2);
}

/* The test's leaf spelling: arg(N-1), retval, args->f, $param. */
static int test_leaf(void *ud, const struct expr *e, struct strbuf *out, struct spec_error *err)
{
	bool entry = ud && *(const bool *)ud;

	switch (e->kind) {
	case EXPR_ARG:
		return strbuf_addf(out, "arg%d%s", e->u.arg.n - 1, e->u.arg.user ? "@u" : "");
	case EXPR_RETVAL:
		if (entry) {
			specerr_set(err, e->col, "use a return probe", "retval in an entry probe");
			return -EINVAL;
		}
		return strbuf_puts(out, "retval");
	case EXPR_TPFIELD:
		return strbuf_addf(out, "args->%s", e->u.name);
	case EXPR_PARAM:
		return strbuf_addf(out, "$%s", e->u.param.name);
	default:
		specerr_set(err, e->col, NULL, "unexpected leaf");
		return -EINVAL;
	}
}

static const struct expr_emit_ctx leaf_ctx = { test_leaf, NULL, NULL, NULL };

/* ---- canonical printing ------------------------------------------------------ */

struct canon_case {
	const char *in, *out;
};

static const struct canon_case operator_cases[] = {
	/* every binary operator */
	{ "arg1*2", "arg1 * 2" },
	{ "arg1/2", "arg1 / 2" },
	{ "arg1%2", "arg1 % 2" },
	{ "arg1+2", "arg1 + 2" },
	{ "arg1-2", "arg1 - 2" },
	{ "arg1<<2", "arg1 << 2" },
	{ "arg1>>2", "arg1 >> 2" },
	{ "arg1<2", "arg1 < 2" },
	{ "arg1<=2", "arg1 <= 2" },
	{ "arg1>2", "arg1 > 2" },
	{ "arg1>=2", "arg1 >= 2" },
	{ "arg1==2", "arg1 == 2" },
	{ "arg1!=2", "arg1 != 2" },
	{ "arg1&2", "arg1 & 2" },
	{ "arg1^2", "arg1 ^ 2" },
	{ "arg1|2", "arg1 | 2" },
	{ "arg1&&2", "arg1 && 2" },
	{ "arg1||2", "arg1 || 2" },
	{ "arg3 > 1024", "arg3 > 1024" },
	/* every unary operator */
	{ "!arg1", "!arg1" },
	{ "~arg1", "~arg1" },
	{ "-arg1", "-arg1" },
	{ "+arg1", "+arg1" },
	{ "*arg1", "*arg1" },
	{ "- -arg1", "- -arg1" },
	{ "-(-arg1)", "- -arg1" },
	{ "+ +arg1", "+ +arg1" },
	{ "-+arg1", "-+arg1" },
	{ "!!arg1", "!!arg1" },
	{ "!~-*arg1", "!~-*arg1" },
	{ "-2", "-2" },
	{ "-(1 + 2)", "-(1 + 2)" },
	{ "(-1) + 2", "-1 + 2" },
	{ "-arg1->x", "-arg1->x" },
	{ "(-arg1)->x", "(-arg1)->x" },
	/* each level against the next: parentheses only where needed */
	{ "1 + 2 * 3", "1 + 2 * 3" },
	{ "(1 + 2) * 3", "(1 + 2) * 3" },
	{ "1 * (2 + 3)", "1 * (2 + 3)" },
	{ "(1 * 2) + 3", "1 * 2 + 3" },
	{ "1 - 2 - 3", "1 - 2 - 3" },
	{ "(1 - 2) - 3", "1 - 2 - 3" },
	{ "1 - (2 - 3)", "1 - (2 - 3)" },
	{ "1 - (2 + 3)", "1 - (2 + 3)" },
	{ "1 / 2 * 3 % 4", "1 / 2 * 3 % 4" },
	{ "1 / (2 * 3)", "1 / (2 * 3)" },
	{ "1 << 2 + 3", "1 << 2 + 3" },
	{ "(1 << 2) + 3", "(1 << 2) + 3" },
	{ "1 << 2 >> 3", "1 << 2 >> 3" },
	{ "1 << (2 >> 3)", "1 << (2 >> 3)" },
	{ "1 < 2 << 3", "1 < 2 << 3" },
	{ "(1 < 2) << 3", "(1 < 2) << 3" },
	{ "1 < 2 == 3 > 4", "1 < 2 == 3 > 4" },
	{ "1 == (2 < 3)", "1 == 2 < 3" },
	{ "(1 == 2) < 3", "(1 == 2) < 3" },
	{ "1 == 2 != 3", "1 == 2 != 3" },
	{ "1 == (2 != 3)", "1 == (2 != 3)" },
	{ "arg1 & 1 == 0", "arg1 & 1 == 0" },
	{ "(arg1 & 1) == 0", "(arg1 & 1) == 0" },
	{ "1 | 2 ^ 3 & 4", "1 | 2 ^ 3 & 4" },
	{ "(1 | 2) ^ 3", "(1 | 2) ^ 3" },
	{ "(1 ^ 2) & 3", "(1 ^ 2) & 3" },
	{ "1 & (2 & 3)", "1 & (2 & 3)" },
	{ "1 || 2 && 3", "1 || 2 && 3" },
	{ "(1 || 2) && 3", "(1 || 2) && 3" },
	{ "1 && 2 | 3", "1 && 2 | 3" },
	{ "(1 && 2) | 3", "(1 && 2) | 3" },
	{ "arg1 > 1 && arg2 < 3 || arg3 == 4", "arg1 > 1 && arg2 < 3 || arg3 == 4" },
	/* conditional */
	{ "arg1?2:3", "arg1 ? 2 : 3" },
	{ "arg1 ? 2 : arg2 ? 3 : 4", "arg1 ? 2 : arg2 ? 3 : 4" },
	{ "arg1 ? 2 : (arg2 ? 3 : 4)", "arg1 ? 2 : arg2 ? 3 : 4" },
	{ "(arg1 ? 2 : 3) ? 4 : 5", "(arg1 ? 2 : 3) ? 4 : 5" },
	{ "arg1 ? arg2 ? 1 : 2 : 3", "arg1 ? arg2 ? 1 : 2 : 3" },
	{ "1 + (arg1 ? 2 : 3)", "1 + (arg1 ? 2 : 3)" },
	{ "arg1 || arg2 ? 1 : 2", "arg1 || arg2 ? 1 : 2" },
	{ "arg1 ? 1 || 2 : 3", "arg1 ? 1 || 2 : 3" },
	{ "!(arg1 ? 1 : 2)", "!(arg1 ? 1 : 2)" },
	/* postfix */
	{ "arg1[2]", "arg1[2]" },
	{ "arg1[arg2 + 1][0]", "arg1[arg2 + 1][0]" },
	{ "(arg1 + 1)[2]", "(arg1 + 1)[2]" },
	{ "$task->mm.owner", "$task->mm.owner" },
	{ "*$task->files", "*$task->files" },
	{ "(*$task)->files", "(*$task)->files" },
	/* whitespace */
	{ "  arg1  ==\t1  ", "arg1 == 1" },
	{ "arg1\n&&\narg2", "arg1 && arg2" },
};

static const struct canon_case cast_cases[] = {
	{ "(int)arg1", "(int)arg1" },
	{ "(signed)arg1", "(int)arg1" },
	{ "(signed int)arg1", "(int)arg1" },
	{ "(unsigned)arg1", "(unsigned int)arg1" },
	{ "(unsigned int)arg1", "(unsigned int)arg1" },
	{ "(long)arg1", "(long)arg1" },
	{ "(long int)arg1", "(long)arg1" },
	{ "(long long)arg1", "(long)arg1" },
	{ "(signed long long int)arg1", "(long)arg1" },
	{ "(unsigned long)arg1", "(unsigned long)arg1" },
	{ "(unsigned long long)arg1", "(unsigned long)arg1" },
	{ "(long unsigned int)arg1", "(unsigned long)arg1" },
	{ "(short)arg1", "(short)arg1" },
	{ "(short int)arg1", "(short)arg1" },
	{ "(unsigned short)arg1", "(unsigned short)arg1" },
	{ "(char)arg1", "(char)arg1" },
	{ "(signed char)arg1", "(char)arg1" },
	{ "(unsigned char)arg1", "(unsigned char)arg1" },
	{ "(const int)arg1", "(int)arg1" },
	{ "(const unsigned long)arg1", "(unsigned long)arg1" },
	{ "(int8)arg1", "(char)arg1" },
	{ "(uint8)arg1", "(unsigned char)arg1" },
	{ "(int16)arg1", "(short)arg1" },
	{ "(uint16)arg1", "(unsigned short)arg1" },
	{ "(int32)arg1", "(int)arg1" },
	{ "(uint32)arg1", "(unsigned int)arg1" },
	{ "(int64)arg1", "(long)arg1" },
	{ "(uint64)arg1", "(unsigned long)arg1" },
	{ "(u8)arg1", "(unsigned char)arg1" },
	{ "(u16)arg1", "(unsigned short)arg1" },
	{ "(u32)arg1", "(unsigned int)arg1" },
	{ "(u64)arg1", "(unsigned long)arg1" },
	{ "(s8)arg1", "(char)arg1" },
	{ "(s16)arg1", "(short)arg1" },
	{ "(s32)arg1", "(int)arg1" },
	{ "(s64)arg1", "(long)arg1" },
	{ "(bool)arg1", "(unsigned char)arg1" },
	{ "(size_t)arg1", "(unsigned long)arg1" },
	{ "(ssize_t)arg1", "(long)arg1" },
	{ "(pid_t)arg1", "(int)arg1" },
	{ "(uid_t)arg1", "(unsigned int)arg1" },
	{ "(gid_t)arg1", "(unsigned int)arg1" },
	{ "(off_t)arg1", "(long)arg1" },
	{ "(loff_t)arg1", "(long)arg1" },
	{ "(umode_t)arg1", "(unsigned short)arg1" },
	{ "(char *)arg1", "(unsigned long)arg1" },
	{ "(const char *)arg2", "(unsigned long)arg2" },
	{ "(u32 **)arg2", "(unsigned long)arg2" },
	{ "(struct sock *)arg1", "(struct sock *)arg1" },
	{ "( struct  sock*)arg1", "(struct sock *)arg1" },
	{ "(const struct sock *)arg1", "(struct sock *)arg1" },
	{ "(struct sock **)arg1", "(struct sock **)arg1" },
	{ "((struct sock *)arg1)->sk_state", "((struct sock *)arg1)->sk_state" },
	{ "((struct sock *)arg1)->__sk_common.skc_family", "((struct sock *)arg1)->__sk_common.skc_family" },
	{ "(int)(arg1 + 1)", "(int)(arg1 + 1)" },
	{ "(int)-1", "(int)-1" },
	{ "-(int)arg1", "-(int)arg1" },
	{ "(int)(long)arg1", "(int)(long)arg1" },
	{ "(int)retval == -2", "(int)retval == -2" },
	{ "(int)arg1->x", "(int)arg1->x" },
	{ "((int)arg1)->x", "((int)arg1)->x" },
	{ "(int)arg1 * 2", "(int)arg1 * 2" },
	{ "(int)(arg1 * 2)", "(int)(arg1 * 2)" },
	{ "(arg1)", "arg1" },
	{ "((arg1))", "arg1" },
};

static const struct canon_case literal_cases[] = {
	{ "0", "0" },
	{ "42", "42" },
	{ "0x10", "16" },
	{ "0X1f", "31" },
	{ "010", "8" },
	{ "00", "0" },
	{ "0x0", "0" },
	{ "10u", "10" },
	{ "10U", "10" },
	{ "10l", "10" },
	{ "10UL", "10" },
	{ "10ull", "10" },
	{ "10LLU", "10" },
	{ "0x10ul", "16" },
	{ "017u", "15" },
	{ "18446744073709551615", "18446744073709551615" },
	{ "0xffffffffffffffff", "18446744073709551615" },
	{ "01777777777777777777777", "18446744073709551615" },
	{ "'a'", "97" },
	{ "'\\n'", "10" },
	{ "'\\t'", "9" },
	{ "'\\x41'", "65" },
	{ "'\\0'", "0" },
	{ "'\\''", "39" },
	{ "'\"'", "34" },
	{ "'\\\\'", "92" },
	{ "'\\377'", "255" },
	{ "comm == \"bash\"", "comm == \"bash\"" },
	{ "comm == \"\"", "comm == \"\"" },
	{ "comm == \"a\\\"b\\\\c\\nd\\te\\x01\\xff\"", "comm == \"a\\\"b\\\\c\\nd\\te\\001\\377\"" },
	{ "comm == \"\\101\\x42C\"", "comm == \"ABC\"" },
	{ "comm == \"\\r\\a\\'?\\?\"", "comm == \"\\015\\007'??\"" },
	{ "comm == \"\\1234\"", "comm == \"S4\"" },
	{ "comm == \"caf\xc3\xa9\"", "comm == \"caf\\303\\251\"" },
	{ "\"bash\" == comm", "\"bash\" == comm" },
	{ "arg1 != \"x\"", "arg1 != \"x\"" },
	{ "\"fmt %d\"", "\"fmt %d\"" },
};

static const struct canon_case name_cases[] = {
	{ "arg1", "arg1" },
	{ "arg6", "arg6" },
	{ "arg1@user", "arg1@user" },
	{ "arg2@user == 0", "arg2@user == 0" },
	{ "retval", "retval" },
	{ "args->filename", "args->filename" },
	{ "args -> count", "args->count" },
	{ "args->x->y", "args->x->y" },
	{ "$pid", "$pid" },
	{ "$tgid", "$tgid" },
	{ "$uid", "$uid" },
	{ "$gid", "$gid" },
	{ "$cpu", "$cpu" },
	{ "$task", "$task" },
	{ "pid", "$tgid" },
	{ "tid", "$pid" },
	{ "uid", "$uid" },
	{ "gid", "$gid" },
	{ "comm", "comm" },
	{ "cpu", "$cpu" },
	{ "cgroup", "cgroup" },
	{ "$task->comm", "$task->comm" },
	{ "$task->real_parent->pid", "$task->real_parent->pid" },
	{ "filename", "filename" },
	{ "flags & 1", "flags & 1" },
	{ "sk->sk_state", "sk->sk_state" },
	{ "STRCMP(\"/etc\", arg2)", "STRCMP(\"/etc\", arg2)" },
	{ "STRCMP ( \"/etc\" , filename )", "STRCMP(\"/etc\", filename)" },
	{ "STRCMP(\"ba\", comm)", "STRCMP(\"ba\", comm)" },
	{ "STRCMP(\"\\n\", arg1 + 8)", "STRCMP(\"\\n\", arg1 + 8)" },
	{ "!STRCMP(\"x\", arg1) && $pid == 1", "!STRCMP(\"x\", arg1) && $pid == 1" },
};

static void run_canon(const struct canon_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_canonical(cases[i].in, cases[i].out);
}

#define RUN_CANON(t) run_canon(t, sizeof(t) / sizeof(t[0]))

static void test_print_operators(void **state)
{
	RUN_CANON(operator_cases);
}

static void test_print_casts(void **state)
{
	RUN_CANON(cast_cases);
}

static void test_print_literals(void **state)
{
	RUN_CANON(literal_cases);
}

static void test_print_names(void **state)
{
	RUN_CANON(name_cases);
}

/* ---- tree shape -------------------------------------------------------------- */

static void test_tree_shape(void **state)
{
	struct spec_error err;
	struct expr *e = NULL;
	size_t used;

	/* precedence: 1 + 2 * 3 is 1 + (2 * 3) */
	e = parse_all("1 + 2 * 3");
	assert_int_equal(e->kind, EXPR_BINARY);
	assert_int_equal(e->u.op, OP_ADD);
	assert_int_equal(e->b->kind, EXPR_BINARY);
	assert_int_equal(e->b->u.op, OP_MUL);
	expr_free(e);

	/* left associative */
	e = parse_all("1 - 2 - 3");
	assert_int_equal(e->a->kind, EXPR_BINARY);
	assert_int_equal(e->b->kind, EXPR_INT);
	assert_int_equal(e->b->u.ival, 3);
	expr_free(e);

	/* columns: col0 + byte offset */
	assert_int_equal(expr_parse("  arg1 > retval", 5, &names6, &e, &used, &err), 0);
	assert_int_equal(e->col, 7);
	assert_int_equal(e->a->col, 7);
	assert_int_equal(e->b->col, 14);
	assert_int_equal(e->b->kind, EXPR_RETVAL);
	expr_free(e);

	e = parse_all("arg2@user");
	assert_int_equal(e->kind, EXPR_ARG);
	assert_int_equal(e->u.arg.n, 2);
	assert_true(e->u.arg.user);
	expr_free(e);

	e = parse_all("args->count");
	assert_int_equal(e->kind, EXPR_TPFIELD);
	assert_string_equal(e->u.name, "count");
	expr_free(e);

	e = parse_all("(const struct sock **)sk");
	assert_int_equal(e->kind, EXPR_CAST);
	assert_int_equal(e->u.cast.type, ET_STRUCT_PTR);
	assert_string_equal(e->u.cast.name, "sock");
	assert_int_equal(e->u.cast.stars, 2);
	assert_int_equal(e->a->kind, EXPR_PARAM);
	assert_int_equal(e->a->u.param.index, 2);
	assert_string_equal(e->a->u.param.name, "sk");
	expr_free(e);

	e = parse_all("(char *)arg1");
	assert_int_equal(e->u.cast.type, ET_UINT64);
	assert_null(e->u.cast.name);
	expr_free(e);

	e = parse_all("$task->real_parent.pid");
	assert_int_equal(e->kind, EXPR_MEMBER);
	assert_false(e->u.member.arrow);
	assert_string_equal(e->u.member.name, "pid");
	assert_int_equal(e->a->kind, EXPR_MEMBER);
	assert_true(e->a->u.member.arrow);
	assert_int_equal(e->a->a->kind, EXPR_BUILTIN);
	assert_int_equal(e->a->a->u.builtin, EB_TASK);
	expr_free(e);

	/* $pid is the thread, $tgid the process; bare pid is the process */
	e = parse_all("$pid + $tgid + pid + tid");
	assert_int_equal(e->b->u.builtin, EB_TID);
	assert_int_equal(e->a->b->u.builtin, EB_PID);
	assert_int_equal(e->a->a->b->u.builtin, EB_PID);
	assert_int_equal(e->a->a->a->u.builtin, EB_TID);
	expr_free(e);

	e = parse_all("STRCMP(\"a\\tb\", arg1)");
	assert_int_equal(e->kind, EXPR_STRCMP);
	assert_int_equal(e->u.str.len, 3);
	assert_memory_equal(e->u.str.s, "a\tb", 4);
	assert_int_equal(e->a->kind, EXPR_ARG);
	expr_free(e);

	e = parse_all("comm == \"\\xff\\001\"");
	assert_int_equal(e->b->kind, EXPR_STR);
	assert_int_equal(e->b->u.str.len, 2);
	assert_memory_equal(e->b->u.str.s, "\xff\x01", 3);
	expr_free(e);
}

/* A parameter shadows a bare builtin name, never a $-name or argN. */
static void test_param_shadowing(void **state)
{
	static const char *const pnames[] = { "pid", "comm" };
	struct expr_names nm = { pnames, 2, 6 };
	struct spec_error err;
	struct expr *e = NULL;
	size_t used;

	assert_int_equal(expr_parse("pid == $pid", 0, &nm, &e, &used, &err), 0);
	assert_int_equal(e->a->kind, EXPR_PARAM);
	assert_int_equal(e->a->u.param.index, 0);
	assert_int_equal(e->b->kind, EXPR_BUILTIN);
	expr_free(e);
	/* a char * parameter called comm is not a string by itself */
	assert_int_equal(expr_parse("comm == \"x\"", 0, &nm, &e, &used, &err), 0);
	assert_int_equal(e->a->kind, EXPR_PARAM);
	assert_false(expr_is_string(e->a));
	expr_free(e);
	/* without names: no arguments, no parameters */
	assert_int_equal(expr_parse("filename", 0, NULL, &e, &used, &err), -EINVAL);
	assert_null(e);
	assert_int_equal(expr_parse("arg1", 0, NULL, &e, &used, &err), -EINVAL);
	assert_non_null(strstr(err.hint, "no arguments"));
	assert_int_equal(expr_parse("comm", 0, NULL, &e, &used, &err), 0);
	expr_free(e);
}

/* ---- where parsing stops ----------------------------------------------------- */

struct stop_case {
	const char *in;
	size_t used;
};

static const struct stop_case stop_cases[] = {
	{ "arg1", 4 },
	{ "arg1 ", 5 },
	{ "arg1, arg2", 4 },
	{ "arg1 , arg2", 5 },
	{ "arg1 > 0) rest", 8 },
	{ "arg1 > 0 ) rest", 9 },
	{ "(arg1 > 0)) x", 10 },
	{ "arg1 ? 1 : 2, x", 12 },
	{ "STRCMP(\"a,)\", arg1), 3", 19 },
	{ "arg1 foo", 5 },
	{ "\"fmt %d\", arg1", 8 },
	{ "comm == \"x\")", 11 },
	{ "arg1 > 0) { system(\"x\") } (1", 8 },
	{ "arg1 \"x\"", 5 },
	{ "arg1 1", 5 },
};

static void test_stops(void **state)
{
	for (size_t i = 0; i < sizeof(stop_cases) / sizeof(stop_cases[0]); i++) {
		const struct stop_case *c = &stop_cases[i];
		struct spec_error err;
		struct expr *e = NULL;
		size_t used = 12345;
		int rc = expr_parse(c->in, 0, &names6, &e, &used, &err);

		if (rc != 0 || used != c->used) {
			print_error("'%s': rc %d used %zu, want 0 and %zu (%s)\n", c->in, rc, used, c->used, err.msg);
			expr_free(e);
			fail();
		}
		expr_free(e);
	}
}

/* ---- errors ------------------------------------------------------------------ */

struct err_case {
	const char *in;
	int col;	  /* with col0 = 0 */
	const char *msg;  /* a substring of the message */
	const char *hint; /* a substring of the hint, or NULL */
};

#define LONG63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"

static const struct err_case err_cases[] = {
	/* nothing there */
	{ "", 0, "empty expression", NULL },
	{ "   ", 3, "empty expression", NULL },
	{ ")", 0, "empty expression near ')'", NULL },
	{ ", arg1", 0, "empty expression", NULL },
	/* unknown names */
	{ "foo", 0, "unknown name 'foo'", "known names: arg1..arg6, retval, args->FIELD" },
	{ "arg1 == system", 8, "unknown name 'system'", NULL },
	{ "system(\"x\")", 0, "unknown name 'system'", "function calls are not allowed" },
	{ "$foo", 0, "unknown name '$foo'", "$pid, $tgid" },
	{ "$", 0, "unknown name '$'", NULL },
	{ "$1", 0, "unknown name '$1'", NULL },
	{ "RETVAL", 0, "unknown name 'RETVAL'", NULL },
	{ "Comm == \"x\"", 0, "unknown name 'Comm'", NULL },
	{ "strcmp(\"x\", arg1)", 0, "unknown name 'strcmp'", "function calls" },
	{ "arg", 0, "unknown name 'arg'", NULL },
	{ "int", 0, "unknown name 'int'", "cast" },
	{ "arg0", 0, "no argument 'arg0'", "1-based" },
	{ "arg00", 0, "no argument 'arg00'", "1-based" },
	{ "arg7", 0, "no argument 'arg7'", "arg1..arg6" },
	{ "arg01", 0, "no argument 'arg01'", NULL },
	{ "arg99999999999999999999", 0, "no argument", NULL },
	{ "args", 0, "'args' needs a field", "use args->FIELD" },
	{ "args.count", 0, "'args' needs a field", "use args->FIELD" },
	{ "args->", 6, "expected a field name after 'args->' at the end of the text", NULL },
	{ "args->1", 6, "expected a field name after 'args->' near '1'", NULL },
	{ "args->$pid", 6, "expected a field name", NULL },
	{ "$task->" LONG63 "x", 7, "longer than 63", NULL },
	{ "$task->", 7, "expected a member name", NULL },
	{ "1->x", 1, "a number has no members", NULL },
	{ "retval@user", 6, "'@' is not allowed", "argN@user" },
	/* characters and operators that have no place in an expression */
	{ "arg1 ; exit()", 5, "';' is not allowed", "no statements" },
	{ "comm == \"a\" ; exit()", 12, "';' is not allowed", NULL },
	{ "arg1 { x }", 5, "'{' is not allowed", NULL },
	{ "arg1 }", 5, "'}' is not allowed", NULL },
	{ "arg1 } END { system(\"rm\") } BEGIN { (1", 5, "'}' is not allowed", NULL },
	{ "arg1 # c", 5, "'#' is not allowed", NULL },
	{ "`id`", 0, "'`' is not allowed", NULL },
	{ "@x", 0, "'@' is not allowed", "maps" },
	{ "arg1 == @map[1]", 8, "'@' is not allowed", NULL },
	{ "arg1 = 1", 5, "assignment '=' is not allowed", "use '=='" },
	{ "arg1=1", 4, "assignment '='", "use '=='" },
	{ "arg1 += 1", 5, "assignment '+=' is not allowed", NULL },
	{ "arg1 <<= 1", 5, "assignment '<<='", NULL },
	{ "arg1 |= 1", 5, "assignment '|='", NULL },
	{ "arg1++", 4, "'++' is not allowed", NULL },
	{ "--arg1", 0, "'--' is not allowed", NULL },
	{ "arg1 /* c */", 5, "comments are not allowed", NULL },
	{ "arg1 // c", 5, "comments are not allowed", NULL },
	{ "arg1 \\ 2", 5, "unexpected character '\\'", NULL },
	{ "arg1 \x01", 5, "unexpected byte '\\x01'", NULL },
	{ "arg1 \xff", 5, "unexpected byte '\\xff'", NULL },
	/* literals */
	{ "comm == \"abc", 8, "unterminated string literal", "close it" },
	{ "comm == \"abc\\", 12, "unfinished escape", NULL },
	{ "comm == 'a", 8, "unterminated character literal", NULL },
	{ "arg1 == 'ab'", 8, "unterminated character literal", "one character" },
	{ "''", 0, "empty character literal", NULL },
	{ "comm == \"a\\0b\"", 10, "cannot contain a NUL byte", NULL },
	{ "comm == \"a\\x00\"", 10, "NUL byte", NULL },
	{ "comm == \"a\\000\"", 10, "NUL byte", NULL },
	{ "comm == \"\\q\"", 9, "unknown escape '\\q'", NULL },
	{ "comm == \"\\x\"", 9, "escape '\\x' needs hex digits", NULL },
	{ "comm == \"\\777\"", 9, "out of range", NULL },
	{ "18446744073709551616", 0, "integer literal '18446744073709551616' is too large", NULL },
	{ "0x10000000000000000", 0, "too large", NULL },
	{ "99999999999999999999999", 0, "too large", NULL },
	{ "08", 1, "invalid digit '8' in octal literal", NULL },
	{ "0x", 0, "invalid integer literal '0x'", NULL },
	{ "0xg", 0, "invalid integer literal '0xg'", NULL },
	{ "12abc", 0, "invalid integer literal '12abc'", NULL },
	{ "10uu", 0, "invalid integer literal", NULL },
	{ "10lul", 0, "invalid integer literal", NULL },
	{ "10lL", 0, "invalid integer literal", NULL },
	{ "10lll", 0, "invalid integer literal", NULL },
	{ "1.5", 0, "floating-point", NULL },
	/* syntax */
	{ "arg1 >", 6, "expected an expression at the end of the text", NULL },
	{ "arg1 > )", 7, "expected an expression near ')'", NULL },
	{ "arg1 > > 2", 7, "expected an expression near '>'", NULL },
	{ "arg1 && || 2", 8, "expected an expression near '||'", NULL },
	{ "(arg1 > 0", 9, "expected ')' at the end of the text", "'(' at column 7 is not closed" },
	{ "(arg1, 2)", 5, "expected ')' near ','", NULL },
	{ "arg1[1, 2]", 6, "expected ']' near ','", NULL },
	{ "arg1 ? 1", 8, "expected ':'", NULL },
	{ "arg1 ? 1 , 2", 9, "expected ':' in 'a ? b : c' near ','", NULL },
	{ "arg1.", 5, "expected a member name", NULL },
	{ "(int)", 5, "expected an expression", NULL },
	{ "()", 1, "expected an expression near ')'", NULL },
	/* STRCMP */
	{ "STRCMP(arg1, \"x\")", 7, "STRCMP's first argument must be a string literal", "STRCMP(\"text\", EXPR)" },
	{ "STRCMP \"x\"", 7, "expected '(' after STRCMP", NULL },
	{ "STRCMP", 6, "expected '(' after STRCMP", NULL },
	{ "STRCMP(\"x\" arg1)", 11, "expected ',' in STRCMP", NULL },
	{ "STRCMP(\"x\", arg1", 16, "expected ')' to close STRCMP", NULL },
	{ "STRCMP(\"x\", \"y\")", 12, "second argument cannot be a string literal", NULL },
	{ "STRCMP(\"x\", arg1, 2)", 16, "expected ')' to close STRCMP near ','", NULL },
	/* strings where numbers belong */
	{ "arg1 + \"x\"", 7, "a string literal can only be compared with == or != or given to STRCMP", NULL },
	{ "\"x\" + arg1", 0, "a string literal can only be compared", NULL },
	{ "\"x\" == \"y\"", 0, "cannot compare two string literals", NULL },
	{ "\"x\" < arg1", 0, "a string literal can only be compared", NULL },
	{ "\"x\" ? 1 : 2", 0, "a string literal", NULL },
	{ "arg1 ? \"x\" : \"y\"", 7, "a string literal", NULL },
	{ "-\"x\"", 1, "a string literal", NULL },
	{ "(int)\"x\"", 5, "a string literal", NULL },
	{ "\"x\"[0]", 0, "a string literal", NULL },
	{ "\"x\"->y", 0, "a string literal", NULL },
	{ "comm + 1", 0, "string 'comm' used as a number", "compare it" },
	{ "!comm", 1, "string 'comm' used as a number", NULL },
	{ "$task->comm > 1", 0, "string 'comm' used as a number", NULL },
	{ "comm == 1", 5, "cannot compare a string with a number", NULL },
	{ "arg1 != comm", 5, "cannot compare a string with a number", NULL },
	{ "comm && arg1", 0, "string 'comm'", NULL },
	{ "comm[0]", 0, "string 'comm'", NULL },
	/* casts */
	{ "(struct sock)arg1", 1, "a cast to a struct must be to a pointer", "write (struct sock *)" },
	{ "(struct)arg1", 7, "expected a struct name", NULL },
	{ "(struct 1x *)arg1", 8, "invalid integer literal", NULL },
	{ "(struct " LONG63 "z *)arg1", 8, "longer than 63", NULL },
	{ "(unsigned float)arg1", 10, "expected ')' after the type near 'float'", NULL },
	{ "(long short)arg1", 1, "invalid type in cast", NULL },
	{ "(unsigned signed)arg1", 1, "invalid type in cast", NULL },
	{ "(long long long)arg1", 1, "invalid type in cast", NULL },
	{ "(char int)arg1", 1, "invalid type in cast", NULL },
	{ "(const)arg1", 6, "expected a type near ')'", NULL },
	{ "(int", 4, "expected ')' after the type", NULL },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct spec_error err;
		struct expr *e = (struct expr *)&err; /* must be reset to NULL */
		size_t used = 777;
		int rc = expr_parse(c->in, 7, &names6, &e, &used, &err);
		bool ok = rc == -EINVAL && err.col == c->col + 7 && strstr(err.msg, c->msg) &&
			  (!c->hint || strstr(err.hint, c->hint)) && e == NULL && used == 0;

		if (!ok) {
			print_error("'%s': rc %d col %d (want %d)\n   msg: %s\n  hint: %s\n  want: %s / %s\n", c->in,
				    rc, err.col, c->col + 7, err.msg, err.hint, c->msg, c->hint ? c->hint : "-");
			if (rc == 0)
				expr_free(e);
			fail();
		}
	}
}

static void test_string_limits(void **state)
{
	char text[320], buf[256];
	struct spec_error err;
	struct expr *e = NULL;
	size_t used;

	/* 255 bytes fit */
	memset(buf, 'a', 255);
	buf[255] = '\0';
	snprintf(text, sizeof(text), "comm == \"%s\"", buf);
	e = parse_all(text);
	assert_int_equal(e->b->u.str.len, 255);
	expr_free(e);
	/* 256 do not; escapes count as the byte they stand for */
	snprintf(text, sizeof(text), "comm == \"%s\\n\"", buf);
	assert_int_equal(expr_parse(text, 0, &names6, &e, &used, &err), -EINVAL);
	assert_int_equal(err.col, 8);
	assert_non_null(strstr(err.msg, "longer than 255 bytes"));
	assert_null(e);
}

/* Code smuggled into a filter is refused, or stops short of the end, which
 * the caller rejects as trailing text. */
static void test_injection(void **state)
{
	static const char *const attempts[] = {
		"arg1 > 0) { system(\"x\") } (1",
		"comm == \"a\" ; exit()",
		"arg1 /* c */",
		"arg1 // c",
		"arg1 } END { system(\"id\") } BEGIN { (1",
		"arg1 > 0 @x = 1",
		"arg1 > 0\n}\nBEGIN { system(\"id\") }",
		"arg1 ? 1 : 2 ; system(\"x\")",
		"comm == \"x\" && $(id)",
		"arg1 `id`",
		"arg1 #include <x>",
		"printf(\"x\")",
		"arg1 > 0) || (1",
	};

	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		struct spec_error err;
		struct expr *e = NULL;
		size_t used = 0;
		int rc = expr_parse(attempts[i], 0, &names6, &e, &used, &err);

		if (rc == 0 && used == strlen(attempts[i])) {
			print_error("'%s' parsed in full\n", attempts[i]);
			expr_free(e);
			fail();
		}
		expr_free(e);
	}
}

/* Text that looks like code inside a string stays inside the emitted string. */
static void test_injection_in_strings(void **state)
{
	static const struct canon_case cases[] = {
		{ "comm == \"a\\\" ; system(\\\"x\\\")\"", "(comm == \"a\\\" ; system(\\\"x\\\")\")" },
		{ "comm == \"x\\n} BEGIN { system(\\\"id\\\") }\"",
		  "(comm == \"x\\n} BEGIN { system(\\\"id\\\") }\")" },
		{ "comm == \"\\\\\"", "(comm == \"\\\\\")" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT(4096);
		struct spec_error err;
		struct expr *e = parse_all(cases[i].in);

		specerr_clear(&err);
		assert_int_equal(expr_emit(e, &leaf_ctx, &sb, &err), 0);
		expect_str(cases[i].in, strbuf_str(&sb), cases[i].out);
		strbuf_release(&sb);
		expr_free(e);
	}
}

/* ---- depth ------------------------------------------------------------------- */

/* prefix * n + middle + suffix * n */
static char *nest(const char *prefix, const char *middle, const char *suffix, int n)
{
	size_t lp = strlen(prefix), ls = strlen(suffix), lm = strlen(middle);
	char *s = malloc(n * (lp + ls) + lm + 1), *p = s;

	assert_non_null(s);
	for (int i = 0; i < n; i++, p += lp)
		memcpy(p, prefix, lp);
	memcpy(p, middle, lm);
	p += lm;
	for (int i = 0; i < n; i++, p += ls)
		memcpy(p, suffix, ls);
	*p = '\0';
	return s;
}

static void check_depth(const char *prefix, const char *middle, const char *suffix)
{
	struct spec_error err;
	struct expr *e = NULL;
	size_t used;
	char *ok = nest(prefix, middle, suffix, 64);
	char *deep = nest(prefix, middle, suffix, 65);
	char *huge = nest(prefix, middle, suffix, 20000);
	char *s;

	e = parse_all(ok);
	/* a deep tree still prints and reparses to itself */
	s = print_str(e);
	expr_free(e);
	e = parse_all(s);
	free(s);
	expr_free(e);
	e = NULL;
	assert_int_equal(expr_parse(deep, 0, &names6, &e, &used, &err), -EINVAL);
	assert_string_equal(err.msg, "expression nested too deeply");
	assert_null(e);
	assert_int_equal(expr_parse(huge, 0, &names6, &e, &used, &err), -EINVAL);
	assert_string_equal(err.msg, "expression nested too deeply");
	free(ok);
	free(deep);
	free(huge);
}

static void test_depth(void **state)
{
	check_depth("(", "arg1", ")");
	check_depth("!", "arg1", "");
	check_depth("~", "arg1", "");
	check_depth("(int)", "arg1", "");
	check_depth("", "arg1", " + 1");
	check_depth("", "arg1", " && 1");
	check_depth("1 ? 2 : ", "3", "");
	check_depth("arg1[", "0", "]");
	check_depth("STRCMP(\"x\", ", "arg1", ")");
	check_depth("", "$task", "->real_parent");
	check_depth("- ", "arg1", "");
}

static void test_depth_column(void **state)
{
	struct spec_error err;
	struct expr *e = NULL;
	size_t used;
	char *deep = nest("(", "arg1", ")", 65);

	assert_int_equal(expr_parse(deep, 3, &names6, &e, &used, &err), -EINVAL);
	assert_int_equal(err.col, 3 + 64);
	free(deep);
}

/* ---- emission ---------------------------------------------------------------- */

static const struct canon_case emit_cases[] = {
	{ "comm == \"bash\"", "(comm == \"bash\")" },
	{ "args->filename == \"/etc/passwd\"", "(str(args->filename) == \"/etc/passwd\")" },
	{ "STRCMP(\"/etc\", arg2)", "(strncmp(str(arg1), \"/etc\", 4) == 0)" },
	{ "STRCMP(\"ba\", comm)", "(strncmp(comm, \"ba\", 2) == 0)" },
	{ "STRCMP(\"a\\\"b\", filename)", "(strncmp(str($filename), \"a\\\"b\", 3) == 0)" },
	{ "(int)retval == -2", "((int32)retval == -2)" },
	{ "!arg1", "!arg0" },
	{ "!(arg1 > 2)", "!(arg0 > 2)" },
	{ "arg3 > 1024", "(arg2 > 1024)" },
	{ "arg1 > 1 && arg2 < 3 || arg3 == 4", "(((arg0 > 1) && (arg1 < 3)) || (arg2 == 4))" },
	{ "arg1 * 2 / 3 % 4 - 5 + 6", "(((((arg0 * 2) / 3) % 4) - 5) + 6)" },
	{ "arg1 << 1 >> 2", "((arg0 << 1) >> 2)" },
	{ "arg1 <= 1 != arg2 >= 2", "((arg0 <= 1) != (arg1 >= 2))" },
	{ "arg1 & 1 ^ 2 | 4", "(((arg0 & 1) ^ 2) | 4)" },
	{ "arg1 ? arg2 : 3", "(arg0 ? arg1 : 3)" },
	{ "arg1 ? 1 : arg2 ? 2 : 3", "(arg0 ? 1 : (arg1 ? 2 : 3))" },
	{ "- -arg1", "-(-arg0)" },
	{ "-2", "-2" },
	{ "-(1 + arg1)", "-(1 + arg0)" },
	{ "+arg1", "arg0" },
	{ "~arg1 & 0xff", "(~arg0 & 255)" },
	{ "*arg1", "*arg0" },
	{ "!!arg1", "!(!arg0)" },
	{ "(int)arg1", "(int32)arg0" },
	{ "(unsigned)arg1", "(uint32)arg0" },
	{ "(long)arg1", "(int64)arg0" },
	{ "(unsigned long)arg1", "(uint64)arg0" },
	{ "(short)arg1", "(int16)arg0" },
	{ "(unsigned short)arg1", "(uint16)arg0" },
	{ "(char)arg1", "(int8)arg0" },
	{ "(unsigned char)arg1", "(uint8)arg0" },
	{ "(u32)arg1", "(uint32)arg0" },
	{ "(s64)arg1", "(int64)arg0" },
	{ "(int)-arg1", "(int32)(-arg0)" },
	{ "(int)(long)arg1", "(int32)((int64)arg0)" },
	{ "(int)(arg1 + 1)", "(int32)(arg0 + 1)" },
	{ "-(int)arg1", "-((int32)arg0)" },
	{ "(struct sock *)arg1", "(struct sock *)arg0" },
	{ "((struct sock *)arg1)->sk_state == 1", "(((struct sock *)arg0)->sk_state == 1)" },
	{ "((struct sock **)sk)->x", "((struct sock **)$sk)->x" },
	{ "$task->comm == \"bash\"", "(curtask->comm == \"bash\")" },
	{ "$task->real_parent->pid", "curtask->real_parent->pid" },
	{ "$task->mm.owner", "curtask->mm.owner" },
	{ "$pid == 1 && $tgid != 2", "((tid == 1) && (pid != 2))" },
	{ "pid + tid + uid + gid + cpu + cgroup", "(((((pid + tid) + uid) + gid) + cpu) + cgroup)" },
	{ "$uid + $gid + $cpu", "((uid + gid) + cpu)" },
	{ "$task", "curtask" },
	{ "comm", "comm" },
	{ "filename == \"x\"", "(str($filename) == \"x\")" },
	{ "\"x\" == comm", "(\"x\" == comm)" },
	{ "\"x\" != arg1", "(\"x\" != str(arg0))" },
	{ "comm != \"a\\\"\\\\\\n\\t\\x01\\xff\"", "(comm != \"a\\\"\\\\\\n\\t\\001\\377\")" },
	{ "18446744073709551615", "18446744073709551615" },
	{ "arg1[2]", "arg0[2]" },
	{ "(*arg1)[2]", "(*arg0)[2]" },
	{ "arg1@user", "arg0@u" },
	{ "retval", "retval" },
	{ "args->count > 10", "(args->count > 10)" },
	{ "'a'", "97" },
};

static void test_emit(void **state)
{
	for (size_t i = 0; i < sizeof(emit_cases) / sizeof(emit_cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT(4096);
		struct spec_error err;
		struct expr *e = parse_all(emit_cases[i].in);
		int rc;

		specerr_clear(&err);
		rc = expr_emit(e, &leaf_ctx, &sb, &err);
		if (rc != 0) {
			print_error("'%s': emit rc %d: %s\n", emit_cases[i].in, rc, err.msg);
			fail();
		}
		expect_str(emit_cases[i].in, strbuf_str(&sb), emit_cases[i].out);
		strbuf_release(&sb);
		expr_free(e);
	}
}

static struct expr *mk(enum expr_kind kind)
{
	struct expr *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->kind = kind;
	return e;
}

static struct expr *mk_str(const char *s, int col)
{
	struct expr *e = mk(EXPR_STR);

	e->u.str.s = strdup(s);
	e->u.str.len = strlen(s);
	e->col = col;
	return e;
}

static void check_emit_fails(const struct expr *e, int col, const char *msg)
{
	struct strbuf sb = STRBUF_INIT(4096);
	struct spec_error err;

	specerr_clear(&err);
	strbuf_puts(&sb, "before ");
	assert_int_equal(expr_emit(e, &leaf_ctx, &sb, &err), -EINVAL);
	assert_int_equal(err.col, col);
	assert_non_null(strstr(err.msg, msg));
	/* the buffer is left as it was */
	assert_string_equal(strbuf_str(&sb), "before ");
	strbuf_release(&sb);
}

static void test_emit_string_misuse(void **state)
{
	struct expr *e;

	/* a lone string literal parses (a format is one) but never emits */
	e = parse_all("\"x\"");
	check_emit_fails(e, 0, "a string literal can only be compared with == or != or given to STRCMP");
	expr_free(e);

	/* trees built by hand get the same checks as parsed ones */
	e = mk(EXPR_BINARY);
	e->u.op = OP_ADD;
	e->a = mk(EXPR_ARG);
	e->a->u.arg.n = 1;
	e->b = mk_str("x", 7);
	check_emit_fails(e, 7, "a string literal can only be compared");
	expr_free(e);

	e = mk(EXPR_BINARY);
	e->u.op = OP_EQ;
	e->col = 2;
	e->a = mk_str("x", 2);
	e->b = mk_str("y", 9);
	check_emit_fails(e, 2, "cannot compare two string literals");
	expr_free(e);

	e = mk(EXPR_STRCMP);
	e->u.str.s = strdup("x");
	e->u.str.len = 1;
	e->a = mk_str("y", 12);
	check_emit_fails(e, 12, "a string literal");
	expr_free(e);

	e = mk(EXPR_UNARY);
	e->u.op = OP_NOT;
	e->a = mk_str("y", 1);
	check_emit_fails(e, 1, "a string literal");
	expr_free(e);
}

static void test_emit_leaf_error(void **state)
{
	bool entry = true;
	struct expr_emit_ctx ctx = { test_leaf, &entry, NULL, NULL };
	struct strbuf sb = STRBUF_INIT(4096);
	struct spec_error err;
	struct expr *e = parse_all("arg1 > 0 && retval == 2");

	specerr_clear(&err);
	strbuf_puts(&sb, "x");
	assert_int_equal(expr_emit(e, &ctx, &sb, &err), -EINVAL);
	assert_int_equal(err.col, 12);
	assert_string_equal(err.msg, "retval in an entry probe");
	assert_string_equal(strbuf_str(&sb), "x");
	strbuf_release(&sb);
	expr_free(e);
}

static void test_emit_string(void **state)
{
	struct strbuf sb = STRBUF_INIT(4096);
	const char bytes[] = "a\"\\\n\t\x01\xff\x7f\x80' %$\r";

	assert_int_equal(expr_emit_string(bytes, sizeof(bytes) - 1, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "\"a\\\"\\\\\\n\\t\\001\\377\\177\\200' %$\\015\"");
	strbuf_release(&sb);
	/* bytes, not a C string: an embedded NUL is written too */
	assert_int_equal(expr_emit_string("a\0b", 3, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "\"a\\000b\"");
	strbuf_release(&sb);
	assert_int_equal(expr_emit_string("", 0, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "\"\"");
	strbuf_release(&sb);
}

static void test_buffer_cap(void **state)
{
	struct strbuf sb = STRBUF_INIT(8);
	struct spec_error err;
	struct expr *e = parse_all("arg1 > 1024 && arg2 < 5");

	specerr_clear(&err);
	assert_int_equal(expr_print(e, &sb), -E2BIG);
	strbuf_release(&sb);
	assert_int_equal(expr_emit(e, &leaf_ctx, &sb, &err), -E2BIG);
	strbuf_release(&sb);
	expr_free(e);
}

/* ---- tree helpers ------------------------------------------------------------ */

static int count_nodes(const struct expr *e, void *ud)
{
	(*(int *)ud)++;
	return 0;
}

static int stop_at_retval(const struct expr *e, void *ud)
{
	(*(int *)ud)++;
	return e->kind == EXPR_RETVAL ? 42 : 0;
}

static int record_kinds(const struct expr *e, void *ud)
{
	struct strbuf *sb = ud;

	strbuf_addf(sb, "%d ", (int)e->kind);
	return 0;
}

static void test_walk_has(void **state)
{
	struct expr *e = parse_all("arg1 > 0 && retval == (int)arg2 ? 1 : 2");
	struct strbuf sb = STRBUF_INIT(256);
	int n = 0;

	assert_int_equal(expr_walk(e, count_nodes, &n), 0);
	assert_int_equal(n, 11);
	n = 0;
	assert_int_equal(expr_walk(e, stop_at_retval, &n), 42);
	assert_int_equal(n, 7); /* cond, &&, >, arg1, 0, ==, retval */
	assert_int_equal(expr_walk(NULL, count_nodes, &n), 0);
	/* parents first, then a, b, c */
	expr_walk(e, record_kinds, &sb);
	assert_string_equal(strbuf_str(&sb), "9 8 8 2 0 8 3 10 2 0 0 ");
	strbuf_release(&sb);

	assert_true(expr_has(e, EXPR_RETVAL));
	assert_true(expr_has(e, EXPR_CAST));
	assert_true(expr_has(e, EXPR_COND));
	assert_false(expr_has(e, EXPR_STRCMP));
	assert_false(expr_has(e, EXPR_TPFIELD));
	assert_false(expr_has(NULL, EXPR_INT));
	expr_free(e);
}

static void test_is_string(void **state)
{
	static const struct {
		const char *in;
		bool is;
	} cases[] = {
		{ "comm", true },	 { "$task->comm", true },    { "((struct task_struct *)arg1)->comm", true },
		{ "$task.comm", true },	 { "arg1", false },	     { "\"x\"", false },
		{ "pid", false },	 { "$task", false },	     { "filename", false },
		{ "args->comm", false }, { "comm == \"x\"", false }, { "STRCMP(\"x\", comm)", false },
		{ "$task->pid", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct expr *e = parse_all(cases[i].in);

		if (expr_is_string(e) != cases[i].is) {
			print_error("expr_is_string('%s') != %d\n", cases[i].in, cases[i].is);
			fail();
		}
		expr_free(e);
	}
	assert_false(expr_is_string(NULL));
}

static void test_dup_free(void **state)
{
	const char *text = "STRCMP(\"a\\x01\", filename) && args->count > (unsigned)arg2@user"
			   " ? ((struct sock *)sk)->sk_state : $task->comm == \"x\"";
	struct expr *e = parse_all(text), *d;
	char *s1, *s2;

	d = expr_dup(e);
	assert_non_null(d);
	assert_true(tree_equal(e, d));
	assert_int_equal(d->col, e->col);
	assert_int_equal(d->b->col, e->b->col);
	s1 = print_str(e);
	expr_free(e);
	s2 = print_str(d);
	assert_string_equal(s1, s2);
	free(s1);
	free(s2);
	expr_free(d);
	expr_free(NULL);
	assert_null(expr_dup(NULL));
}

static void test_type_names(void **state)
{
	assert_string_equal(expr_type_name(ET_INT8), "int8");
	assert_string_equal(expr_type_name(ET_UINT8), "uint8");
	assert_string_equal(expr_type_name(ET_INT16), "int16");
	assert_string_equal(expr_type_name(ET_UINT16), "uint16");
	assert_string_equal(expr_type_name(ET_INT32), "int32");
	assert_string_equal(expr_type_name(ET_UINT32), "uint32");
	assert_string_equal(expr_type_name(ET_INT64), "int64");
	assert_string_equal(expr_type_name(ET_UINT64), "uint64");
	assert_null(expr_type_name(ET_STRUCT_PTR));
}

/* A previous error in err does not stick: expr_parse starts clean. */
static void test_error_reset(void **state)
{
	struct spec_error err;
	struct expr *e = NULL;
	size_t used;

	assert_int_equal(expr_parse("foo", 0, &names6, &e, &used, &err), -EINVAL);
	assert_int_equal(expr_parse("bar", 2, &names6, &e, &used, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown name 'bar'");
	assert_int_equal(err.col, 2);
	assert_int_equal(expr_parse("arg1", 0, &names6, &e, &used, &err), 0);
	assert_string_equal(err.msg, "");
	expr_free(e);
	/* err may be NULL */
	assert_int_equal(expr_parse("foo", 0, &names6, &e, &used, NULL), -EINVAL);
}

/* ---- random round trips ------------------------------------------------------ */

static unsigned long rng_state = 12345;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rng_state >> 33) % n);
}

static void gen(struct strbuf *sb, int depth)
{
	static const char *const leaves[] = {
		"arg1",
		"arg6@user",
		"retval",
		"args->count",
		"$pid",
		"$tgid",
		"pid",
		"cgroup",
		"$task->real_parent->pid",
		"filename",
		"0",
		"0x7f",
		"'x'",
		"18446744073709551615",
	};
	static const char *const binops[] = {
		"*", "/", "%", "+", "-", "<<", ">>", "<", "<=", ">", ">=", "==", "!=", "&", "^", "|", "&&", "||",
	};
	static const char *const unops[] = { "!", "~", "- ", "+ ", "*" };
	static const char *const casts[] = { "(int)", "(u8)", "(unsigned long)", "(struct sock *)", "(short)" };
	unsigned k = depth > 5 ? 0 : rnd(9);

	switch (k) {
	case 0:
	case 1:
		strbuf_puts(sb, leaves[rnd(sizeof(leaves) / sizeof(leaves[0]))]);
		break;
	case 2:
		strbuf_puts(sb, unops[rnd(5)]);
		gen(sb, depth + 1);
		break;
	case 3:
		strbuf_puts(sb, casts[rnd(5)]);
		gen(sb, depth + 1);
		break;
	case 4:
		strbuf_putc(sb, '(');
		gen(sb, depth + 1);
		strbuf_puts(sb, ") ? ");
		gen(sb, depth + 1);
		strbuf_puts(sb, " : ");
		gen(sb, depth + 1);
		break;
	case 5:
		strbuf_putc(sb, '(');
		gen(sb, depth + 1);
		strbuf_putc(sb, ')');
		break;
	case 6:
		strbuf_puts(sb, rnd(2) ? "(comm == \"a\\tb\")" : "STRCMP(\"x\", ");
		if (sb->buf[sb->len - 1] == ' ') {
			gen(sb, depth + 1);
			strbuf_putc(sb, ')');
		}
		break;
	default:
		gen(sb, depth + 1);
		strbuf_addf(sb, " %s ", binops[rnd(sizeof(binops) / sizeof(binops[0]))]);
		gen(sb, depth + 1);
		break;
	}
}

static void test_random_round_trips(void **state)
{
	for (int i = 0; i < 3000; i++) {
		struct strbuf sb = STRBUF_INIT(65536), out = STRBUF_INIT(65536);
		struct spec_error err;
		struct expr *e, *e2;
		char *s1, *s2;

		gen(&sb, 0);
		e = parse_all(strbuf_str(&sb));
		s1 = print_str(e);
		e2 = parse_all(s1);
		s2 = print_str(e2);
		expect_str(strbuf_str(&sb), s2, s1);
		assert_true(tree_equal(e, e2));
		specerr_clear(&err);
		assert_int_equal(expr_emit(e, &leaf_ctx, &out, &err), 0);
		/* bpftrace text never holds a statement or comment token */
		assert_null(strchr(strbuf_str(&out), ';'));
		assert_null(strchr(strbuf_str(&out), '{'));
		assert_null(strstr(strbuf_str(&out), "--"));
		assert_null(strstr(strbuf_str(&out), "++"));
		free(s1);
		free(s2);
		expr_free(e);
		expr_free(e2);
		strbuf_release(&sb);
		strbuf_release(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print_operators),
		cmocka_unit_test(test_print_casts),
		cmocka_unit_test(test_print_literals),
		cmocka_unit_test(test_print_names),
		cmocka_unit_test(test_tree_shape),
		cmocka_unit_test(test_param_shadowing),
		cmocka_unit_test(test_stops),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_string_limits),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_injection_in_strings),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_depth_column),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_emit_string_misuse),
		cmocka_unit_test(test_emit_leaf_error),
		cmocka_unit_test(test_emit_string),
		cmocka_unit_test(test_buffer_cap),
		cmocka_unit_test(test_walk_has),
		cmocka_unit_test(test_is_string),
		cmocka_unit_test(test_dup_free),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_error_reset),
		cmocka_unit_test(test_random_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
