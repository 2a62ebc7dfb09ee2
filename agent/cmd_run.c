/* cmd_run.c - `diagagent run`: the agent that polls the control API. */
#include <getopt.h>
#include <stdio.h>

#include "agent/agent.h"
#include "agent/cli.h"
#include "agent/config.h"

static int run_run(int argc, char **argv);

const struct cli_command cli_run = {
	.name = "run",
	.summary = "Run the agent: poll the control API for jobs, run them, post the results",
	.usage = "usage: diagagent run [-c FILE] [--once]",
	.help = "Polls the control API in agent.conf for jobs (traces, allow-listed commands),\n"
		"runs them with hard limits and posts every result, kept durably in spool_dir\n"
		"until the server acknowledges it. Logs go to stderr. Needs root to trace.\n"
		"\n"
		"options:\n"
		"  -c, --config FILE  configuration (default " CONFIG_DEFAULT_PATH ");\n"
		"                     DIAGAGENT_<KEY> variables override it\n"
		"  --once             poll once, run the jobs that came, upload, exit\n"
		"                     (exit 1 when the poll or an upload failed)\n"
		"  -h, --help         show this help\n"
		"\n"
		"signals: SIGTERM/SIGINT cancel running jobs, flush results for shutdown_grace\n"
		"and exit 0; SIGHUP reloads the configuration.\n",
	.examples = "examples:\n"
		    "  diagagent run -c /etc/diagagent/agent.conf\n"
		    "  DIAGAGENT_SERVER_URL=http://127.0.0.1:8080 diagagent run -c agent.conf --once\n",
	.run = run_run,
};

static int run_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_opts o = { 0 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'o':
			o.once = true;
			break;
		case 'h':
			return cli_help(&cli_run);
		default:
			return cli_bad_option(&cli_run, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cli_run, "unexpected argument '%s'", argv[optind]);
	return agent_run(&o);
}
