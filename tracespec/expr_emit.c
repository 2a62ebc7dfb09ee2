/* expr_emit.c - filter expressions printed back as spec text and emitted as bpftrace. */
#include "tracespec/expr.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Precedence levels of the spec grammar, lowest first. */
enum {
	PREC_COND = 1,
	PREC_LOR,
	PREC_LAND,
	PREC_BOR,
	PREC_BXOR,
	PREC_BAND,
	PREC_EQ,
	PREC_REL,
	PREC_SHIFT,
	PREC_ADD,
	PREC_MUL,
	PREC_UNARY,
	PREC_POSTFIX,
	PREC_PRIMARY,
};

static const char *const op_text[] = {
	[OP_NOT] = "!",	 [OP_BNOT] = "~", [OP_NEG] = "-", [OP_PLUS] = "+",  [OP_DEREF] = "*", [OP_MUL] = "*",
	[OP_DIV] = "/",	 [OP_MOD] = "%",  [OP_ADD] = "+", [OP_SUB] = "-",   [OP_SHL] = "<<",  [OP_SHR] = ">>",
	[OP_LT] = "<",	 [OP_LE] = "<=",  [OP_GT] = ">",  [OP_GE] = ">=",   [OP_EQ] = "==",   [OP_NE] = "!=",
	[OP_BAND] = "&", [OP_BXOR] = "^", [OP_BOR] = "|", [OP_LAND] = "&&", [OP_LOR] = "||",
};

static const int op_prec[] = {
	[OP_MUL] = PREC_MUL,   [OP_DIV] = PREC_MUL,   [OP_MOD] = PREC_MUL, [OP_ADD] = PREC_ADD,	  [OP_SUB] = PREC_ADD,
	[OP_SHL] = PREC_SHIFT, [OP_SHR] = PREC_SHIFT, [OP_LT] = PREC_REL,  [OP_LE] = PREC_REL,	  [OP_GT] = PREC_REL,
	[OP_GE] = PREC_REL,    [OP_EQ] = PREC_EQ,     [OP_NE] = PREC_EQ,   [OP_BAND] = PREC_BAND, [OP_BXOR] = PREC_BXOR,
	[OP_BOR] = PREC_BOR,   [OP_LAND] = PREC_LAND, [OP_LOR] = PREC_LOR,
};

static const char *const c_type_names[] = {
	[ET_INT8] = "char", [ET_UINT8] = "unsigned char", [ET_INT16] = "short", [ET_UINT16] = "unsigned short",
	[ET_INT32] = "int", [ET_UINT32] = "unsigned int", [ET_INT64] = "long",	[ET_UINT64] = "unsigned long",
};

static const char *const bt_type_names[] = {
	[ET_INT8] = "int8",   [ET_UINT8] = "uint8",   [ET_INT16] = "int16", [ET_UINT16] = "uint16",
	[ET_INT32] = "int32", [ET_UINT32] = "uint32", [ET_INT64] = "int64", [ET_UINT64] = "uint64",
};

/* trace.py's spelling of each builtin, then bpftrace's. */
static const char *const spec_builtins[] = {
	[EB_PID] = "$tgid", [EB_TID] = "$pid", [EB_UID] = "$uid",      [EB_GID] = "$gid",
	[EB_COMM] = "comm", [EB_CPU] = "$cpu", [EB_CGROUP] = "cgroup", [EB_TASK] = "$task",
};

