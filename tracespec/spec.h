/* spec.h - the trace spec model: BCC trace.py's probe language, parsed.
 *
 *   [p|r|t|u]:[lib]:func[+off][(signature)] [(filter)] ["format"[, value...]]
 *
 * A bare name means p::name; two parts mean lib:func (so `r:malloc` is a
 * uprobe on malloc in a library named "r", as in trace.py); t:cat:event is a
 * tracepoint; u:lib:probe and u:lib:provider:probe are USDT probes. A '('
 * directly after the target starts a C signature; a filter needs whitespace
 * before it. Filters and values are expressions (expr.h); the format takes
 * trace.py's conversions. The model holds only what was written, checked for
 * shape: whether a target exists on this host is decided when lowering.
 *
 * Specs are built by spec_parse() from text, or by the builder (below) from
 * fields, never by pasting fields into text. spec_print() gives canonical
 * text; parsing it again gives an equal spec.
 */
#ifndef DIAG_SPEC_H
#define DIAG_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "tracespec/expr.h"
#include "tracespec/specerr.h"
#include "tracespec/strbuf.h"

#define SPEC_MAX_LEN \
	16384		   /* longest spec text accepted: 4x the longest a user writes,
                                  as canonical text escapes a byte in up to 4 */
#define SPEC_MAX_VALUES 16 /* most format values */
#define SPEC_MAX_PARAMS 6  /* most signature parameters (arg1..arg6) */
#define SPEC_MAX_ARG	6  /* argN goes up to arg6, as in trace.py */

enum spec_type {
	SPEC_ENTRY = 'p',  /* kprobe / uprobe (or a syscall's entry) */
	SPEC_RETURN = 'r', /* kretprobe / uretprobe (or a syscall's exit) */
	SPEC_TRACEPOINT = 't',
	SPEC_USDT = 'u',
};

/* A signature parameter: `struct sock *sk`, `const char *path`, `int fd`. */
struct spec_param {
	char *name;
	enum expr_type type; /* ET_STRUCT_PTR for struct pointers */
	char *struct_name;   /* for ET_STRUCT_PTR */
	int stars;	     /* pointer depth of a struct pointer */
	bool is_string;	     /* char * / const char *: %s reads it as a string */
};

/* A format conversion of trace.py: "d", "u", "ld", "lu", "lld", "llu", "hd",
 * "hu", "x", "lx", "llx", "c", "s", "K", "U". */
struct spec_conv {
	char conv[4];
	int col; /* column of the '%' in the spec text */
};

struct trace_spec {
	enum spec_type type;
	char *library;	 /* p/r/u: the library or binary as written; "" = kernel */
	char *function;	 /* p/r: function; t: event; u: probe name */
	char *category;	 /* t: category; u: provider (NULL when not given) */
	uint64_t offset; /* p: func+offset */
	bool has_offset;
	bool has_signature; /* written with (...), even when empty */
	struct spec_param *params;
	int nparams;
	struct expr *filter;	 /* NULL when none */
	char *format;		 /* the decoded format string; NULL when none */
	struct spec_conv *convs; /* one per value, in order */
	struct expr **values;
	int nvalues;
	char *text; /* the text parsed (or the canonical text, from the builder) */
};

/* Parse one spec. Returns 0 with *out set (spec_free() it), -EINVAL with err
 * filled (column in text, message, hint), -E2BIG for text longer than
 * SPEC_MAX_LEN, or -ENOMEM. */
int spec_parse(const char *text, struct trace_spec **out, struct spec_error *err);

/* Free a spec; NULL is a no-op. */
void spec_free(struct trace_spec *s);

/* Append the canonical text of s: `p::vfs_read`, `r:c:malloc`, `t:sched:sched_switch`,
 * the signature, ` (filter)`, ` "format", v1, v2`. Returns 0 or the strbuf error. */
int spec_print(const struct trace_spec *s, struct strbuf *out);

/* Check a spec's shape as spec_parse() does after parsing (the builder
 * uses it too): names, offsets only on entry probes, no signature on t/u,
 * retval only in return probes, as many values as conversions. Returns 0 or
 * -EINVAL with err filled. */
int spec_check(const struct trace_spec *s, struct spec_error *err);

/* True when s traces the kernel (p/r without a library, or t). */
bool spec_is_kernel(const struct trace_spec *s);

/* Parse trace.py's format string conversions out of fmt (decoded text).
 * Fills convs (at most max) and returns their count, or -EINVAL with err
 * filled for an unknown conversion, a lone '%' or a format longer than
 * EXPR_MAX_STR bytes; col0 is the column of the
 * format's first character in the spec text. */
int spec_parse_format(const char *fmt, int col0, struct spec_conv *convs, int max, struct spec_error *err);

/* Parse a C signature's parameter list (the text between the parentheses).
 * Returns the number of parameters written to params (at most max), or
 * -EINVAL with err filled, or -ENOMEM. On error nothing needs freeing. */
int spec_parse_signature(const char *text, int col0, struct spec_param *params, int max, struct spec_error *err);

/* ---- the builder: specs from fields, for code that has no text ---------- *
 *
 * Fluent: each call returns the builder, so calls chain; the first error
 * sticks and later calls do nothing; spec_builder_build() reports it.
 *
 *   struct spec_error err;
 *   struct trace_spec *s = spec_builder_build(
 *       spec_builder_value(
 *           spec_builder_format(
 *               spec_builder_filter(spec_builder_new(SPEC_ENTRY, NULL, "sys_read"),
 *                                   "arg3 > 1024"),
 *               "read %d bytes"),
 *           "arg3"),
 *       &err);
 */
struct spec_builder;

/* Start a spec of type with library (NULL or "" for the kernel; the
 * provider for a USDT probe goes in spec_builder_category()) and target (a
 * function, an event, or a USDT probe name). Never returns NULL: an
 * allocation failure is reported by spec_builder_build(). */
struct spec_builder *spec_builder_new(enum spec_type type, const char *library, const char *target);

/* The tracepoint category, or the USDT provider. */
struct spec_builder *spec_builder_category(struct spec_builder *b, const char *category);

/* A function offset (entry probes only). */
struct spec_builder *spec_builder_offset(struct spec_builder *b, uint64_t offset);

/* A filter expression, parsed by the expression grammar. */
struct spec_builder *spec_builder_filter(struct spec_builder *b, const char *expr);

/* The format string, as it would stand between the quotes (already decoded:
 * a quote is a quote, not \"). */
struct spec_builder *spec_builder_format(struct spec_builder *b, const char *format);

/* One more format value, parsed by the expression grammar. */
struct spec_builder *spec_builder_value(struct spec_builder *b, const char *expr);

/* Check the whole spec (as spec_parse() would) and return it, or NULL with
 * err filled and errno set (ENOMEM when out of memory, EINVAL for a bad
 * field). Frees the builder either way. */
struct trace_spec *spec_builder_build(struct spec_builder *b, struct spec_error *err);

#endif /* DIAG_SPEC_H */
