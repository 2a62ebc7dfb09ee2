/* etype.c - expression types, and what bpftrace refuses on them. */
#include "tracespec/etype.h"

#include "tracespec/dwtypes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void set(struct ktype *t, enum ktype_kind kind)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
}

/* "struct sock *", "int8 *", "a string" for messages. */
static const char *describe(const struct ktype *t, char *buf, size_t size)
{
	switch (t->kind) {
	case KT_PTR:
		if (t->name[0])
			snprintf(buf, size, "a pointer (struct %s %.*s)", t->name, t->stars, "********");
		else
			snprintf(buf, size, "a pointer");
		break;
	case KT_STRUCT:
		snprintf(buf, size, "a struct %s (not a pointer to one)", t->name[0] ? t->name : "");
		break;
	case KT_STRING:
		snprintf(buf, size, "a string");
		break;
	case KT_ARRAY:
		snprintf(buf, size, "an array");
		break;
	case KT_INT:
		snprintf(buf, size, "an integer");
		break;
	default:
		snprintf(buf, size, "this");
	}
	return buf;
}

static int refuse(const struct expr *e, const struct ktype *t, const char *what, const char *hint,
		  struct spec_error *err)
{
	char d[128];

	specerr_set(err, e->col, hint, "%s cannot be %s in bpftrace", describe(t, d, sizeof(d)), what);
	return -EINVAL;
}

static bool is_ptr(const struct ktype *t)
{
	return t->kind == KT_PTR;
}

static bool not_number(const struct ktype *t)
{
	return t->kind == KT_PTR || t->kind == KT_STRING || t->kind == KT_STRUCT || t->kind == KT_ARRAY;
}

/* Is ctype ("const char *", "unsigned long *") a pointer to a C scalar, with
 * no struct or typedef (siginfo_t is a struct) behind it? */
static bool scalar_pointer(const char *ctype)
{
	static const char *const words[] = { "const", "volatile", "unsigned", "signed", "char", "short",
					     "int",   "long",	  "void",     "__user", "u8",	"u16",
					     "u32",   "u64",	  "s8",	      "s16",	"s32",	"s64",
					     "__u8",  "__u16",	  "__u32",    "__u64",	"__s8", "__s16",
					     "__s32", "__s64",	  "size_t",   "bool",	"_Bool" };
	const char *p = ctype;

	while (*p) {
		size_t n, i;

		p += strspn(p, " *");
		n = strcspn(p, " *");
		if (!n)
			break;
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i]) == n && strncmp(words[i], p, n) == 0)
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return false;
		p += n;
	}
	return true;
}

void etype_of_ctype(const char *ctype, bool is_pointer, bool is_string, struct ktype *out)
{
	const char *s;

	set(out, KT_INT);
	if (is_pointer) {
		out->kind = KT_PTR;
		for (s = ctype; *s; s++)
			out->stars += *s == '*';
		s = strstr(ctype, "struct ");
		if (s && out->stars > 0) {
			size_t n;

			s += 7;
			n = strcspn(s, " *");
			if (n < sizeof(out->name))
				memcpy(out->name, s, n), out->name[n] = '\0';
		} else if (out->stars == 1 && scalar_pointer(ctype)) {
			out->plain = true;
		}
	} else if (strchr(ctype, '[')) {
		out->kind = is_string ? KT_STRING : KT_ARRAY;
	}
}

/* Is struct NAME the traced binary's (its DWARF has one), as bpftrace picks in a uprobe? */
static bool from_dwarf(const struct etype_ctx *ctx, const char *name)
{
	return ctx->binary && dwtypes_struct_check(ctx->binary, name) == 1;
}

/* The member's type: from the binary's DWARF or the kernel's BTF, where the struct is known. */
static int member(const struct expr *e, const struct ktype *base, const struct etype_ctx *ctx, struct ktype *out,
		  struct spec_error *err)
{
	char suggest[160], hint[320];
	int rc;

