/* suggest.h - "what should I trace?": a symptom in words to ranked, runnable specs.
 *
 * The engine reads the text the way a person on call writes it: it corrects
 * typos towards the knowledge base's vocabulary, finds errnos (names,
 * numbers, strerror texts), PIDs and process names, scores every symptom
 * family by the patterns that matched (each match is independent evidence:
 * score = 1 - product of (1 - weight)), and offers the families' specs,
 * filled in (the errno, the PID or name as -p / -n), best first. Every spec
 * is lowered with the host's capabilities before it is offered; one that
 * cannot attach here is replaced by its nearest alternative that can, and
 * said so. When nothing matches, the knowledge base's starting points come
 * back instead, marked as such.
 *
 * Ranking is deterministic: score, then the knowledge base's order.
 */
#ifndef DIAG_SUGGEST_H
#define DIAG_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "tracespec/kb.h"
#include "tracespec/lower.h"
#include "tracespec/strbuf.h"

#define SUGGEST_MAX_TEXT      16384 /* longest query accepted */
#define SUGGEST_MAX_ITEMS     50    /* most suggestions one answer holds */
#define SUGGEST_DEFAULT_ITEMS 5
#define SUGGEST_MAX_ERRNOS    8
#define SUGGEST_MAX_FIXES     16
#define SUGGEST_COMM_MAX      15 /* a process name is the kernel's comm: 15 bytes */

struct suggest_item {
	const struct kb_family *fam;
	char *spec;		 /* filled in; the one that attaches here */
	char *target;		 /* "openat", "sched:sched_switch", "getaddrinfo" */
	const char *target_type; /* "syscall", "tracepoint", "kprobe", "kfunc", "uprobe", "usdt" */
	char *library;		 /* uprobe / usdt: the binary's path; else NULL */
	double score;		 /* 0..1; 0 for a starting point */
	char *reason;		 /* one line: the words that matched, then why */
	char *instead_of;	 /* the better spec that cannot attach here, or NULL */
	char *instead_why;	 /* why it cannot */
	int pid;		 /* carried as -p; 0 for none */
	char *process;		 /* carried as -n; NULL for none */
};

struct suggest_unavailable {
	const struct kb_family *fam;
	char *spec;
	char *why;
};

struct suggest_fix {
	char from[KB_MAX_WORD + 1];
	char to[KB_MAX_WORD + 1];
};

struct suggest_result {
	bool matched; /* false: nothing matched; items are starting points */
	struct suggest_item *items;
	int nitems;
	struct suggest_unavailable *unavail; /* best specs of matched families that cannot attach here */
	int nunavail;
	int pid;			    /* found in the text; 0 for none */
	char process[SUGGEST_COMM_MAX + 1]; /* found in the text; "" for none */
	char syscall[SYSCALLS_NAME_MAX];    /* a syscall the text names; "" for none */
	int errnos[SUGGEST_MAX_ERRNOS];	    /* found in the text, in order */
	int nerrnos;
	struct suggest_fix fixes[SUGGEST_MAX_FIXES]; /* typo corrections made */
	int nfixes;
};

/* Answer text with at most max suggestions (1..SUGGEST_MAX_ITEMS), each
 * lowered with env. Returns 0 with *out filled (suggest_release() it),
 * -EINVAL for an empty text or a bad max, -E2BIG for a text longer than
 * SUGGEST_MAX_TEXT, or -ENOMEM; err says which in one line. */
int suggest_query(const struct kb *kb, const char *text, const struct lower_env *env, int max,
		  struct suggest_result *out, char *err, size_t size);

void suggest_release(struct suggest_result *r);

/* Append the command that runs item: diagagent trace [-p PID | -n NAME] 'SPEC',
 * quoted for a POSIX shell. Returns 0 or the strbuf's error. */
int suggest_command(const struct suggest_item *item, struct strbuf *out);

/* Lower spec text with env, generate its program (as `trace` would) and name its target: fills target ("openat"),
 * type ("syscall") and library (a path for uprobes and USDT; "" otherwise).
 * Returns 0, or the spec_parse()/lower_spec()/codegen_emit() error with why filled. */
int suggest_target(const char *spec, const struct lower_env *env, char *target, size_t tsize, const char **type,
		   char *library, size_t lsize, char *why, size_t wsize);

#endif /* DIAG_SUGGEST_H */
