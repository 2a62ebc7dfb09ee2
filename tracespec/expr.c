/* expr.c - filter expressions: lexer, recursive-descent parser and tree helpers. */
#include "tracespec/expr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPR_MAX_DEPTH 64 /* nesting of parentheses and operators */
#define EXPR_MAX_IDENT 63 /* bytes in a member, field or struct name */
#define NEAR_MAX       32 /* bytes of a token quoted in a message */

/* ------------------------------------------------------------------------
 * Tokens
 */

enum tok_kind {
	T_END,
	T_INT,
	T_STR,
	T_IDENT,
	T_LP,
	T_RP,
	T_LB,
	T_RB,
	T_COMMA,
	T_QUEST,
	T_COLON,
	T_ARROW,
	T_DOT,
	T_NOT,
	T_BNOT,
	T_MINUS,
	T_PLUS,
	T_STAR,
	T_SLASH,
	T_PCT,
	T_SHL,
	T_SHR,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_EQ,
	T_NE,
	T_AMP,
	T_CARET,
	T_PIPE,
	T_LAND,
	T_LOR,
};

struct token {
	enum tok_kind kind;
	size_t start, end; /* byte offsets of the token in the text */
	uint64_t ival;	   /* T_INT (character literals too) */
	char *str;	   /* T_STR: decoded bytes, NUL-terminated, owned */
	size_t len;	   /* T_STR: bytes in str */
	bool user;	   /* T_IDENT: argN written as argN@user */
};

struct parser {
	const char *text;
	int col0;
	size_t pos;	  /* where the lexer goes on: just past tok */
	struct token tok; /* the lookahead */
	int depth;
	const struct expr_names *names;
	struct spec_error *err;
};

struct punct {
	const char *s;
	enum tok_kind kind;
};

/* Longest first, so "<<" wins over "<". */
static const struct punct puncts[] = {
	{ "->", T_ARROW }, { "<<", T_SHL },  { ">>", T_SHR },  { "<=", T_LE },	 { ">=", T_GE },   { "==", T_EQ },
	{ "!=", T_NE },	   { "&&", T_LAND }, { "||", T_LOR },  { "(", T_LP },	 { ")", T_RP },	   { "[", T_LB },
	{ "]", T_RB },	   { ",", T_COMMA }, { "?", T_QUEST }, { ":", T_COLON }, { ".", T_DOT },   { "!", T_NOT },
	{ "~", T_BNOT },   { "-", T_MINUS }, { "+", T_PLUS },  { "*", T_STAR },	 { "/", T_SLASH }, { "%", T_PCT },
	{ "<", T_LT },	   { ">", T_GT },    { "&", T_AMP },   { "^", T_CARET }, { "|", T_PIPE },
};

/* C operators that have no place in a filter; checked before puncts. */
static const char *const assign_ops[] = {
	"<<=", ">>=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
};

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int col_at(const struct parser *p, size_t off)
{
	return p->col0 + (int)off;
}

/* Copy up to NEAR_MAX bytes of text[start..end) for a message, with
 * non-printable bytes shown as '?'. */
static void quote_span(const struct parser *p, size_t start, size_t end, char *buf, size_t size)
{
	size_t n = end - start, i;

	if (n > NEAR_MAX)
		n = NEAR_MAX;
	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p->text[start + i];

		buf[i] = (char)((c >= 0x20 && c < 0x7f) ? c : '?');
	}
	buf[n] = '\0';
}

/* "near 'TOKEN'" for the lookahead, or "at the end of the text". */
static void near_tok(const struct parser *p, char *buf, size_t size)
{
	char q[NEAR_MAX + 1];

	if (p->tok.kind == T_END) {
		snprintf(buf, size, "at the end of the text");
		return;
	}
	quote_span(p, p->tok.start, p->tok.end, q, sizeof(q));
	snprintf(buf, size, "near '%s'", q);
}

/* Report "<what> near 'TOKEN'" at the lookahead. */
static int fail_at_tok(struct parser *p, const char *what, const char *hint)
{
	char near[NEAR_MAX + 32];

	near_tok(p, near, sizeof(near));
	specerr_set(p->err, col_at(p, p->tok.start), hint, "%s %s", what, near);
	return -EINVAL;
}

/* ------------------------------------------------------------------------
 * Lexer
 */

/* Decode the escape at text[*i] (a backslash) into *out; *i moves past it. */
static int lex_escape(struct parser *p, size_t *i, unsigned char *out)
{
	const char *t = p->text;
	size_t at = *i;
	char c = t[at + 1];
	unsigned v = 0;
	int n = 0, d;

	switch (c) {
	case 'n':
		v = '\n';
		break;
	case 't':
		v = '\t';
		break;
	case 'r':
		v = '\r';
		break;
	case 'a':
		v = '\a';
		break;
	case 'b':
		v = '\b';
		break;
	case 'f':
		v = '\f';
		break;
	case 'v':
		v = '\v';
		break;
	case '\\':
		v = '\\';
		break;
	case '"':
		v = '"';
		break;
	case '\'':
		v = '\'';
		break;
	case '?':
		v = '?';
		break;
	case 'x':
		d = hex_value(t[at + 2]);
		while (n < 2 && d >= 0) {
			v = v * 16 + (unsigned)d;
			n++;
			d = hex_value(t[at + 2 + n]);
		}
		if (n == 0) {
			specerr_set(p->err, col_at(p, at), "write \\xHH with one or two hex digits",
				    "escape '\\x' needs hex digits");
			return -EINVAL;
		}
		*out = (unsigned char)v;
		*i = at + 2 + n;
		return 0;
	case '\0':
		specerr_set(p->err, col_at(p, at), NULL, "unfinished escape at the end of the text");
		return -EINVAL;
	default:
		if (c >= '0' && c <= '7') {
			while (n < 3 && t[at + 1 + n] >= '0' && t[at + 1 + n] <= '7') {
				v = v * 8 + (unsigned)(t[at + 1 + n] - '0');
				n++;
			}
			if (v > 255) {
				specerr_set(p->err, col_at(p, at), "an octal escape is at most \\377",
					    "octal escape '\\%.3s' is out of range", t + at + 1);
				return -EINVAL;
			}
			*out = (unsigned char)v;
			*i = at + 1 + n;
			return 0;
		}
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			specerr_set(p->err, col_at(p, at), "known escapes: \\n \\t \\r \\\\ \\\" \\' \\xHH \\ooo",
				    "unknown escape '\\%c'", c);
		else
			specerr_set(p->err, col_at(p, at), NULL, "unknown escape sequence");
		return -EINVAL;
	}
	*out = (unsigned char)v;
	*i = at + 2;
	return 0;
}