	set(out, KT_UNKNOWN);
	if (e->u.member.arrow) {
		if (base->kind == KT_STRUCT)
			return refuse(e, base, "used with '->'", "write '.' for a member of a struct", err);
		if (base->kind == KT_INT || base->kind == KT_STRING || base->kind == KT_ARRAY)
			return refuse(e, base, "used with '->'", "cast it first: ((struct NAME *)arg1)->member", err);
		if (is_ptr(base) && base->stars > 1)
			return refuse(e, base, "used with '->'", "dereference it first: (*p)->member", err);
		if (is_ptr(base) && base->plain) {
			specerr_set(err, e->col, "cast it first: ((struct NAME *)p)->member",
				    "'->' needs a pointer to a struct; this one points to a char, an integer or void");
			return -EINVAL;
		}
		if (!is_ptr(base) || !base->name[0])
			return 0;
	} else {
		if (is_ptr(base))
			return refuse(e, base, "used with '.'", "write '->' for a member through a pointer", err);
		if (base->kind == KT_INT || base->kind == KT_STRING || base->kind == KT_ARRAY)
			return refuse(e, base, "used with '.'", "only a struct has members", err);
		if (base->kind != KT_STRUCT || !base->name[0])
			return 0;
	}
	if (base->user) {
		rc = dwtypes_member_type(ctx->binary, base->name, e->u.member.name, out);
		if (rc == -ENOMEM) {
			specerr_set(err, e->col, NULL, "out of memory reading the debug info of %s", ctx->binary);
			return rc;
		}
		if (rc != 0)
			return 0; /* found, or not to be known from here: leave it to bpftrace */
		snprintf(hint, sizeof(hint), "struct %s is %s's, from its debug info (DWARF)", base->name, ctx->binary);
		specerr_set(err, e->col, hint, "struct %s has no member '%s'", base->name, e->u.member.name);
		return -EINVAL;
	}
	rc = ktypes_member_type(base->name, e->u.member.name, out);
	if (rc != 0)
		return 0; /* found, or nothing known about the struct: leave it to bpftrace */
	if (ktypes_member_check(base->name, e->u.member.name, suggest, sizeof(suggest)) == 0 && suggest[0])
		snprintf(hint, sizeof(hint), "'%s' is a C macro, not in BTF: write ->%s", e->u.member.name, suggest);
	else
		snprintf(hint, sizeof(hint), "see the members with: bpftrace -lv 'struct %s'", base->name);
	specerr_set(err, e->col, hint, "struct %s has no member '%s'", base->name, e->u.member.name);
	return -EINVAL;
}

static int unary(const struct expr *e, const struct ktype *a, struct ktype *out, struct spec_error *err)
{
	static const char *const names[] = { [OP_NOT] = "'!'", [OP_BNOT] = "'~'", [OP_NEG] = "'-'", [OP_PLUS] = "'+'" };

	if (e->u.op == OP_DEREF) {
		set(out, KT_UNKNOWN);
		if (a->kind == KT_INT)
			return refuse(e, a, "dereferenced",
				      "cast it to a pointer first: *(uint64 *)... is not in the spec language", err);
		if (a->kind == KT_STRUCT || a->kind == KT_STRING || a->kind == KT_ARRAY)
			return refuse(e, a, "dereferenced", a->kind == KT_STRUCT ? "use its members: p->member" : NULL,
				      err);
		if (is_ptr(a) && a->stars > 1) {
			*out = *a;
			out->stars--;
		} else if (is_ptr(a) && a->name[0]) {
			set(out, KT_STRUCT);
			snprintf(out->name, sizeof(out->name), "%s", a->name);
		} else if (is_ptr(a)) {
			set(out, KT_INT);
		}
		return 0;
	}
	if (e->u.op == OP_NOT && is_ptr(a)) {
		set(out, KT_INT); /* emitted as (p == 0) */
		return 0;
	}
	if (not_number(a)) {
		char what[48];

		snprintf(what, sizeof(what), "the operand of %s", names[e->u.op]);
		return refuse(e, a, what, is_ptr(a) ? "cast it to an integer first: (uint64)p" : NULL, err);
	}
	set(out, KT_INT);
	return 0;
}

static int binary(const struct expr *e, const struct ktype *a, const struct ktype *b, struct ktype *out,
		  struct spec_error *err)
{
	const struct ktype *bad = not_number(a) ? a : not_number(b) ? b : NULL;
	const struct expr *at = bad == a ? e->a : e->b;

	set(out, KT_INT);
	switch (e->u.op) {
	case OP_ADD:
	case OP_SUB:
		/* pointer arithmetic: a pointer and an integer */
		if (is_ptr(a) && !not_number(b)) {
			*out = *a;
			return 0;
		}
		if (e->u.op == OP_ADD && is_ptr(b) && !not_number(a)) {
			*out = *b;
			return 0;
		}
		if (bad)
			return refuse(at, bad, "added to or subtracted from that", NULL, err);
		return 0;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
	case OP_EQ:
	case OP_NE:
		/* pointers compare with pointers and integers; strings with == != only (the emitter) */
		if ((a->kind == KT_STRUCT || b->kind == KT_STRUCT))
			return refuse(a->kind == KT_STRUCT ? e->a : e->b, a->kind == KT_STRUCT ? a : b, "compared",
				      "compare one of its members", err);
		return 0;
	case OP_LAND:
	case OP_LOR:
		/* a pointer operand is emitted as (p != 0), as C reads it */
		bad = a->kind == KT_STRING || a->kind == KT_STRUCT || a->kind == KT_ARRAY ? a :
		      b->kind == KT_STRING || b->kind == KT_STRUCT || b->kind == KT_ARRAY ? b :
											    NULL;
		at = bad == a ? e->a : e->b;
		if (bad)
			return refuse(at, bad, e->u.op == OP_LAND ? "an operand of &&" : "an operand of ||",
				      bad->kind == KT_STRING ? "compare it: (comm == \"x\")" : NULL, err);
		return 0;
	default:
		if (bad)
			return refuse(at, bad, "an operand of arithmetic or bit operators",
				      is_ptr(bad) ? "cast it to an integer first: (uint64)p" : NULL, err);
		return 0;
	}
}

