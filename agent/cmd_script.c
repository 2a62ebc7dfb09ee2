/* cmd_script.c - `diagagent script`: print the bpftrace program for specs. */
#include <stdio.h>
#include <string.h>

#include "agent/compile.h"

static int script_run(int argc, char **argv);

const struct cli_command cli_script = {
	.name = "script",
	.summary = "Print the bpftrace program that trace.py-style specs compile to",
	.usage = "usage: diagagent script [options] SPEC...",
	.help = "SPEC is trace.py's: [p|r|t|u]:[lib]:func[+off][(signature)] [(filter)] [\"format\"[, value...]]\n"
		"  sys_NAME (and SyS_NAME, __x64_sys_NAME, or a bare syscall name) traces the\n"
		"  syscall's tracepoints; arg1..arg6 are its arguments, retval its return value.\n"
		"\n"
		"options:\n"
		"  --assume kprobes|kfunc   lower as if that probe kind could attach here (to write\n"
		"                           programs for other hosts)\n"
		"  -h, --help               show this help\n",
	.common = traceopts_help,
	.examples = "examples:\n"
		    "  diagagent script 'sys_read (arg3 > 1024) \"read %d bytes\", arg3'\n"
		    "  diagagent script 'r::sys_openat ((int)retval == -2) \"ENOENT: %s\", arg2'\n"
		    "  diagagent script -p 1234 't:sched:sched_switch \"%s -> %s\", args->prev_comm, args->next_comm'\n"
		    "  diagagent script 'r:c:malloc (retval == 0) \"malloc failed\"'\n"
		    "  diagagent script --assume kprobes 'p::vfs_read \"count=%d\", arg3'\n",
	.run = script_run,
};

static int script_run(int argc, char **argv)
{
	struct traceopts t;
	struct codegen_result res;
	struct caps c;
	int rc;

	rc = traceopts_parse(argc, argv, &cli_script, TRACEOPTS_ASSUME, &t);
	if (rc == CLI_OK && t.help) {
		cli_help(&cli_script);
	} else if (rc == CLI_OK) {
		caps_probe_quick(&c);
		rc = compile_specs(&t, &cli_script, &c, &res);
		if (rc == CLI_OK) {
			fputs(res.program, stdout);
			codegen_release(&res);
		}
	}
	traceopts_release(&t);
	return rc;
}
