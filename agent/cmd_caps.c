/* cmd_caps.c - `diagagent caps`: what this host can trace. */
#include <getopt.h>
#include <stdio.h>

#include "agent/caps.h"
#include "agent/cli.h"
#include "agent/jsontext.h"

static int caps_run(int argc, char **argv);

const struct cli_command cli_caps = {
	.name = "caps",
	.summary = "Show what this host can trace, each probe kind proven by a real attach",
	.usage = "usage: diagagent caps [--json]",
	.help = "Kernel, BTF, tracefs, lockdown, BPF program and map types (libbpf), which probe\n"
		"kinds attach (each proven by attaching a test program), bpftrace, privileges.\n"
		"\n"
		"options:\n"
		"  -j, --json    print one JSON object (the schema the agent's heartbeat carries)\n"
		"  -h, --help    show this help\n",
	.examples = "examples:\n"
		    "  diagagent caps                                   # the table, with hints\n"
		    "  diagagent caps --json | jq .probes.kprobe        # can kprobes attach here?\n"
		    "  diagagent caps --json | jq -r .bpftrace.version\n",
	.run = caps_run,
};

static int caps_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct caps c;
	int opt, json = 0;

	while ((opt = getopt_long(argc, argv, ":jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'h':
			return cli_help(&cli_caps);
		default:
			return cli_bad_option(&cli_caps, opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cli_caps, "unexpected argument '%s'", argv[optind]);

	caps_probe(&c);
	if (json) {
		json_t *j = caps_to_json(&c);

		if (!j || jsontext_print(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER, stdout) < 0) {
			json_decref(j);
			fprintf(stderr, "diagagent caps: cannot write JSON: out of memory\n");
			return CLI_FAIL;
		}
		putchar('\n');
		json_decref(j);
	} else {
		caps_print(&c, stdout);
	}
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}
