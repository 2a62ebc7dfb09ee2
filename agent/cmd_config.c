/* cmd_config.c - `diagagent config check`: load agent.conf and the environment, show the result. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/config.h"

static int config_run(int argc, char **argv);

const struct cli_command cli_config = {
	.name = "config",
	.summary = "Check agent.conf, the DIAGAGENT_<KEY> variables and the token file",
	.usage = "usage: diagagent config check [-c FILE]",
	.help = "check    load FILE, then the DIAGAGENT_<KEY> environment variables; check every\n"
		"         value, the command_allow patterns and the token file (mode 0600); print\n"
		"         the effective configuration in agent.conf's format (never the token).\n"
		"         Exit 0 when valid, 2 with FILE:LINE and a hint when not.\n"
		"\n"
		"options:\n"
		"  -c, --config FILE   the configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  -h, --help          show this help\n",
	.examples = "examples:\n"
		    "  diagagent config check                           # the installed configuration\n"
		    "  diagagent config check -c agent.conf > effective.conf\n"
		    "  DIAGAGENT_POLL_INTERVAL=5 diagagent config check | grep poll_interval\n",
	.run = config_run,
};

static void report(const struct config_error *err, const char *fallback_hint)
{
	fprintf(stderr, "diagagent config: %s\n", err->msg);
	if (err->hint[0])
		fprintf(stderr, "  hint: %s\n", err->hint);
	else if (fallback_hint)
		fprintf(stderr, "  hint: %s\n", fallback_hint);
}

static void print_warnings(const char *w)
{
	while (w && *w) {
		const char *nl = strchr(w, '\n');
		int n = nl ? (int)(nl - w) : (int)strlen(w);

		fprintf(stderr, "diagagent config: warning: %.*s\n", n, w);
		w += n + (nl ? 1 : 0);
	}
}

static int config_check(const char *path)
{
	struct config_error err;
	struct config c;
	char *token = NULL;
	int rc, ret = CLI_USAGE;

	config_init(&c);
	rc = config_load(&c, path, NULL, &err);
	if (rc < 0) {
		report(&err, rc == -ENOENT ? "give the file with -c FILE (the sample is agent.conf)" : NULL);
		ret = rc == -ENOMEM ? CLI_FAIL : CLI_USAGE;
		goto cleanup;
	}
	print_warnings(c.warnings);
	rc = config_read_token(&c, &token, &err);
	if (rc == 0)
		rc = config_check_files(&c, &err);
	if (rc < 0) {
		report(&err, NULL);
		ret = rc == -ENOMEM ? CLI_FAIL : CLI_USAGE;
		goto cleanup;
	}
	fprintf(stderr, "diagagent config: token: %zu byte%s from %s\n", strlen(token), strlen(token) == 1 ? "" : "s",
		c.token_file);
	config_print(&c, stdout);
	/* The effective configuration includes the token: say it is there, never what it is. */
	printf("# token: <redacted> (%zu bytes from %s)\n", strlen(token), c.token_file);
	ret = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
cleanup:
	config_free_secret(token);
	config_release(&c);
	return ret;
}

static int config_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_PATH;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			return cli_help(&cli_config);
		default:
			return cli_bad_option(&cli_config, opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(&cli_config, "no subcommand given (check)");
	if (strcmp(argv[optind], "check") != 0)
		return cli_usage_error(&cli_config, "unknown subcommand '%s'", argv[optind]);
	if (optind + 1 < argc)
		return cli_usage_error(&cli_config, "unexpected argument '%s'", argv[optind + 1]);
	return config_check(path);
}
