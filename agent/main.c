/* main.c - diagagent's entry point: global options and command dispatch. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent/cli.h"

static const struct cli_command *const commands[] = {
	&cli_caps, &cli_config, &cli_diagnose, &cli_run, &cli_script, &cli_suggest, &cli_trace,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: diagagent [--version] [--help] COMMAND [ARGS]\n"
		     "\n"
		     "Trace a live Linux host on demand with bpftrace, from BCC trace.py-style specs.\n"
		     "\n"
		     "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *nl = strchr(commands[i]->summary, '\n');
		int len = nl ? (int)(nl - commands[i]->summary) : (int)strlen(commands[i]->summary);

		fprintf(out, "  %-10s %.*s\n", commands[i]->name, len, commands[i]->summary);
	}
	fprintf(out, "  %-10s %s\n", "help", "Show the help of a command");
	fprintf(out, "\n"
		     "exit codes: 0 success, 1 failure while running, 2 bad usage or input,\n"
		     "            3 the host cannot do it (missing capability, not root)\n"
		     "\n"
		     "See 'diagagent help COMMAND' for a command's options and examples.\n");
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	fprintf(stderr, "diagagent: unknown command '%s'\n", name);
	usage(stderr);
	return CLI_USAGE;
}

static int dispatch(int argc, char **argv)
{
	const struct cli_command *cmd;

	opterr = 0;
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("diagagent %s\n", DIAG_VERSION);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return CLI_OK;
		}
		cmd = find_command(argv[2]);
		return cmd ? cli_help(cmd) : unknown_command(argv[2]);
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "diagagent: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return CLI_USAGE;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return unknown_command(argv[1]);
	return cmd->run(argc - 1, argv + 1);
}

/* The prints to stdout are not checked one by one: a stdio stream's error is
 * sticky, so one check here catches a full disk or a broken output for all. */
int main(int argc, char **argv)
{
	int rc = dispatch(argc, argv);
	int err = fflush(stdout) ? errno : 0;

	if (err || ferror(stdout)) {
		fprintf(stderr, "diagagent: cannot write the output: %s\n", err ? strerror(err) : "write error");
		return rc == CLI_OK ? CLI_FAIL : rc;
	}
	return rc;
}
