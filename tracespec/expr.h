/* expr.h - filter and value expressions: a C-like grammar over a closed set
 * of names, parsed to an AST, printed back canonically and emitted as bpftrace.
 *
 * Filters (`arg3 > 1024`) and format values (`arg3`, `args->count`) of the
 * trace.py spec language are parsed here. Nothing is ever pasted: the emitter
 * writes bpftrace text only from the AST, so a spec cannot smuggle code in.
 *
 * Grammar (C precedence, lowest first):
 *   expr     := cond
 *   cond     := lor [ '?' expr ':' cond ]
 *   lor      := land { '||' land }        land := bor { '&&' bor }
 *   bor      := bxor { '|' bxor }         bxor := band { '^' band }
 *   band     := eq { '&' eq }             eq   := rel { ('=='|'!=') rel }
 *   rel      := shift { ('<'|'<='|'>'|'>=') shift }
 *   shift    := add { ('<<'|'>>') add }   add  := mul { ('+'|'-') mul }
 *   mul      := unary { ('*'|'/'|'%') unary }
 *   unary    := ('!'|'~'|'-'|'+'|'*') unary | '(' type ')' unary | postfix
 *   postfix  := primary { '->' IDENT | '.' IDENT | '[' expr ']' }
 *   primary  := INT | STRING | CHAR | name | '(' expr ')' | 'STRCMP' '(' STRING ',' expr ')'
 *   name     := 'arg1'..'arg6' ['@user'] | 'retval' | 'args' '->' IDENT
 *             | '$pid' | '$tgid' | '$uid' | '$gid' | '$cpu' | '$task'
 *             | 'pid' | 'tid' | 'uid' | 'gid' | 'comm' | 'cpu' | 'cgroup'
 *             | a signature parameter name
 *   type     := 'int' | 'unsigned' ['int'] | 'signed' ['int'] | 'long' ['long'] ['int']
 *             | 'unsigned long' ['long'] | 'short' | 'unsigned short' | 'char'
 *             | 'unsigned char' | 'signed char' | 'u8'..'u64' | 's8'..'s64'
 *             | 'int8'..'int64' | 'uint8'..'uint64' | 'bool' | 'size_t' | 'ssize_t'
 *             | 'pid_t' | 'uid_t' | 'gid_t' | 'off_t' | 'loff_t' | 'umode_t'
 *             | 'struct' IDENT '*' {'*'}    ('const' may stand in front of any of
 *               these; a '*' after an integer type makes it a pointer: uint64)
 *   INT      := decimal, 0x hex, 0 octal; an optional u/l/ul/ull suffix; at most 2^64-1
 *   STRING   := "..." with C escapes \n \t \\ \" \' \0 \xHH \ooo
 *   CHAR     := 'c' or '\n' etc.: an INT of that byte's value
 *
 * Semantics follow trace.py: arg1 is the first argument (bpftrace's arg0);
 * $pid is the thread id and $tgid the process id; bare pid/tid/... are
 * bpftrace's names (pid = process id); STRCMP("lit", e) is true when the
 * string at e starts with "lit".
 */
#ifndef DIAG_EXPR_H
#define DIAG_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracespec/specerr.h"
#include "tracespec/strbuf.h"

#define EXPR_MAX_STR 255 /* bytes in a string literal (decoded); a spec's format too */

enum expr_kind {
	EXPR_INT,     /* u.ival */
	EXPR_STR,     /* u.str: a string literal (only valid as STRCMP's first operand or
	                  compared with == / != to a string-valued operand) */
	EXPR_ARG,     /* u.arg: argN, 1-based; user = written argN@user */
	EXPR_RETVAL,  /* retval */
	EXPR_TPFIELD, /* args->NAME: u.name */
	EXPR_BUILTIN, /* u.builtin */
	EXPR_PARAM,   /* a signature parameter: u.param */
	EXPR_UNARY,   /* u.op with a */
	EXPR_BINARY,  /* u.op with a, b */
	EXPR_COND,    /* a ? b : c */
	EXPR_CAST,    /* u.cast applied to a */
	EXPR_MEMBER,  /* a->NAME or a.NAME: u.member */
	EXPR_INDEX,   /* a[b] */
	EXPR_STRCMP,  /* STRCMP(u.str, a) */
};

enum expr_builtin {
	EB_PID, /* process id: trace.py $tgid, bpftrace pid */
	EB_TID, /* thread id: trace.py $pid, bpftrace tid */
	EB_UID,
	EB_GID,
	EB_COMM, /* a string */
	EB_CPU,
	EB_CGROUP,
	EB_TASK, /* $task: bpftrace curtask */
};

enum expr_op {
	/* unary */
	OP_NOT,
	OP_BNOT,
	OP_NEG,
	OP_PLUS,
	OP_DEREF,
	/* binary */
	OP_MUL,
	OP_DIV,
	OP_MOD,
	OP_ADD,
	OP_SUB,
	OP_SHL,
	OP_SHR,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_EQ,
	OP_NE,
	OP_BAND,
	OP_BXOR,
	OP_BOR,
	OP_LAND,
	OP_LOR,
};

enum expr_type {
	ET_INT8,
	ET_UINT8,
	ET_INT16,
	ET_UINT16,
	ET_INT32,
	ET_UINT32,
	ET_INT64,
	ET_UINT64,
	ET_STRUCT_PTR, /* (struct NAME *...): cast.name, cast.stars */
};