static const char *const bt_builtins[] = {
	[EB_PID] = "pid",   [EB_TID] = "tid", [EB_UID] = "uid",	      [EB_GID] = "gid",
	[EB_COMM] = "comm", [EB_CPU] = "cpu", [EB_CGROUP] = "cgroup", [EB_TASK] = "curtask",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *table_get(const char *const *table, size_t n, unsigned i)
{
	return i < n ? table[i] : NULL;
}

const char *expr_type_name(enum expr_type t)
{
	return table_get(bt_type_names, NELEM(bt_type_names), (unsigned)t);
}

int expr_emit_string(const char *s, size_t len, struct strbuf *out)
{
	size_t i;

	strbuf_putc(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			strbuf_puts(out, "\\\"");
		else if (c == '\\')
			strbuf_puts(out, "\\\\");
		else if (c == '\n')
			strbuf_puts(out, "\\n");
		else if (c == '\t')
			strbuf_puts(out, "\\t");
		else if (c >= 0x20 && c < 0x7f)
			strbuf_putc(out, (char)c);
		else
			strbuf_addf(out, "\\%03o", c);
	}
	return strbuf_putc(out, '"');
}

/* ------------------------------------------------------------------------
 * Canonical spec text
 */

static int prec_of(const struct expr *e)
{
	switch (e->kind) {
	case EXPR_UNARY:
	case EXPR_CAST:
		return PREC_UNARY;
	case EXPR_BINARY:
		return (unsigned)e->u.op < NELEM(op_prec) && op_prec[e->u.op] ? op_prec[e->u.op] : PREC_MUL;
	case EXPR_COND:
		return PREC_COND;
	case EXPR_MEMBER:
	case EXPR_INDEX:
		return PREC_POSTFIX;
	default:
		return PREC_PRIMARY;
	}
}

static const char *name_or(const char *s)
{
	return s ? s : "?";
}

static void print_cast_type(const struct expr *e, struct strbuf *out)
{
	int i;

	if (e->u.cast.type == ET_STRUCT_PTR) {
		strbuf_addf(out, "(struct %s ", name_or(e->u.cast.name));
		for (i = 0; i < (e->u.cast.stars > 0 ? e->u.cast.stars : 1); i++)
			strbuf_putc(out, '*');
		strbuf_putc(out, ')');
		return;
	}
	strbuf_addf(out, "(%s)", name_or(table_get(c_type_names, NELEM(c_type_names), (unsigned)e->u.cast.type)));
}

/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
static void print_rec(const struct expr *e, int minprec, struct strbuf *out)
{
	int prec = prec_of(e);
	bool paren = prec < minprec;

	if (paren)
		strbuf_putc(out, '(');
	switch (e->kind) {
	case EXPR_INT:
		strbuf_addf(out, "%" PRIu64, e->u.ival);
		break;
	case EXPR_STR:
		expr_emit_string(e->u.str.s ? e->u.str.s : "", e->u.str.s ? e->u.str.len : 0, out);
		break;
	case EXPR_ARG:
		strbuf_addf(out, "arg%d%s", e->u.arg.n, e->u.arg.user ? "@user" : "");
		break;
	case EXPR_RETVAL:
		strbuf_puts(out, "retval");
		break;
	case EXPR_TPFIELD:
		strbuf_addf(out, "args->%s", name_or(e->u.name));
		break;
	case EXPR_BUILTIN:
		strbuf_puts(out, name_or(table_get(spec_builtins, NELEM(spec_builtins), (unsigned)e->u.builtin)));
		break;
	case EXPR_PARAM:
		strbuf_puts(out, name_or(e->u.param.name));
		break;
	case EXPR_UNARY:
		strbuf_puts(out, name_or(table_get(op_text, NELEM(op_text), (unsigned)e->u.op)));
		/* "- -x", never "--x", which reads as a decrement */
		if ((e->u.op == OP_NEG || e->u.op == OP_PLUS) && e->a->kind == EXPR_UNARY && e->a->u.op == e->u.op)
			strbuf_putc(out, ' ');
		print_rec(e->a, PREC_UNARY, out);
		break;
	case EXPR_BINARY:
		print_rec(e->a, prec, out);
		strbuf_addf(out, " %s ", name_or(table_get(op_text, NELEM(op_text), (unsigned)e->u.op)));
		print_rec(e->b, prec + 1, out);
		break;
	case EXPR_COND:
		print_rec(e->a, PREC_LOR, out);
		strbuf_puts(out, " ? ");
		print_rec(e->b, PREC_COND, out);
		strbuf_puts(out, " : ");
		print_rec(e->c, PREC_COND, out);
		break;
	case EXPR_CAST:
		print_cast_type(e, out);
		print_rec(e->a, PREC_UNARY, out);
		break;
	case EXPR_MEMBER:
		print_rec(e->a, PREC_POSTFIX, out);
		strbuf_addf(out, "%s%s", e->u.member.arrow ? "->" : ".", name_or(e->u.member.name));
		break;
	case EXPR_INDEX:
		print_rec(e->a, PREC_POSTFIX, out);
		strbuf_putc(out, '[');
		print_rec(e->b, PREC_COND, out);
		strbuf_putc(out, ']');
		break;
	case EXPR_STRCMP:
		strbuf_puts(out, "STRCMP(");
		expr_emit_string(e->u.str.s ? e->u.str.s : "", e->u.str.s ? e->u.str.len : 0, out);
		strbuf_puts(out, ", ");
		print_rec(e->a, PREC_COND, out);
		strbuf_putc(out, ')');
		break;
	}
	if (paren)
		strbuf_putc(out, ')');
}

int expr_print(const struct expr *e, struct strbuf *out)
{
	if (!e)
		return -EINVAL;
	print_rec(e, PREC_COND, out);
	return out->err;
}

/* ------------------------------------------------------------------------
 * bpftrace
 */

static int emit_rec(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out, struct spec_error *err);

static int fail_string(const struct expr *e, struct spec_error *err)
{
	specerr_set(err, e->col, "write comm == \"x\", args->f != \"x\" or STRCMP(\"x\", arg1)",
		    "a string literal can only be compared with == or != or given to STRCMP");
	return -EINVAL;
}

/* Operands that bind loosely in bpftrace (prefix operators and casts) are
 * parenthesised where another operator applies to them; everything else
 * emits as a primary or is parenthesised already. */
/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
static int emit_tight(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out, struct spec_error *err)
{
	int rc;

	if (e->kind != EXPR_UNARY && e->kind != EXPR_CAST)
		return emit_rec(e, ctx, out, err);
	strbuf_putc(out, '(');
	rc = emit_rec(e, ctx, out, err);
	strbuf_putc(out, ')');
	return rc;
}

/* bpftrace 0.17 refuses string literals of 64 bytes or more in a program. */
#define BPFTRACE_MAX_LITERAL 63

static int check_literal(const struct expr *e, size_t len, struct spec_error *err)
{
	if (len <= BPFTRACE_MAX_LITERAL)
		return 0;
	specerr_set(err, e->col, "bpftrace compares at most 63 bytes: shorten it (STRCMP matches a prefix)",
		    "string literal of %zu bytes is too long", len);
	return -EINVAL;
}

/* An operand compared with a string: as is when it is a string, else str(). */
/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
static int emit_as_string(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out,
			  struct spec_error *err)
{
	int rc;

	if (e->kind == EXPR_STR)
		return check_literal(e, e->u.str.s ? e->u.str.len : 0, err) ?:
			       expr_emit_string(e->u.str.s ? e->u.str.s : "", e->u.str.s ? e->u.str.len : 0, out);
	if (expr_is_string(e) || (ctx->is_string && ctx->is_string(ctx->ud, e)))
		return emit_rec(e, ctx, out, err);
	strbuf_puts(out, "str(");
	rc = emit_rec(e, ctx, out, err);
	strbuf_putc(out, ')');
	return rc;
}

/* An operand C reads as a truth value: a pointer becomes (p != 0). */
/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
static int emit_truth(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out, struct spec_error *err)
{
	int rc;

	if (!ctx || !ctx->is_pointer || !ctx->is_pointer(ctx->ud, e))
		return emit_rec(e, ctx, out, err);
	strbuf_putc(out, '(');
	rc = emit_rec(e, ctx, out, err);
	strbuf_puts(out, " != 0)");
	return rc;
}

/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
static int emit_binary(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out,
		       struct spec_error *err)
{
	bool truth = e->u.op == OP_LAND || e->u.op == OP_LOR;
	bool strcmp_op = (e->u.op == OP_EQ || e->u.op == OP_NE) && (e->a->kind == EXPR_STR || e->b->kind == EXPR_STR);
	const char *op = table_get(op_text, NELEM(op_text), (unsigned)e->u.op);
	int rc;

	if (!op || e->u.op < OP_MUL) {
		specerr_set(err, e->col, NULL, "invalid binary operator");
		return -EINVAL;
	}
	if (strcmp_op && e->a->kind == EXPR_STR && e->b->kind == EXPR_STR) {
		specerr_set(err, e->col, NULL, "cannot compare two string literals");
		return -EINVAL;
	}
	strbuf_putc(out, '(');
	if (strcmp_op)
		rc = emit_as_string(e->a, ctx, out, err);
	else
		rc = truth ? emit_truth(e->a, ctx, out, err) : emit_rec(e->a, ctx, out, err);
	if (rc)
		return rc;
	strbuf_addf(out, " %s ", op);
	if (strcmp_op)
		rc = emit_as_string(e->b, ctx, out, err);
	else
		rc = truth ? emit_truth(e->b, ctx, out, err) : emit_rec(e->b, ctx, out, err);
	strbuf_putc(out, ')');
	return rc;
}

static int emit_leaf(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out, struct spec_error *err)
{
	if (!ctx || !ctx->leaf) {
		specerr_set(err, e->col, NULL, "no way to emit this name here");
		return -EINVAL;
	}
	return ctx->leaf(ctx->ud, e, out, err);
}

/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
static int emit_rec(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out, struct spec_error *err)
{
	const char *s;
	int rc = 0, i;

	switch (e->kind) {
	case EXPR_INT:
		strbuf_addf(out, "%" PRIu64, e->u.ival);
		break;
	case EXPR_STR:
		return fail_string(e, err);
	case EXPR_ARG:
	case EXPR_RETVAL:
	case EXPR_TPFIELD:
	case EXPR_PARAM:
		return emit_leaf(e, ctx, out, err);
	case EXPR_BUILTIN:
		s = table_get(bt_builtins, NELEM(bt_builtins), (unsigned)e->u.builtin);
		if (!s) {
			specerr_set(err, e->col, NULL, "invalid builtin");
			return -EINVAL;
		}
		strbuf_puts(out, s);
		break;
	case EXPR_UNARY:
		if (e->u.op == OP_PLUS) /* bpftrace has no unary '+'; it changes nothing */
			return emit_rec(e->a, ctx, out, err);
		s = table_get(op_text, NELEM(op_text), (unsigned)e->u.op);
		if (!s || e->u.op > OP_DEREF) {
			specerr_set(err, e->col, NULL, "invalid unary operator");
			return -EINVAL;
		}
		if (e->u.op == OP_NOT && ctx && ctx->is_pointer && ctx->is_pointer(ctx->ud, e->a)) {
			/* !p on a pointer: (p == 0) */
			strbuf_putc(out, '(');
			rc = emit_rec(e->a, ctx, out, err);
			strbuf_puts(out, " == 0)");
			return rc;
		}
		strbuf_puts(out, s);
		return emit_tight(e->a, ctx, out, err);
	case EXPR_BINARY:
		return emit_binary(e, ctx, out, err);
	case EXPR_COND:
		strbuf_putc(out, '(');
		rc = emit_truth(e->a, ctx, out, err);
		strbuf_puts(out, " ? ");
		if (!rc)
			rc = emit_rec(e->b, ctx, out, err);
		strbuf_puts(out, " : ");
		if (!rc)
			rc = emit_rec(e->c, ctx, out, err);
		strbuf_putc(out, ')');
		return rc;
	case EXPR_CAST:
		if (e->u.cast.type == ET_STRUCT_PTR) {
			strbuf_addf(out, "(struct %s ", name_or(e->u.cast.name));
			for (i = 0; i < (e->u.cast.stars > 0 ? e->u.cast.stars : 1); i++)
				strbuf_putc(out, '*');
			strbuf_putc(out, ')');
		} else {
			s = expr_type_name(e->u.cast.type);
			if (!s) {
				specerr_set(err, e->col, NULL, "invalid cast type");
				return -EINVAL;
			}
			strbuf_addf(out, "(%s)", s);
		}
		return emit_tight(e->a, ctx, out, err);
	case EXPR_MEMBER:
		if (e->a->kind == EXPR_CAST || e->a->kind == EXPR_UNARY) {
			strbuf_putc(out, '(');
			rc = emit_rec(e->a, ctx, out, err);
			strbuf_putc(out, ')');
		} else {
			rc = emit_rec(e->a, ctx, out, err);
		}
		strbuf_addf(out, "%s%s", e->u.member.arrow ? "->" : ".", name_or(e->u.member.name));
		return rc;
	case EXPR_INDEX:
		rc = emit_tight(e->a, ctx, out, err);
		strbuf_putc(out, '[');
		if (!rc)
			rc = emit_rec(e->b, ctx, out, err);
		strbuf_putc(out, ']');
		return rc;
	case EXPR_STRCMP:
		if (e->a->kind == EXPR_STR)
			return fail_string(e->a, err);
		if (check_literal(e, e->u.str.s ? e->u.str.len : 0, err) < 0)
			return -EINVAL;
		strbuf_puts(out, "(strncmp(");
		rc = emit_as_string(e->a, ctx, out, err);
		strbuf_puts(out, ", ");
		expr_emit_string(e->u.str.s ? e->u.str.s : "", e->u.str.s ? e->u.str.len : 0, out);
		strbuf_addf(out, ", %zu) == 0)", e->u.str.s ? e->u.str.len : 0);
		return rc;
	default:
		specerr_set(err, e->col, NULL, "invalid expression node");
		return -EINVAL;
	}
	return rc;
}

int expr_emit(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out, struct spec_error *err)
{
	size_t len0 = out->len;
	int rc;

	if (!e) {
		specerr_set(err, -1, NULL, "no expression to emit");
		return -EINVAL;
	}
	rc = emit_rec(e, ctx, out, err);
	if (!rc)
		return out->err;
	if (!out->err && out->buf) {
		/* leave the buffer as it was before the failed emit */
		out->len = len0;
		out->buf[len0] = '\0';
	}
	return rc;
}