/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
int etype_of(const struct expr *e, const struct etype_ctx *ctx, struct ktype *out, struct spec_error *err)
{
	struct ktype a, b, c;
	int rc;

	set(out, KT_UNKNOWN);
	switch (e->kind) {
	case EXPR_INT:
		set(out, KT_INT);
		return 0;
	case EXPR_STR:
		set(out, KT_STRING);
		return 0;
	case EXPR_ARG:
	case EXPR_RETVAL:
	case EXPR_TPFIELD:
	case EXPR_PARAM:
		if (ctx->leaf)
			ctx->leaf(ctx->ud, e, out);
		if (out->kind == KT_PTR && out->name[0])
			out->user = from_dwarf(ctx, out->name);
		return 0;
	case EXPR_BUILTIN:
		if (e->u.builtin == EB_COMM) {
			set(out, KT_STRING);
		} else if (e->u.builtin == EB_TASK) {
			set(out, KT_PTR);
			out->stars = 1;
			snprintf(out->name, sizeof(out->name), "task_struct");
		} else {
			set(out, KT_INT);
		}
		return 0;
	case EXPR_UNARY:
		rc = etype_of(e->a, ctx, &a, err);
		return rc ? rc : unary(e, &a, out, err);
	case EXPR_BINARY:
		rc = etype_of(e->a, ctx, &a, err);
		if (!rc)
			rc = etype_of(e->b, ctx, &b, err);
		return rc ? rc : binary(e, &a, &b, out, err);
	case EXPR_COND:
		rc = etype_of(e->a, ctx, &a, err);
		if (!rc)
			rc = etype_of(e->b, ctx, &b, err);
		if (!rc)
			rc = etype_of(e->c, ctx, &c, err);
		if (rc)
			return rc;
		if (not_number(&a) && !is_ptr(&a)) /* a pointer condition is emitted as (p != 0) */
			return refuse(e->a, &a, "the condition of ?:", NULL, err);
		if (is_ptr(&b) || b.kind == KT_STRUCT)
			return refuse(e->b, &b, "the result of ?:", "give an integer or cast it: (uint64)p", err);
		if (is_ptr(&c) || c.kind == KT_STRUCT)
			return refuse(e->c, &c, "the result of ?:", "give an integer or cast it: (uint64)p", err);
		*out = b;
		return 0;
	case EXPR_CAST:
		rc = etype_of(e->a, ctx, &a, err);
		if (rc)
			return rc;
		if (a.kind == KT_STRING || a.kind == KT_STRUCT)
			return refuse(e->a, &a, "cast", NULL, err);
		if (e->u.cast.type == ET_STRUCT_PTR) {
			set(out, KT_PTR);
			out->stars = e->u.cast.stars > 0 ? e->u.cast.stars : 1;
			snprintf(out->name, sizeof(out->name), "%s", e->u.cast.name ? e->u.cast.name : "");
			out->user = out->name[0] && from_dwarf(ctx, out->name);
		} else {
			set(out, KT_INT);
		}
		return 0;
	case EXPR_MEMBER:
		rc = etype_of(e->a, ctx, &a, err);
		return rc ? rc : member(e, &a, ctx, out, err);
	case EXPR_INDEX:
		rc = etype_of(e->a, ctx, &a, err);
		if (!rc)
			rc = etype_of(e->b, ctx, &b, err);
		if (rc)
			return rc;
		if (a.kind == KT_INT || a.kind == KT_STRING || a.kind == KT_STRUCT)
			return refuse(e->a, &a, "indexed with []",
				      a.kind == KT_INT ? "cast it to a pointer first" : NULL, err);
		if (not_number(&b))
			return refuse(e->b, &b, "an index", NULL, err);
		if (is_ptr(&a) && a.stars > 1) {
			*out = a;
			out->stars--;
		} else if (is_ptr(&a) && !a.name[0]) {
			set(out, KT_INT);
		}
		return 0;
	case EXPR_STRCMP:
		rc = etype_of(e->a, ctx, &a, err);
		if (rc)
			return rc;
		if (a.kind == KT_STRUCT)
			return refuse(e->a, &a, "read as a string", NULL, err);
		set(out, KT_INT);
		return 0;
	}
	return 0;
}

int etype_check_filter(const struct expr *e, const struct etype_ctx *ctx, struct spec_error *err)
{
	struct ktype t;
	int rc = etype_of(e, ctx, &t, err);

	if (rc)
		return rc;
	/* bpftrace takes a pointer as a predicate, but not a string or a struct */
	if (t.kind == KT_STRING || t.kind == KT_STRUCT || t.kind == KT_ARRAY)
		return refuse(e, &t, "a filter", t.kind == KT_STRING ? "compare it: (comm == \"x\")" : NULL, err);
	return 0;
}
