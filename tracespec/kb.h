/* kb.h - the symptom knowledge base behind `diagagent suggest`: loaded, checked.
 *
 * The knowledge lives in a text file a person reads and extends
 * (tracespec/symptoms.kb; its header documents the format). Each symptom
 * family holds PCRE2 patterns with weights, the errnos it covers, and ready
 * specs with a reason each, plus alternatives for hosts where a spec cannot
 * attach. Top-level entries hold the vocabulary of the typo corrector, the
 * patterns that pull PIDs, process names and errno numbers out of a text,
 * and well-known process names.
 *
 * Loading checks everything it can without the host: every pattern compiles,
 * every spec template parses (with its placeholders filled), weights are in
 * range, names are unique. The first problem is reported with its line.
 * A loaded knowledge base is read-only and owns everything it points to.
 */
#ifndef DIAG_KB_H
#define DIAG_KB_H

#include <stdbool.h>
#include <stddef.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "tracespec/strbuf.h"

#define KB_MAX_BYTES  (4 << 20) /* largest knowledge file accepted */
#define KB_MAX_LINE   4096	/* longest line */
#define KB_MAX_ERRNOS 16	/* errnos one family lists */
#define KB_MAX_WORD   48	/* longest vocabulary word or process name */

/* How a PID or process name found in the text is carried into a family's
 * specs: by PID (the name when no PID was given), by name only (the PID of
 * a crashed or killed process is gone), or not at all (system-wide events
 * such as the OOM killer, which fire in whichever process is running). */
enum kb_carry { KB_CARRY_PID, KB_CARRY_NAME, KB_CARRY_NONE };

struct kb_pattern {
	pcre2_code *re;
	double weight; /* (0, 1] */
	int line;
};

struct kb_suggestion {
	double factor;	/* (0, 1]: scales the family's score */
	char *spec;	/* template: {errno} and {errno_name} filled at query time */
	char *reason;	/* why this target, for a person */
	char **instead; /* nearest alternatives, in order, when spec cannot attach */
	int ninstead;
	int line;
};

struct kb_family {
	char *id; /* [a-z0-9-]+, unique */
	char *title;
	int line;
	struct kb_pattern *patterns;
	int npatterns;
	int errnos[KB_MAX_ERRNOS]; /* the errnos this family is about, in order */
	int nerrnos;
	bool errno_any;	       /* any errno the text names is evidence */
	double syscall_weight; /* evidence of a syscall named in the text; 0 for none */
	double errno_weight;   /* evidence of a listed errno in the text */
	enum kb_carry carry;
	int starter; /* > 0: offered, in this order, when nothing matches */
	struct kb_suggestion *sugg;
	int nsugg;
};

/* An `extract` pattern: its named groups pid, name and errno say what it finds. */
struct kb_extract {
	pcre2_code *re;
	int line;
};

struct kb {
	char *source;	  /* the file name, or "built-in" */
	double threshold; /* a family below this score is not offered */
	struct kb_family *fam;
	int nfam;
	struct kb_extract *extract;
	int nextract;
	char **words; /* vocabulary, sorted, unique, lowercase */
	int nwords;
	char **procs; /* well-known process names, lowercase */
	int nprocs;
	char **stopwords; /* never a process name, lowercase */
	int nstopwords;
};

struct kb_error {
	char source[128]; /* file name or "built-in" */
	int line;	  /* 1-based; 0 when the error is not on one line */
	char msg[256];
	char hint[256];
};

/* Load a knowledge base from text[0..len). source names it in errors.
 * Returns 0 with *out set (kb_free() it), or -EINVAL with err filled (the
 * line and what is wrong there), -E2BIG when the text is over KB_MAX_BYTES,
 * or -ENOMEM. */
int kb_load_text(const char *text, size_t len, const char *source, struct kb **out, struct kb_error *err);

/* Load the file at path. The same returns, plus -errno when it cannot be read. */
int kb_load_file(const char *path, struct kb **out, struct kb_error *err);

/* Load the knowledge base compiled into the binary (tracespec/symptoms.kb
 * as it was at build time). The same returns as kb_load_text(). */
int kb_load_builtin(struct kb **out, struct kb_error *err);

/* Load $DIAGAGENT_KB when set, else the built-in one. */
int kb_load_default(struct kb **out, struct kb_error *err);

/* "FILE:LINE: MESSAGE" (without the hint) into buf. Returns buf. */
const char *kb_error_text(const struct kb_error *err, char *buf, size_t size);

/* Free a knowledge base; NULL is a no-op. */
void kb_free(struct kb *kb);

/* What a template's placeholders stand for. */
struct kb_vars {
	int errnum;	     /* {errno} (2), {errno_name} (ENOENT); 0 for none */
	const char *syscall; /* {syscall} (openat); NULL for none */
};

/* Fill a spec or reason template from v. "{{" is a literal '{'. Returns 0,
 * -EINVAL for an unknown placeholder or one v has no value for, or the
 * strbuf's error. */
int kb_fill(const char *tmpl, const struct kb_vars *v, struct strbuf *out);

/* True when tmpl can be filled from v (every placeholder has a value). */
bool kb_fillable(const char *tmpl, const struct kb_vars *v);

/* True when the lowercase word is in the vocabulary. */
bool kb_has_word(const struct kb *kb, const char *word, size_t len);

/* Errno names and texts, from the C library. */
#define KB_ERRNO_MAX 133 /* highest errno looked at (EHWPOISON on Linux) */

/* The errno called name ("ENOENT", any case), or 0. */
int kb_errno_by_name(const char *name, size_t len);

/* "ENOENT" for 2; NULL for an errno without a name. */
const char *kb_errno_name(int errnum);

#endif /* DIAG_KB_H */
