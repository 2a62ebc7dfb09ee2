/* traceopts.h - the command line of `script` and `trace`: trace.py's options,
 * diagagent's own, and the specs.
 */
#ifndef DIAG_TRACEOPTS_H
#define DIAG_TRACEOPTS_H

#include <stdbool.h>

#include "agent/cli.h"
#include "tracespec/codegen.h"

/* Which options a command takes beyond the shared ones. */
enum traceopts_flags {
	TRACEOPTS_ASSUME = 1 << 0, /* --assume kprobes|kfunc (script) */
	TRACEOPTS_OUTPUT = 1 << 1, /* --json, --jsonl, --raw-out, --replay (trace) */
};

struct traceopts {
	struct trace_opts opts; /* what goes into the program and the layout */
	bool verbose;		/* -v */
	bool assume_kprobes;
	bool assume_kfunc;
	bool json, jsonl;
	char *raw_out;
	char *replay;
	char **specs; /* argv's spec texts (not owned) */
	int nspecs;
	bool help; /* --help was given: the caller prints it */
};

/* Parse argv (argv[0] is the command name) for cmd. Returns 0, or CLI_USAGE
 * after printing a one-line error and the usage to stderr. Warnings (options
 * accepted for trace.py compatibility that change nothing) go to stderr.
 * Release with traceopts_release() either way. */
int traceopts_parse(int argc, char **argv, const struct cli_command *cmd, unsigned flags, struct traceopts *t);

void traceopts_release(struct traceopts *t);

/* The options help shared by script and trace. */
extern const char traceopts_help[];

#endif /* DIAG_TRACEOPTS_H */
