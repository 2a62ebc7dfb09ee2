/* syscalls.h - syscall, tracepoint and kernel-function facts read from this kernel.
 *
 * The code generator names syscall arguments after the syscall tracepoint's
 * format (arg3 of read is args->count), checks tracepoint fields, and names
 * close matches when a syscall, tracepoint or kernel function does not exist.
 * Everything comes from tracefs (events/.../format, available_events) and
 * /proc/kallsyms, read at the time of the call; nothing is compiled in except
 * the table of well-known renames (stat -> newstat, ...).
 */
#ifndef DIAG_SYSCALLS_H
#define DIAG_SYSCALLS_H

#include <stdbool.h>

#define SYSCALLS_NAME_MAX 64
#define TP_FIELDS_MAX	  64

struct tp_field {
	char name[SYSCALLS_NAME_MAX]; /* "filename" */
	char type[96];		      /* "const char *", "unsigned int", "char[16]" */
	int size;		      /* bytes */
	bool is_signed;
	bool is_pointer; /* the type ends in '*' */
	bool is_string;	 /* a char pointer or a char array */
};

struct tp_format {
	int nfields; /* the event's own fields; common_* and __syscall_nr are left out */
	struct tp_field fields[TP_FIELDS_MAX];
};

/* Read tracefs/events/CATEGORY/EVENT/format. Returns 0, -ENOENT when the
 * tracepoint does not exist, -EINVAL when the format cannot be parsed, or
 * another -errno. CATEGORY and EVENT must be plain names ([A-Za-z0-9_]);
 * anything else is -EINVAL, never a path outside tracefs. */
int syscalls_tp_format(const char *tracefs, const char *category, const char *event, struct tp_format *out);

/* The arguments of syscall NAME (no sys_ prefix) from its sys_enter_NAME
 * tracepoint, in order: out->fields[0] is arg1. Same returns as above. */
int syscalls_args(const char *tracefs, const char *name, struct tp_format *out);

/* True when the kernel has a sys_enter_NAME tracepoint. */
bool syscalls_exists(const char *tracefs, const char *name);

/* When syscall NAME does not exist here, the one this kernel has in its
 * place (stat -> newstat, lstat -> newlstat, fstat -> newfstat, open ->
 * openat, creat -> openat, ...), if that one exists; else NULL. Static string. */
const char *syscalls_replacement(const char *tracefs, const char *name);

/* Up to n names similar to NAME (edit distance, then common prefix), best
 * first, from the set the function searches: syscall names, events of one
 * tracepoint category ("CATEGORY:EVENT" names when category is NULL), or
 * kernel functions in /proc/kallsyms (text symbols). Returns how many were
 * written, or -errno when the set cannot be read. */
int syscalls_similar(const char *tracefs, const char *name, char out[][SYSCALLS_NAME_MAX], int n);
int syscalls_similar_tracepoints(const char *tracefs, const char *category, const char *name,
				 char out[][2 * SYSCALLS_NAME_MAX], int n);
int syscalls_similar_ksyms(const char *name, char out[][SYSCALLS_NAME_MAX], int n);

/* 1 when NAME is a kernel text symbol (/proc/kallsyms), 0 when not, -errno
 * when kallsyms cannot be read. */
int syscalls_ksym_exists(const char *name);

#endif /* DIAG_SYSCALLS_H */