static int lex_string(struct parser *p, size_t i)
{
	const char *t = p->text;
	size_t start = i, len = 0;
	unsigned char buf[EXPR_MAX_STR + 1];
	unsigned char c;
	int rc;

	i++;
	while (t[i] != '"') {
		if (t[i] == '\0') {
			specerr_set(p->err, col_at(p, start), "close it with '\"'", "unterminated string literal");
			return -EINVAL;
		}
		if (t[i] == '\\') {
			size_t at = i;

			rc = lex_escape(p, &i, &c);
			if (rc)
				return rc;
			if (c == 0) {
				specerr_set(p->err, col_at(p, at), "bpftrace strings end at the first NUL",
					    "a string literal cannot contain a NUL byte");
				return -EINVAL;
			}
		} else {
			c = (unsigned char)t[i++];
		}
		if (len == EXPR_MAX_STR) {
			specerr_set(p->err, col_at(p, start), NULL, "string literal is longer than %d bytes",
				    EXPR_MAX_STR);
			return -EINVAL;
		}
		buf[len++] = c;
	}
	p->tok.str = malloc(len + 1);
	if (!p->tok.str)
		return -ENOMEM;
	memcpy(p->tok.str, buf, len);
	p->tok.str[len] = '\0';
	p->tok.len = len;
	p->tok.kind = T_STR;
	p->tok.end = i + 1;
	return 0;
}

static int lex_char(struct parser *p, size_t i)
{
	const char *t = p->text;
	size_t start = i;
	unsigned char c;
	int rc;

	i++;
	if (t[i] == '\'') {
		specerr_set(p->err, col_at(p, start), "write a character like 'a' or '\\n'", "empty character literal");
		return -EINVAL;
	}
	if (t[i] == '\0') {
		specerr_set(p->err, col_at(p, start), "close it with '''", "unterminated character literal");
		return -EINVAL;
	}
	if (t[i] == '\\') {
		rc = lex_escape(p, &i, &c);
		if (rc)
			return rc;
	} else {
		c = (unsigned char)t[i++];
	}
	if (t[i] != '\'') {
		specerr_set(p->err, col_at(p, start), "a character literal holds one character, like 'a' or '\\n'",
			    "unterminated character literal");
		return -EINVAL;
	}
	p->tok.kind = T_INT;
	p->tok.ival = c;
	p->tok.end = i + 1;
	return 0;
}

/* Length of an l or ll suffix at s: 0, 1 or 2. */
static size_t lex_long_suffix(const char *s)
{
	if ((s[0] == 'l' && s[1] == 'l') || (s[0] == 'L' && s[1] == 'L'))
		return 2;
	return s[0] == 'l' || s[0] == 'L';
}

static int lex_number(struct parser *p, size_t i)
{
	const char *t = p->text;
	size_t start = i, end;
	unsigned base = 10;
	uint64_t v = 0;
	bool overflow = false, digits = false;
	char q[NEAR_MAX + 1];
	int d;

	if (t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X')) {
		base = 16;
		i += 2;
	} else if (t[i] == '0') {
		base = 8;
	}
	for (;;) {
		d = hex_value(t[i]);
		if (d < 0 || (base == 10 && d > 9) || (base == 8 && d > 9))
			break;
		if (base == 8 && d > 7) {
			specerr_set(p->err, col_at(p, i), "a number with a leading 0 is octal",
				    "invalid digit '%c' in octal literal", t[i]);
			return -EINVAL;
		}
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		v = v * base + (uint64_t)d;
		digits = true;
		i++;
	}
	/* suffix: u, l, ul, ll, ull, lu, llu (any case, but ll not lL) */
	if (t[i] == 'u' || t[i] == 'U') {
		i++;
		i += lex_long_suffix(t + i);
	} else {
		i += lex_long_suffix(t + i);
		if (t[i] == 'u' || t[i] == 'U')
			i++;
	}
	end = i;
	while (is_ident_char(t[end]))
		end++;
	quote_span(p, start, end, q, sizeof(q));
	if (t[end] == '.' && base != 16) {
		specerr_set(p->err, col_at(p, start), "use an integer", "floating-point number '%s.' is not supported",
			    q);
		return -EINVAL;
	}
	if (!digits || end != i) {
		specerr_set(p->err, col_at(p, start), NULL, "invalid integer literal '%s'", q);
		return -EINVAL;
	}
	if (overflow) {
		specerr_set(p->err, col_at(p, start), "the largest integer is 18446744073709551615",
			    "integer literal '%s' is too large", q);
		return -EINVAL;
	}
	p->tok.kind = T_INT;
	p->tok.ival = v;
	p->tok.end = end;
	return 0;
}

