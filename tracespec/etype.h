/* etype.h - the types of filter and value expressions, as bpftrace will see them.
 *
 * bpftrace refuses some C that a spec may hold: a pointer as an operand of
 * -, ~, *, /, %, <<, >>, &, |, ^ or as a ?: result (one that C reads as a
 * truth value, under !, && or || or as a ?: condition, the emitter writes
 * as (p != 0)); a string as a condition; [] on an integer or a string; -> on a
 * struct by value or on a pointer to no struct (char *), . on a pointer or on
 * an integer; * on a struct, a string or an array; a member a struct does not have (at any depth:
 * $task->mm->nosuch; in a uprobe, of the binary's own structs too). It would say so only when the trace
 * starts. This pass finds them first, with the column and a hint, so every
 * program the code generator emits compiles. Kernel types come from BTF
 * (ktypes.h); the leaves (arguments, fields, parameters) from the caller,
 * which knows the probe. Where a type cannot be known, nothing is refused.
 */
#ifndef DIAG_ETYPE_H
#define DIAG_ETYPE_H

#include <stdbool.h>

#include "tracespec/expr.h"
#include "tracespec/ktypes.h"

struct etype_ctx {
	/* The type of a leaf (EXPR_ARG, EXPR_RETVAL, EXPR_TPFIELD, EXPR_PARAM)
	 * on the probe at hand; KT_UNKNOWN when it cannot be told. */
	void (*leaf)(void *ud, const struct expr *e, struct ktype *out);
	void *ud;
	/* A uprobe's binary: `struct NAME` is its DWARF's when that has one
	 * (dwtypes.h), the kernel's BTF's otherwise. NULL for every other probe
	 * (USDT too): kernel types only. curtask is the kernel's everywhere. */
	const char *binary;
};

/* The type of e. Returns 0 with *out filled, or -EINVAL with err filled
 * (column, what bpftrace would refuse, and a hint). */
int etype_of(const struct expr *e, const struct etype_ctx *ctx, struct ktype *out, struct spec_error *err);

/* Check a filter: its type, and that it can be a condition. */
int etype_check_filter(const struct expr *e, const struct etype_ctx *ctx, struct spec_error *err);

/* The type of a leaf field of a tracepoint or syscall format ("const char *",
 * "struct sockaddr *", "char[16]", "unsigned int"). */
void etype_of_ctype(const char *ctype, bool is_pointer, bool is_string, struct ktype *out);

#endif /* DIAG_ETYPE_H */
