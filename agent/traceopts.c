/* traceopts.c - the command line of `script` and `trace`. */
#include "agent/traceopts.h"
#include "agent/units.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char traceopts_help[] =
	"\ntrace.py's options:\n"
	"  -p PID         only this process          -L TID       only this thread\n"
	"  --uid UID      only this user             -n NAME      command name contains NAME\n"
	"  -c PATH        only this cgroup (v2 directory)\n"
	"  -M N           stream at most N events (all are still counted, in the kernel)\n"
	"  -Z N           read at most N bytes of each string (1..200; default 64)\n"
	"  -K, -U         kernel / user stack with each event; -a: with addresses\n"
	"  -t             time column (seconds since start; -u: UNIX time)\n"
	"  -T             wall-clock time column      -C           CPU column\n"
	"  -A             aggregate identical messages into counts\n"
	"  -f REGEX       only messages matching REGEX (PCRE2)\n"
	"  -S             do not leave bpftrace's own process out\n"
	"  -b PAGES       perf buffer pages per CPU\n"
	"  -d SECONDS     end after SECONDS (0: until Ctrl-C)\n"
	"  -v             print the generated program to stderr\n"
	"  -I HEADER, -s FILES   accepted for trace.py compatibility; not needed (BTF, bpftrace's symbols)\n";

enum {
	OPT_UID = 256,
	OPT_ASSUME,
	OPT_JSON,
	OPT_JSONL,
	OPT_RAW_OUT,
	OPT_REPLAY,
	OPT_BIN_CMP,
};

static int set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