static bool is_arg_name(const char *s, size_t n)
{
	size_t i;

	if (n < 4 || strncmp(s, "arg", 3) != 0)
		return false;
	for (i = 3; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void lex_ident(struct parser *p, size_t i)
{
	const char *t = p->text;
	size_t start = i;

	if (t[i] == '$')
		i++;
	while (is_ident_char(t[i]))
		i++;
	p->tok.kind = T_IDENT;
	if (t[i] == '@' && strncmp(t + i + 1, "user", 4) == 0 && !is_ident_char(t[i + 5]) &&
	    is_arg_name(t + start, i - start)) {
		p->tok.user = true;
		i += 5;
	}
	p->tok.end = i;
}

/* A byte that cannot start any token. */
static int lex_bad(struct parser *p, size_t i)
{
	unsigned char c = (unsigned char)p->text[i];
	int col = col_at(p, i);

	switch (c) {
	case ';':
	case '{':
	case '}':
		specerr_set(p->err, col, "a filter is one expression: no statements or blocks",
			    "'%c' is not allowed in an expression", c);
		break;
	case '@':
		specerr_set(p->err, col, "bpftrace maps cannot be used; only argN@user takes '@'",
			    "'@' is not allowed in an expression");
		break;
	case '=':
		specerr_set(p->err, col, "use '==' to compare", "assignment '=' is not allowed");
		break;
	case '#':
		specerr_set(p->err, col, "comments are not allowed", "'#' is not allowed in an expression");
		break;
	case '`':
		specerr_set(p->err, col, NULL, "'`' is not allowed in an expression");
		break;
	default:
		if (c >= 0x20 && c < 0x7f)
			specerr_set(p->err, col, NULL, "unexpected character '%c'", c);
		else
			specerr_set(p->err, col, NULL, "unexpected byte '\\x%02x'", c);
		break;
	}
	return -EINVAL;
}

/* Read the next token into p->tok. */
static int lex(struct parser *p)
{
	const char *t = p->text;
	size_t i = p->pos, k, n;
	int rc = 0;

	free(p->tok.str);
	memset(&p->tok, 0, sizeof(p->tok));
	while (is_space(t[i]))
		i++;
	p->tok.start = i;
	if (t[i] == '\0') {
		p->tok.kind = T_END;
		p->tok.end = i;
	} else if (t[i] == '"') {
		rc = lex_string(p, i);
	} else if (t[i] == '\'') {
		rc = lex_char(p, i);
	} else if (t[i] >= '0' && t[i] <= '9') {
		rc = lex_number(p, i);
	} else if (is_ident_start(t[i]) || t[i] == '$') {
		lex_ident(p, i);
	} else if (t[i] == '/' && (t[i + 1] == '*' || t[i + 1] == '/')) {
		specerr_set(p->err, col_at(p, i), "remove the comment", "comments are not allowed");
		rc = -EINVAL;
	} else if ((t[i] == '+' || t[i] == '-') && t[i + 1] == t[i]) {
		specerr_set(p->err, col_at(p, i), "a filter cannot change a value", "'%c%c' is not allowed", t[i],
			    t[i]);
		rc = -EINVAL;
	} else {
		for (k = 0; k < sizeof(assign_ops) / sizeof(assign_ops[0]); k++) {
			n = strlen(assign_ops[k]);
			if (strncmp(t + i, assign_ops[k], n) == 0) {
				specerr_set(p->err, col_at(p, i), "a filter cannot change a value",
					    "assignment '%s' is not allowed", assign_ops[k]);
				return -EINVAL;
			}
		}
		for (k = 0; k < sizeof(puncts) / sizeof(puncts[0]); k++) {
			n = strlen(puncts[k].s);
			if (strncmp(t + i, puncts[k].s, n) == 0)
				break;
		}
		if (k == sizeof(puncts) / sizeof(puncts[0]))
			return lex_bad(p, i);
		p->tok.kind = puncts[k].kind;
		p->tok.end = i + n;
	}
	if (rc)
		return rc;
	p->pos = p->tok.end;
	return 0;
}

static bool tok_is(const struct parser *p, const char *word)
{
	size_t n = strlen(word);

	return p->tok.kind == T_IDENT && p->tok.end - p->tok.start == n &&
	       strncmp(p->text + p->tok.start, word, n) == 0;
}

/* ------------------------------------------------------------------------
 * Parser helpers
 */

enum {
	LV_LOR = 2,
	LV_LAND,
	LV_BOR,
	LV_BXOR,
	LV_BAND,
	LV_EQ,
	LV_REL,
	LV_SHIFT,
	LV_ADD,
	LV_MUL,
};

static bool binop_of(enum tok_kind k, enum expr_op *op, int *level)
{
	switch (k) {
	case T_LOR:
		*op = OP_LOR;
		*level = LV_LOR;
		return true;
	case T_LAND:
		*op = OP_LAND;
		*level = LV_LAND;
		return true;
	case T_PIPE:
		*op = OP_BOR;
		*level = LV_BOR;
		return true;
	case T_CARET:
		*op = OP_BXOR;
		*level = LV_BXOR;
		return true;
	case T_AMP:
		*op = OP_BAND;
		*level = LV_BAND;
		return true;
	case T_EQ:
		*op = OP_EQ;
		*level = LV_EQ;
		return true;
	case T_NE:
		*op = OP_NE;
		*level = LV_EQ;
		return true;
	case T_LT:
		*op = OP_LT;
		*level = LV_REL;
		return true;
	case T_LE:
		*op = OP_LE;
		*level = LV_REL;
		return true;
	case T_GT:
		*op = OP_GT;
		*level = LV_REL;
		return true;
	case T_GE:
		*op = OP_GE;
		*level = LV_REL;
		return true;
	case T_SHL:
		*op = OP_SHL;
		*level = LV_SHIFT;
		return true;
	case T_SHR:
		*op = OP_SHR;
		*level = LV_SHIFT;
		return true;
	case T_PLUS:
		*op = OP_ADD;
		*level = LV_ADD;
		return true;
	case T_MINUS:
		*op = OP_SUB;
		*level = LV_ADD;
		return true;
	case T_STAR:
		*op = OP_MUL;
		*level = LV_MUL;
		return true;
	case T_SLASH:
		*op = OP_DIV;
		*level = LV_MUL;
		return true;
	case T_PCT:
		*op = OP_MOD;
		*level = LV_MUL;
		return true;
	default:
		return false;
	}
}

static struct expr *node_new(enum expr_kind kind, int col)
{
	struct expr *e = calloc(1, sizeof(*e));

	if (e) {
		e->kind = kind;
		e->col = col;
	}
	return e;
}

/* Finish a leaf: step past its token; *out is set only on success. */
static int leaf_done(struct parser *p, struct expr *e, struct expr **out)
{
	int rc;

	if (!e)
		return -ENOMEM;
	rc = lex(p);
	if (rc) {
		expr_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* One more level of nesting at column col; the caller undoes it. */
static int enter(struct parser *p, size_t off)
{
	p->depth++;
	if (p->depth > EXPR_MAX_DEPTH) {
		specerr_set(p->err, col_at(p, off), "at most 64 levels of parentheses and operators",
			    "expression nested too deeply");
		return -EINVAL;
	}
	return 0;
}

static int expect(struct parser *p, enum tok_kind kind, const char *what, const char *hint)
{
	if (p->tok.kind != kind)
		return fail_at_tok(p, what, hint);
	return lex(p);
}

/* The lookahead as an owned C identifier of at most EXPR_MAX_IDENT bytes. */
static int take_ident(struct parser *p, const char *what, char **out)
{
	size_t n = p->tok.end - p->tok.start;
	const char *s = p->text + p->tok.start;

	if (p->tok.kind != T_IDENT || !is_ident_start(s[0]) || p->tok.user)
		return fail_at_tok(p, what, NULL);
	if (n > EXPR_MAX_IDENT) {
		specerr_set(p->err, col_at(p, p->tok.start), NULL, "name '%.32s...' is longer than %d characters", s,
			    EXPR_MAX_IDENT);
		return -EINVAL;
	}
	*out = strndup(s, n);
	if (!*out)
		return -ENOMEM;
	return lex(p);
}

/* e is used as a number: it must be neither a string literal nor a string. */
static int check_number(struct parser *p, const struct expr *e)
{
	if (e->kind == EXPR_STR) {
		specerr_set(p->err, e->col, "write comm == \"x\", args->f != \"x\" or STRCMP(\"x\", arg1)",
			    "a string literal can only be compared with == or != or given to STRCMP");
		return -EINVAL;
	}
	if (expr_is_string(e)) {
		specerr_set(p->err, e->col, "compare it with == or != to a string literal, or use STRCMP",
			    "string '%s' used as a number", e->kind == EXPR_MEMBER ? e->u.member.name : "comm");
		return -EINVAL;
	}
	return 0;
}

static int check_binary(struct parser *p, enum expr_op op, const struct expr *a, const struct expr *b, size_t opoff)
{
	int rc;

	if (op == OP_EQ || op == OP_NE) {
		if (a->kind == EXPR_STR && b->kind == EXPR_STR) {
			specerr_set(p->err, a->col, NULL, "cannot compare two string literals");
			return -EINVAL;
		}
		if (a->kind == EXPR_STR || b->kind == EXPR_STR)
			return 0;
		if (expr_is_string(a) == expr_is_string(b))
			return 0;
		specerr_set(p->err, col_at(p, opoff), "compare a string with a string literal",
			    "cannot compare a string with a number");
		return -EINVAL;
	}
	rc = check_number(p, a);
	if (!rc)
		rc = check_number(p, b);
	return rc;
}

static int parse_cond(struct parser *p, struct expr **out);
static int parse_unary(struct parser *p, struct expr **out);

/* ------------------------------------------------------------------------
 * Types
 */

struct type_name {
	const char *name;
	enum expr_type type;
};

static const struct type_name named_types[] = {
	{ "u8", ET_UINT8 },	  { "u16", ET_UINT16 },	   { "u32", ET_UINT32 },    { "u64", ET_UINT64 },
	{ "s8", ET_INT8 },	  { "s16", ET_INT16 },	   { "s32", ET_INT32 },	    { "s64", ET_INT64 },
	{ "int8", ET_INT8 },	  { "int16", ET_INT16 },   { "int32", ET_INT32 },   { "int64", ET_INT64 },
	{ "uint8", ET_UINT8 },	  { "uint16", ET_UINT16 }, { "uint32", ET_UINT32 }, { "uint64", ET_UINT64 },
	{ "bool", ET_UINT8 },	  { "size_t", ET_UINT64 }, { "ssize_t", ET_INT64 }, { "pid_t", ET_INT32 },
	{ "uid_t", ET_UINT32 },	  { "gid_t", ET_UINT32 },  { "off_t", ET_INT64 },   { "loff_t", ET_INT64 },
	{ "umode_t", ET_UINT16 },
};

static const char *const c_type_words[] = {
	"const", "struct", "signed", "unsigned", "short", "long", "int", "char",
};

static bool is_type_word(const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < sizeof(c_type_words) / sizeof(c_type_words[0]); k++)
		if (strlen(c_type_words[k]) == n && strncmp(s, c_type_words[k], n) == 0)
			return true;
	for (k = 0; k < sizeof(named_types) / sizeof(named_types[0]); k++)
		if (strlen(named_types[k].name) == n && strncmp(s, named_types[k].name, n) == 0)
			return true;
	return false;
}

/* With the lookahead at '(': does a type name follow, making it a cast? */
static bool cast_ahead(const struct parser *p)
{
	const char *t = p->text;
	size_t i = p->pos, start;

	while (is_space(t[i]))
		i++;
	start = i;
	while (is_ident_char(t[i]))
		i++;
	return i > start && is_ident_start(t[start]) && is_type_word(t + start, i - start);
}

/* C integer type words: signed, unsigned, short, long, int, char. */
static int parse_int_words(struct parser *p, enum expr_type *type)
{
	int nsigned = 0, nunsigned = 0, nshort = 0, nlong = 0, nint = 0, nchar = 0;
	size_t start = p->tok.start;
	bool any = false;
	int rc;

	for (;;) {
		if (tok_is(p, "signed"))
			nsigned++;
		else if (tok_is(p, "unsigned"))
			nunsigned++;
		else if (tok_is(p, "short"))
			nshort++;
		else if (tok_is(p, "long"))
			nlong++;
		else if (tok_is(p, "int"))
			nint++;
		else if (tok_is(p, "char"))
			nchar++;
		else
			break;
		any = true;
		rc = lex(p);
		if (rc)
			return rc;
	}
	if (!any)
		return fail_at_tok(p, "expected a type", NULL);
	if (nsigned + nunsigned > 1 || nshort > 1 || nlong > 2 || nint > 1 || nchar > 1 ||
	    (nchar && (nshort || nlong || nint)) || (nshort && nlong)) {
		specerr_set(p->err, col_at(p, start), "e.g. (int), (unsigned long), (u32), (struct sock *)",
			    "invalid type in cast");
		return -EINVAL;
	}
	if (nchar)
		*type = nunsigned ? ET_UINT8 : ET_INT8;
	else if (nshort)
		*type = nunsigned ? ET_UINT16 : ET_INT16;
	else if (nlong)
		*type = nunsigned ? ET_UINT64 : ET_INT64;
	else
		*type = nunsigned ? ET_UINT32 : ET_INT32;
	return 0;
}

/* type, with the lookahead just past '('; fills the cast fields of e. */
static int parse_type(struct parser *p, struct expr *e)
{
	size_t k, start;
	int rc;

	while (tok_is(p, "const")) {
		rc = lex(p);
		if (rc)
			return rc;
	}
	start = p->tok.start;
	if (tok_is(p, "struct")) {
		rc = lex(p);
		if (!rc)
			rc = take_ident(p, "expected a struct name", &e->u.cast.name);
		if (rc)
			return rc;
		e->u.cast.type = ET_STRUCT_PTR;
		if (p->tok.kind != T_STAR) {
			char hint[EXPR_MAX_IDENT + 32];

			snprintf(hint, sizeof(hint), "write (struct %s *)", e->u.cast.name);
			specerr_set(p->err, col_at(p, start), hint, "a cast to a struct must be to a pointer");
			return -EINVAL;
		}
	} else {
		for (k = 0; k < sizeof(named_types) / sizeof(named_types[0]); k++)
			if (tok_is(p, named_types[k].name))
				break;
		if (k < sizeof(named_types) / sizeof(named_types[0])) {
			e->u.cast.type = named_types[k].type;
			rc = lex(p);
		} else {
			rc = parse_int_words(p, &e->u.cast.type);
		}
		if (rc)
			return rc;
	}
	while (p->tok.kind == T_STAR) {
		if (e->u.cast.stars == 2)
			return fail_at_tok(p, "at most two '*' in a cast", "bpftrace takes struct T * and struct T **");
		e->u.cast.stars++;
		rc = lex(p);
		if (rc)
			return rc;
	}
	if (e->u.cast.type != ET_STRUCT_PTR && e->u.cast.stars) {
		/* a pointer to an integer is an address */
		e->u.cast.type = ET_UINT64;
		e->u.cast.stars = 0;
	}
	return 0;
}

/* '(' type ')' unary, with the lookahead at '('. */
/* NOLINTNEXTLINE(misc-no-recursion): the parser nests at most EXPR_MAX_DEPTH (64) levels: enter() checks */
static int parse_cast(struct parser *p, struct expr **out)
{
	struct expr *e;
	size_t start = p->tok.start;
	int rc;

	e = node_new(EXPR_CAST, col_at(p, start));
	if (!e)
		return -ENOMEM;
	rc = enter(p, start);
	if (!rc)
		rc = lex(p);
	if (!rc)
		rc = parse_type(p, e);
	if (!rc)
		rc = expect(p, T_RP, "expected ')' after the type", "e.g. (int), (u64), (struct sock *)");
	if (!rc)
		rc = parse_unary(p, &e->a);
	if (!rc)
		rc = check_number(p, e->a);
	if (rc)
		goto cleanup;
	p->depth--;
	*out = e;
	e = NULL;
cleanup:
	expr_free(e);
	return rc;
}

/* ------------------------------------------------------------------------
 * Names and primaries
 */

static int fail_unknown(struct parser *p, const char *s, size_t n)
{
	static const char known[] = "retval, args->FIELD, $pid, $tgid, $uid, $gid, $cpu, $task, "
				    "pid, tid, uid, gid, comm, cpu, cgroup";
	char hint[256];
	const char *t = p->text;
	size_t i = p->tok.end;
	int col = col_at(p, p->tok.start);

	while (is_space(t[i]))
		i++;
	if (s[0] == '$') {
		specerr_set(p->err, col, "the $-names are $pid, $tgid, $uid, $gid, $cpu and $task",
			    "unknown name '%.*s'", (int)(n > NEAR_MAX ? NEAR_MAX : n), s);
		return -EINVAL;
	}
	if (t[i] == '(')
		snprintf(hint, sizeof(hint), "function calls are not allowed; STRCMP(\"text\", EXPR) is the only one");
	else if (is_type_word(s, n))
		snprintf(hint, sizeof(hint), "a type can only be used in a cast, like (int)arg1");
	else if (p->names && p->names->max_arg > 0)
		snprintf(hint, sizeof(hint), "known names: arg1..arg%d, %s%s", p->names->max_arg, known,
			 p->names->nparams > 0 ? " and the probe's parameters" : "");
	else
		snprintf(hint, sizeof(hint), "known names: %s%s", known,
			 p->names && p->names->nparams > 0 ? " and the probe's parameters" : "");
	specerr_set(p->err, col, hint, "unknown name '%.*s'", (int)(n > NEAR_MAX ? NEAR_MAX : n), s);
	return -EINVAL;
}

static int parse_arg(struct parser *p, const char *s, size_t n, struct expr **out)
{
	int col = col_at(p, p->tok.start);
	int max = p->names ? p->names->max_arg : 0;
	struct expr *e;
	long v = 0;
	size_t i;

	for (i = 3; i < n && v <= 1000; i++)
		v = v * 10 + (s[i] - '0');
	if (v == 0) {
		specerr_set(p->err, col, "arguments are 1-based: arg1 is the first", "no argument '%.*s'",
			    (int)(n > NEAR_MAX ? NEAR_MAX : n), s);
		return -EINVAL;
	}
	if (s[3] == '0' || v > max) {
		char hint[64];

		if (max > 0)
			snprintf(hint, sizeof(hint), "the arguments are arg1..arg%d", max);
		else
			snprintf(hint, sizeof(hint), "this probe has no arguments");
		specerr_set(p->err, col, hint, "no argument '%.*s'", (int)(n > NEAR_MAX ? NEAR_MAX : n), s);
		return -EINVAL;
	}
	e = node_new(EXPR_ARG, col);
	if (e) {
		e->u.arg.n = (int)v;
		e->u.arg.user = p->tok.user;
	}
	return leaf_done(p, e, out);
}

/* 'args' '->' IDENT, with the lookahead at args. */
static int parse_tpfield(struct parser *p, struct expr **out)
{
	struct expr *e;
	int col = col_at(p, p->tok.start);
	int rc;

	rc = lex(p);
	if (rc)
		return rc;
	if (p->tok.kind != T_ARROW) {
		specerr_set(p->err, col, "use args->FIELD", "'args' needs a field");
		return -EINVAL;
	}
	rc = lex(p);
	if (rc)
		return rc;
	e = node_new(EXPR_TPFIELD, col);
	if (!e)
		return -ENOMEM;
	rc = take_ident(p, "expected a field name after 'args->'", &e->u.name);
	if (rc) {
		expr_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* 'STRCMP' '(' STRING ',' expr ')', with the lookahead at STRCMP. */
/* NOLINTNEXTLINE(misc-no-recursion): the parser nests at most EXPR_MAX_DEPTH (64) levels: enter() checks */
static int parse_strcmp(struct parser *p, struct expr **out)
{
	struct expr *e;
	int rc;

	e = node_new(EXPR_STRCMP, col_at(p, p->tok.start));
	if (!e)
		return -ENOMEM;
	rc = lex(p);
	if (rc)
		goto cleanup;
	if (p->tok.kind != T_LP) {
		rc = fail_at_tok(p, "expected '(' after STRCMP", "write STRCMP(\"text\", EXPR)");
		goto cleanup;
	}
	rc = enter(p, p->tok.start);
	if (!rc)
		rc = lex(p);
	if (rc)
		goto cleanup;
	if (p->tok.kind != T_STR) {
		rc = fail_at_tok(p, "STRCMP's first argument must be a string literal", "write STRCMP(\"text\", EXPR)");
		goto cleanup;
	}
	e->u.str.s = p->tok.str;
	e->u.str.len = p->tok.len;
	p->tok.str = NULL;
	rc = lex(p);
	if (!rc)
		rc = expect(p, T_COMMA, "expected ',' in STRCMP", "write STRCMP(\"text\", EXPR)");
	if (!rc)
		rc = parse_cond(p, &e->a);
	if (rc)
		goto cleanup;
	if (e->a->kind == EXPR_STR) {
		specerr_set(p->err, e->a->col, "write STRCMP(\"text\", EXPR)",
			    "STRCMP's second argument cannot be a string literal");
		rc = -EINVAL;
		goto cleanup;
	}
	rc = expect(p, T_RP, "expected ')' to close STRCMP", NULL);
	if (rc)
		goto cleanup;
	p->depth--;
	*out = e;
	e = NULL;
cleanup:
	expr_free(e);
	return rc;
}

static const struct {
	const char *name;
	enum expr_builtin b;
} dollar_names[] = {
	{ "$pid", EB_TID }, { "$tgid", EB_PID }, { "$uid", EB_UID }, { "$gid", EB_GID },
	{ "$cpu", EB_CPU }, { "$task", EB_TASK },
}, bare_names[] = {
	{ "pid", EB_PID }, { "tid", EB_TID }, { "uid", EB_UID }, { "gid", EB_GID },
	{ "comm", EB_COMM }, { "cpu", EB_CPU }, { "cgroup", EB_CGROUP },
};

static int make_builtin(struct parser *p, enum expr_builtin b, struct expr **out)
{
	struct expr *e = node_new(EXPR_BUILTIN, col_at(p, p->tok.start));

	if (e)
		e->u.builtin = b;
	return leaf_done(p, e, out);
}

/* NOLINTNEXTLINE(misc-no-recursion): the parser nests at most EXPR_MAX_DEPTH (64) levels: enter() checks */
static int parse_name(struct parser *p, struct expr **out)
{
	const char *s = p->text + p->tok.start;
	size_t n = p->tok.end - p->tok.start, k;
	const struct expr_names *names = p->names;

	if (p->tok.user)
		n -= 5; /* "@user" */
	if (is_arg_name(s, n))
		return parse_arg(p, s, n, out);
	if (tok_is(p, "retval"))
		return leaf_done(p, node_new(EXPR_RETVAL, col_at(p, p->tok.start)), out);
	if (tok_is(p, "args"))
		return parse_tpfield(p, out);
	if (tok_is(p, "STRCMP"))
		return parse_strcmp(p, out);
	for (k = 0; k < sizeof(dollar_names) / sizeof(dollar_names[0]); k++)
		if (tok_is(p, dollar_names[k].name))
			return make_builtin(p, dollar_names[k].b, out);
	for (k = 0; names && names->params && k < (size_t)names->nparams; k++) {
		const char *pn = names->params[k];

		if (pn && strlen(pn) == n && strncmp(pn, s, n) == 0) {
			struct expr *e = node_new(EXPR_PARAM, col_at(p, p->tok.start));

			if (!e)
				return -ENOMEM;
			e->u.param.index = (int)k;
			e->u.param.name = strdup(pn);
			if (!e->u.param.name) {
				expr_free(e);
				return -ENOMEM;
			}
			return leaf_done(p, e, out);
		}
	}
	for (k = 0; k < sizeof(bare_names) / sizeof(bare_names[0]); k++)
		if (tok_is(p, bare_names[k].name))
			return make_builtin(p, bare_names[k].b, out);
	return fail_unknown(p, s, n);
}

/* NOLINTNEXTLINE(misc-no-recursion): the parser nests at most EXPR_MAX_DEPTH (64) levels: enter() checks */
static int parse_primary(struct parser *p, struct expr **out)
{
	struct expr *e = NULL;
	size_t start = p->tok.start;
	int rc;

	switch (p->tok.kind) {
	case T_INT:
		e = node_new(EXPR_INT, col_at(p, start));
		if (e)
			e->u.ival = p->tok.ival;
		return leaf_done(p, e, out);
	case T_STR:
		e = node_new(EXPR_STR, col_at(p, start));
		if (!e)
			return -ENOMEM;
		e->u.str.s = p->tok.str;
		e->u.str.len = p->tok.len;
		p->tok.str = NULL;
		return leaf_done(p, e, out);
	case T_IDENT:
		return parse_name(p, out);
	case T_LP:
		rc = enter(p, start);
		if (!rc)
			rc = lex(p);
		if (!rc)
			rc = parse_cond(p, &e);
		if (!rc && p->tok.kind != T_RP) {
			char hint[64];

			snprintf(hint, sizeof(hint), "the '(' at column %d is not closed", col_at(p, start));
			rc = fail_at_tok(p, "expected ')'", hint);
		}
		if (!rc)
			rc = lex(p);
		if (rc) {
			expr_free(e);
			return rc;
		}
		p->depth--;
		*out = e;
		return 0;
	default:
		return fail_at_tok(p, "expected an expression", NULL);
	}
}

/* ------------------------------------------------------------------------
 * Operators
 */

/* NOLINTNEXTLINE(misc-no-recursion): the parser nests at most EXPR_MAX_DEPTH (64) levels: enter() checks */
static int parse_postfix(struct parser *p, struct expr **out)
{
	struct expr *base = NULL, *e = NULL;
	int entered = 0, rc;

	rc = parse_primary(p, &base);
	if (rc)
		goto cleanup;
	while (p->tok.kind == T_ARROW || p->tok.kind == T_DOT || p->tok.kind == T_LB) {
		bool index = p->tok.kind == T_LB;

		if (base->kind == EXPR_INT) {
			rc = fail_at_tok(p, "a number has no members or elements", NULL);
			goto cleanup;
		}
		rc = check_number(p, base);
		if (!rc)
			rc = enter(p, p->tok.start);
		if (rc)
			goto cleanup;
		entered++;
		e = node_new(index ? EXPR_INDEX : EXPR_MEMBER, base->col);
		if (!e) {
			rc = -ENOMEM;
			goto cleanup;
		}
		e->a = base;
		base = NULL;
		if (!index)
			e->u.member.arrow = p->tok.kind == T_ARROW;
		rc = lex(p);
		if (rc)
			goto cleanup;
		if (index) {
			rc = parse_cond(p, &e->b);
			if (!rc)
				rc = check_number(p, e->b);
			if (!rc)
				rc = expect(p, T_RB, "expected ']'", NULL);
		} else {
			rc = take_ident(p, "expected a member name", &e->u.member.name);
		}
		if (rc)
			goto cleanup;
		base = e;
		e = NULL;
	}
	*out = base;
	base = NULL;
cleanup:
	p->depth -= entered;
	expr_free(base);
	expr_free(e);
	return rc;
}

/* NOLINTNEXTLINE(misc-no-recursion): the parser nests at most EXPR_MAX_DEPTH (64) levels: enter() checks */
static int parse_unary(struct parser *p, struct expr **out)
{
	struct expr *e;
	enum expr_op op;
	size_t start = p->tok.start;
	int rc;

	switch (p->tok.kind) {
	case T_NOT:
		op = OP_NOT;
		break;
	case T_BNOT:
		op = OP_BNOT;
		break;
	case T_MINUS:
		op = OP_NEG;
		break;
	case T_PLUS:
		op = OP_PLUS;
		break;
	case T_STAR:
		op = OP_DEREF;
		break;
	case T_LP:
		if (cast_ahead(p))
			return parse_cast(p, out);
		return parse_postfix(p, out);
	default:
		return parse_postfix(p, out);
	}
	e = node_new(EXPR_UNARY, col_at(p, start));
	if (!e)
		return -ENOMEM;
	e->u.op = op;
	rc = enter(p, start);
	if (!rc)
		rc = lex(p);
	if (!rc)
		rc = parse_unary(p, &e->a);
	if (!rc)
		rc = check_number(p, e->a);
	if (rc) {
		expr_free(e);
		return rc;
	}
	p->depth--;
	*out = e;
	return 0;
}

/* The left-associative binary levels, LV_LOR (lowest) to LV_MUL. Every
 * operator of a chain counts as one level of nesting: the tree grows one
 * deeper with each. */
/* NOLINTNEXTLINE(misc-no-recursion): the parser nests at most EXPR_MAX_DEPTH (64) levels: enter() checks */
static int parse_binary(struct parser *p, int level, struct expr **out)
{
	struct expr *left = NULL, *right = NULL, *e;
	int col = col_at(p, p->tok.start);
	int entered = 0, oplevel, rc;
	enum expr_op op;

	if (level > LV_MUL)
		return parse_unary(p, out);
	rc = parse_binary(p, level + 1, &left);
	if (rc)
		goto cleanup;
	while (binop_of(p->tok.kind, &op, &oplevel) && oplevel == level) {
		size_t opoff = p->tok.start;

		rc = enter(p, opoff);
		if (rc)
			goto cleanup;
		entered++;
		rc = lex(p);
		if (!rc)
			rc = parse_binary(p, level + 1, &right);
		if (!rc)
			rc = check_binary(p, op, left, right, opoff);
		if (rc)
			goto cleanup;
		e = node_new(EXPR_BINARY, col);
		if (!e) {
			rc = -ENOMEM;
			goto cleanup;
		}
		e->u.op = op;
		e->a = left;
		e->b = right;
		left = e;
		right = NULL;
	}
	*out = left;
	left = NULL;
cleanup:
	p->depth -= entered;
	expr_free(left);
	expr_free(right);
	return rc;
}

/* NOLINTNEXTLINE(misc-no-recursion): the parser nests at most EXPR_MAX_DEPTH (64) levels: enter() checks */
static int parse_cond(struct parser *p, struct expr **out)
{
	struct expr *c = NULL, *e = NULL;
	int col = col_at(p, p->tok.start);
	int rc;

	rc = parse_binary(p, LV_LOR, &c);
	if (rc)
		goto cleanup;
	if (p->tok.kind != T_QUEST) {
		*out = c;
		return 0;
	}
	rc = check_number(p, c);
	if (!rc)
		rc = enter(p, p->tok.start);
	if (rc)
		goto cleanup;
	e = node_new(EXPR_COND, col);
	if (!e) {
		rc = -ENOMEM;
		goto cleanup;
	}
	e->a = c;
	c = NULL;
	rc = lex(p);
	if (!rc)
		rc = parse_cond(p, &e->b);
	if (!rc)
		rc = check_number(p, e->b);
	if (!rc)
		rc = expect(p, T_COLON, "expected ':' in 'a ? b : c'", NULL);
	if (!rc)
		rc = parse_cond(p, &e->c);
	if (!rc)
		rc = check_number(p, e->c);
	if (rc)
		goto cleanup;
	p->depth--;
	*out = e;
	e = NULL;
cleanup:
	expr_free(c);
	expr_free(e);
	return rc;
}

/* ------------------------------------------------------------------------
 * Public API
 */

int expr_parse(const char *text, int col0, const struct expr_names *names, struct expr **out, size_t *consumed,
	       struct spec_error *err)
{
	struct parser p;
	struct expr *e = NULL;
	int rc;

	*out = NULL;
	*consumed = 0;
	specerr_clear(err);
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.col0 = col0;
	p.names = names;
	p.err = err;
	rc = lex(&p);
	if (rc)
		goto cleanup;
	if (p.tok.kind == T_END || p.tok.kind == T_RP || p.tok.kind == T_COMMA) {
		char near[NEAR_MAX + 32];

		near_tok(&p, near, sizeof(near));
		specerr_set(err, col_at(&p, p.tok.start), NULL, "empty expression%s%s", p.tok.kind == T_END ? "" : " ",
			    p.tok.kind == T_END ? "" : near);
		rc = -EINVAL;
		goto cleanup;
	}
	rc = parse_cond(&p, &e);
	if (rc)
		goto cleanup;
	*consumed = p.tok.start;
	*out = e;
	e = NULL;
cleanup:
	if (rc == -ENOMEM)
		specerr_set(err, col_at(&p, p.tok.start), NULL, "out of memory");
	free(p.tok.str);
	expr_free(e);
	return rc;
}

/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
void expr_free(struct expr *e)
{
	if (!e)
		return;
	expr_free(e->a);
	expr_free(e->b);
	expr_free(e->c);
	switch (e->kind) {
	case EXPR_STR:
	case EXPR_STRCMP:
		free(e->u.str.s);
		break;
	case EXPR_TPFIELD:
		free(e->u.name);
		break;
	case EXPR_PARAM:
		free(e->u.param.name);
		break;
	case EXPR_CAST:
		free(e->u.cast.name);
		break;
	case EXPR_MEMBER:
		free(e->u.member.name);
		break;
	default:
		break;
	}
	free(e);
}

/* A copy of a string field; *ok turns false when allocation fails. */
static char *dup_field(const char *s, size_t len, bool *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = malloc(len + 1);
	if (!d) {
		*ok = false;
		return NULL;
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
struct expr *expr_dup(const struct expr *e)
{
	struct expr *n;
	bool ok = true;

	if (!e)
		return NULL;
	n = node_new(e->kind, e->col);
	if (!n)
		return NULL;
	n->u = e->u;
	switch (e->kind) {
	case EXPR_STR:
	case EXPR_STRCMP:
		n->u.str.s = dup_field(e->u.str.s, e->u.str.len, &ok);
		break;
	case EXPR_TPFIELD:
		n->u.name = dup_field(e->u.name, e->u.name ? strlen(e->u.name) : 0, &ok);
		break;
	case EXPR_PARAM:
		n->u.param.name = dup_field(e->u.param.name, e->u.param.name ? strlen(e->u.param.name) : 0, &ok);
		break;
	case EXPR_CAST:
		n->u.cast.name = dup_field(e->u.cast.name, e->u.cast.name ? strlen(e->u.cast.name) : 0, &ok);
		break;
	case EXPR_MEMBER:
		n->u.member.name = dup_field(e->u.member.name, e->u.member.name ? strlen(e->u.member.name) : 0, &ok);
		break;
	default:
		break;
	}
	if (!ok)
		goto fail;
	if (e->a) {
		n->a = expr_dup(e->a);
		if (!n->a)
			goto fail;
	}
	if (e->b) {
		n->b = expr_dup(e->b);
		if (!n->b)
			goto fail;
	}
	if (e->c) {
		n->c = expr_dup(e->c);
		if (!n->c)
			goto fail;
	}
	return n;
fail:
	expr_free(n);
	return NULL;
}

/* NOLINTNEXTLINE(misc-no-recursion): trees come from the parser only, at most EXPR_MAX_DEPTH (64) deep */
int expr_walk(const struct expr *e, int (*fn)(const struct expr *node, void *ud), void *ud)
{
	int rc;

	if (!e)
		return 0;
	rc = fn(e, ud);
	if (!rc)
		rc = expr_walk(e->a, fn, ud);
	if (!rc)
		rc = expr_walk(e->b, fn, ud);
	if (!rc)
		rc = expr_walk(e->c, fn, ud);
	return rc;
}

static int has_kind(const struct expr *node, void *ud)
{
	return node->kind == *(const enum expr_kind *)ud;
}

bool expr_has(const struct expr *e, enum expr_kind kind)
{
	return expr_walk(e, has_kind, &kind) != 0;
}

bool expr_is_string(const struct expr *e)
{
	if (!e)
		return false;
	if (e->kind == EXPR_BUILTIN)
		return e->u.builtin == EB_COMM;
	if (e->kind == EXPR_MEMBER)
		return e->u.member.name && strcmp(e->u.member.name, "comm") == 0;
	return false;
}