struct expr {
	enum expr_kind kind;
	int col;		/* 0-based column of the node's first token in the spec text */
	struct expr *a, *b, *c; /* operands, as the kind says; NULL otherwise */
	union {
		uint64_t ival;
		struct {
			char *s;
			size_t len;
		} str; /* decoded bytes, NUL-terminated */
		struct {
			int n;
			bool user;
		} arg;
		char *name; /* EXPR_TPFIELD */
		enum expr_builtin builtin;
		struct {
			int index;
			char *name;
		} param;
		enum expr_op op;
		struct {
			enum expr_type type;
			char *name;
			int stars;
		} cast;
		struct {
			char *name;
			bool arrow;
		} member;
	} u;
};

/* What names a parse may accept besides the closed set. */
struct expr_names {
	const char *const *params; /* signature parameter names, or NULL */
	int nparams;
	int max_arg; /* highest argN accepted (6 for trace.py) */
};

/* Parse one expression from text, which starts at column col0 of the spec.
 * Parsing stops before the first token that cannot continue the expression
 * at nesting depth 0 (a ',' or an unmatched ')' or the end of the text);
 * *consumed is set to the bytes used (trailing spaces included). Depth is
 * capped (64) so hostile input cannot exhaust the stack.
 * Strings are checked here: a string literal inside an expression must be
 * STRCMP's first operand or one side of == / != whose other side is not a
 * literal, and a string (comm) must not be used as a number; anything else
 * is -EINVAL. A lone string literal parses (a format is one); expr_emit()
 * refuses it.
 * Returns 0 with *out set (free with expr_free()), -EINVAL with err filled
 * (column, message, hint), or -ENOMEM. */
int expr_parse(const char *text, int col0, const struct expr_names *names, struct expr **out, size_t *consumed,
	       struct spec_error *err);

/* Free an expression tree; NULL is a no-op. */
void expr_free(struct expr *e);

/* A deep copy, or NULL on allocation failure. */
struct expr *expr_dup(const struct expr *e);

/* Append the canonical spec text of e: minimal spaces around binary operators
 * (`arg3 > 1024`), parentheses only where precedence needs them, trace.py's
 * spellings for names ($pid for the thread id, $tgid for the process id, $uid,
 * $gid, $cpu, $task) and bare comm and cgroup. Parsing the result gives an
 * equal tree. Returns 0 or the strbuf error. */
int expr_print(const struct expr *e, struct strbuf *out);

/* Call fn on every node, parents first; stop and return fn's value when it
 * is not 0. */
int expr_walk(const struct expr *e, int (*fn)(const struct expr *node, void *ud), void *ud);

/* True when some node of e has this kind. */
bool expr_has(const struct expr *e, enum expr_kind kind);

/* True when e's value is a string (comm) rather than an integer. */
bool expr_is_string(const struct expr *e);

/* How the emitter spells leaves it cannot know by itself: EXPR_ARG,
 * EXPR_RETVAL, EXPR_TPFIELD and EXPR_PARAM depend on the probe the
 * expression is lowered onto. leaf() appends the bpftrace text for e to out
 * and returns 0, or fills err and returns -EINVAL (e.g. "retval in an entry
 * probe"). */
struct expr_emit_ctx {
	int (*leaf)(void *ud, const struct expr *e, struct strbuf *out, struct spec_error *err);
	void *ud;
	/* Optional: true when leaf e is already a string in bpftrace (a char
	 * array field such as args->prev_comm), so it is compared as is rather
	 * than through str(). NULL: only expr_is_string() decides. */
	bool (*is_string)(void *ud, const struct expr *e);
	/* Optional: true when e is a pointer. A pointer that C takes as a truth
	 * value (an operand of !, && or ||, the condition of ?:) is emitted as
	 * (e != 0), as bpftrace takes no pointer there. NULL: none is. */
	bool (*is_pointer)(void *ud, const struct expr *e);
};

/* Append bpftrace text for e: every binary operation parenthesised; casts as
 * bpftrace types ((int32), (uint64), (struct sock *)); builtins as pid, tid,
 * uid, gid, comm, cpu, cgroup, curtask; a comparison of a non-string operand
 * with a string literal as str(operand) == "lit"; STRCMP("lit", e) as
 * (strncmp(str(E), "lit", LEN) == 0); string literals re-escaped so only
 * printable ASCII (and \n \t \" \\ escapes) appear in the output. Returns 0,
 * -EINVAL (err filled), or the strbuf error. */
int expr_emit(const struct expr *e, const struct expr_emit_ctx *ctx, struct strbuf *out, struct spec_error *err);

/* Append a bpftrace string literal for bytes s[0..len): "..." with \" \\ \n
 * \t escaped and every other byte outside printable ASCII written as a
 * three-digit octal escape (\ooo, which bpftrace 0.17 and later read back
 * exactly). Returns 0 or the strbuf error. */
int expr_emit_string(const char *s, size_t len, struct strbuf *out);

/* The bpftrace spelling of a cast type ("int32", "uint64"); NULL for
 * ET_STRUCT_PTR. */
const char *expr_type_name(enum expr_type t);

#endif /* DIAG_EXPR_H */
