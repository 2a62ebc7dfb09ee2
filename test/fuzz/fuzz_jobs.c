/* fuzz_jobs.c - libFuzzer target: the job decoder on any JSON a server
 * could send. Invariants: every job has an id; a rejection has a reason;
 * an accepted trace has canonical spec text that parses again; an accepted
 * command matches the allow-list. Built and run by test/fuzz/run.sh jobs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/jobs.h"
#include "tracespec/spec.h"

static struct config cfg;

static void on_job(void *ud, struct job_req *j)
{
	struct trace_spec *s = NULL;
	struct spec_error err;

	if (!j->id || !j->id[0])
		abort();
	if (!j->error && j->kind == JOB_TRACE) {
		if (!j->spec_text || spec_parse(j->spec_text, &s, &err) != 0) {
			fprintf(stderr, "accepted trace whose canonical text does not parse: %s\n",
				j->spec_text ? j->spec_text : "(null)");
			abort();
		}
		spec_free(s);
	}
	if (!j->error && j->kind == JOB_COMMAND && !config_command_allowed(&cfg, j->command))
		abort();
	jobs_free(j);
}

static void on_cancel(void *ud, const char *id)
{
	if (!id)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char conf[] = "allow_commands = true\ncommand_allow = ^(echo|ps) [a-z ]*$\n";
	static int ready;
	json_error_t jerr;
	char err[512];
	json_t *batch;

	if (!ready) {
		struct config_error cerr;

		config_init(&cfg);
		if (config_parse_text(&cfg, conf, sizeof(conf) - 1, "fuzz.conf", &cerr) != 0)
			abort();
		ready = 1;
	}
	batch = json_loadb((const char *)data, size, 0, &jerr);
	if (!batch)
		return 0;
	jobs_decode(batch, &cfg, on_job, on_cancel, NULL, err, sizeof(err));
	json_decref(batch);
	return 0;
}
