/* cli.c - shared pieces of the command line: help and usage errors. */
#include "agent/cli.h"

#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>

int cli_help(const struct cli_command *cmd)
{
	printf("%s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->help && *cmd->help)
		printf("\n%s", cmd->help);
	if (cmd->common && *cmd->common)
		printf("%s", cmd->common);
	if (cmd->examples && *cmd->examples)
		printf("\n%s", cmd->examples);
	return CLI_OK;
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "diagagent %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s\ntry 'diagagent %s --help'\n", cmd->usage, cmd->name);
	return CLI_USAGE;
}

int cli_bad_option(const struct cli_command *cmd, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return cli_usage_error(cmd, "option '%s' needs a value", arg);
	if (optopt && optopt != '?')
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return cli_usage_error(cmd, "unknown option '%s'", arg);
}

volatile int cli_stop_signal;

static void on_stop_signal(int sig)
{
	cli_stop_signal = sig;
}

void cli_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