int traceopts_parse(int argc, char **argv, const struct cli_command *cmd, unsigned flags, struct traceopts *t)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "tid", required_argument, NULL, 'L' },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "name", required_argument, NULL, 'n' },
		{ "cgroup-path", required_argument, NULL, 'c' },
		{ "max-events", required_argument, NULL, 'M' },
		{ "string-size", required_argument, NULL, 'Z' },
		{ "kernel-stack", no_argument, NULL, 'K' },
		{ "user-stack", no_argument, NULL, 'U' },
		{ "address", no_argument, NULL, 'a' },
		{ "timestamp", no_argument, NULL, 't' },
		{ "unix-timestamp", no_argument, NULL, 'u' },
		{ "time", no_argument, NULL, 'T' },
		{ "print_cpu", no_argument, NULL, 'C' },
		{ "aggregate", no_argument, NULL, 'A' },
		{ "msg-filter", required_argument, NULL, 'f' },
		{ "include-self", no_argument, NULL, 'S' },
		{ "buffer-pages", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "include", required_argument, NULL, 'I' },
		{ "sym_file_list", required_argument, NULL, 's' },
		{ "bin_cmp", no_argument, NULL, OPT_BIN_CMP },
		{ "assume", required_argument, NULL, OPT_ASSUME },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "jsonl", no_argument, NULL, OPT_JSONL },
		{ "raw-out", required_argument, NULL, OPT_RAW_OUT },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int opt;

	memset(t, 0, sizeof(*t));
	trace_opts_init(&t->opts);
	optind = 1;
	/* '+' would stop at the first spec; trace.py takes options after specs too. */
	while ((opt = getopt_long(argc, argv, ":p:L:n:c:M:Z:KUatuTCAf:Sb:d:vI:s:Bh", longopts, NULL)) != -1) {
		const char *arg = optarg;
		int rc = 0;

		switch (opt) {
		case 'p':
		case 'L':
		case OPT_UID:
			if (units_long(arg, 0, INT_MAX, &v) < 0)
				return cli_usage_error(cmd, "%s needs a number, not '%s'", argv[optind - 2], arg);
			if (opt == 'p')
				t->opts.pid = v;
			else if (opt == 'L')
				t->opts.tid = v;
			else
				t->opts.uid = v;
			break;
		case 'n':
			rc = set_string(&t->opts.name, arg);
			break;
		case 'c':
			rc = set_string(&t->opts.cgroup, arg);
			break;
		case 'f':
			rc = set_string(&t->opts.msg_regex, arg);
			break;
		case 'M':
			if (units_long(arg, 0, LONG_MAX / 2, &v) < 0)
				return cli_usage_error(cmd, "-M needs a count, not '%s'", arg);
			t->opts.max_events = v;
			break;
		case 'Z':
			if (units_long(arg, 1, CODEGEN_MAX_STRLEN, &v) < 0)
				return cli_usage_error(cmd, "-Z takes 1..%d (bpftrace's string limit), not '%s'",
						       CODEGEN_MAX_STRLEN, arg);
			t->opts.string_size = (int)v;
			break;
		case 'b':
			if (units_long(arg, 1, 65536, &v) < 0 || (v & (v - 1)))
				return cli_usage_error(cmd, "-b takes a power of two up to 65536, not '%s'", arg);
			t->opts.buffer_pages = (int)v;
			break;
		case 'd':
			if (units_long(arg, 0, 24 * 3600, &v) < 0)
				return cli_usage_error(cmd, "-d takes seconds (0..86400), not '%s'", arg);
			t->opts.duration = (int)v;
			break;
		case 'K':
			t->opts.kstack = true;
			break;
		case 'U':
			t->opts.ustack = true;
			break;
		case 'a':
			t->opts.stack_addr = true;
			break;
		case 't':
			t->opts.timestamp = true;
			break;
		case 'u':
			t->opts.unix_time = true;
			break;
		case 'T':
			t->opts.time_col = true;
			break;
		case 'C':
			t->opts.cpu_col = true;
			break;
		case 'A':
			t->opts.aggregate = true;
			break;
		case 'S':
			t->opts.include_self = true;
			break;
		case 'v':
			t->verbose = true;
			break;
		case 'I':
			fprintf(stderr, "diagagent %s: note: -I '%s' is not needed: kernel types come from BTF\n",
				cmd->name, arg);
			break;
		case 's':
			fprintf(stderr,
				"diagagent %s: note: -s is not needed: bpftrace reads symbols from the binaries\n",
				cmd->name);
			break;
		case 'B':
		case OPT_BIN_CMP:
			return cli_usage_error(cmd, "-B (binary STRCMP) is not supported: STRCMP compares text");
		case OPT_ASSUME:
			if (!(flags & TRACEOPTS_ASSUME))
				return cli_usage_error(cmd, "unknown option '--assume'");
			if (strcmp(arg, "kprobes") == 0)
				t->assume_kprobes = true;
			else if (strcmp(arg, "kfunc") == 0)
				t->assume_kfunc = true;
			else
				return cli_usage_error(cmd, "--assume takes kprobes or kfunc, not '%s'", arg);
			break;
		case OPT_JSON:
		case OPT_JSONL:
		case OPT_RAW_OUT:
		case OPT_REPLAY:
			if (!(flags & TRACEOPTS_OUTPUT))
				return cli_usage_error(cmd, "unknown option '%s'", argv[optind - (arg ? 2 : 1)]);
			if (opt == OPT_JSON)
				t->json = true;
			else if (opt == OPT_JSONL)
				t->jsonl = true;
			else
				rc = set_string(opt == OPT_RAW_OUT ? &t->raw_out : &t->replay, arg);
			break;
		case 'h':
			t->help = true;
			return 0;
		default:
			return cli_bad_option(cmd, opt, argv);
		}
		if (rc < 0) {
			fprintf(stderr, "diagagent %s: out of memory\n", cmd->name);
			return CLI_FAIL;
		}
	}
	if (t->opts.unix_time && !t->opts.timestamp)
		return cli_usage_error(cmd, "-u needs -t");
	t->specs = argv + optind;
	t->nspecs = argc - optind;
	if (t->nspecs == 0 && !t->replay)
		return cli_usage_error(cmd, "no spec given");
	if (t->nspecs > CODEGEN_MAX_SPECS)
		return cli_usage_error(cmd, "too many specs (at most %d)", CODEGEN_MAX_SPECS);
	return 0;
}

void traceopts_release(struct traceopts *t)
{
	if (!t)
		return;
	trace_opts_release(&t->opts);
	free(t->raw_out);
	free(t->replay);
	t->raw_out = t->replay = NULL;
}
