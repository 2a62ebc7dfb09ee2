/* jobs.c - the job decoder: a job batch from the control API into checked jobs. */
#include "agent/jobs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/jsontext.h"
#include "agent/units.h"
#include "tracespec/strbuf.h"
#include "tracespec/preset.h"
#include "tracespec/spec.h"

static const char *const kind_names[] = { "command", "trace", "suggestion", "diagnostic" };
static const char *const list_names[] = { "commands", "ebpf_programs", "suggestions", "diagnostics" };

const char *jobs_kind_name(enum job_kind kind)
{
	return kind_names[kind];
}

void jobs_free(struct job_req *job)
{
	if (!job)
		return;
	free(job->id);
	free(job->error);
	json_decref(job->json);
	free(job->command);
	free(job->query);
	free(job->preset);
	free(job->cgroup);
	spec_free(job->spec);
	free(job->spec_text);
	trace_opts_release(&job->opts);
	free(job);
}

/* Reject the job: the first reason sticks. Returns -EINVAL for chaining. */
static int reject(struct job_req *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reject(struct job_req *j, const char *fmt, ...)
{
	va_list ap;

	if (j->error)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&j->error, fmt, ap) < 0) {
		/* a job whose rejection cannot be written must not pass as accepted */
		j->error = NULL;
		j->nomem = true;
	}
	va_end(ap);
	return -EINVAL;
}

/* Note a failed allocation of p: the job is then dropped as out of memory. */
static void need(struct job_req *j, const void *p)
{
	if (!p)
		j->nomem = true;
}

/* A stable id: FNV-1a over the kind and the canonical JSON text. */
static char *derived_id(enum job_kind kind, const json_t *job)
{
	char *text = jsontext_dump(job, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY), *id = NULL;
	uint64_t h = 0xcbf29ce484222325ULL;

	/* without the text every job of a kind would get the same id */
	if (!text)
		return NULL;
	for (const char *p = kind_names[kind]; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (const char *p = text; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	free(text);
	if (asprintf(&id, "job-%016" PRIx64, h) < 0)
		return NULL;
	return id;
}

static int take_id(struct job_req *j, const json_t *job)
{
	json_t *v = json_object_get(job, "id");
	const char *s = json_string_value(v);

	if (json_is_integer(v)) {
		if (asprintf(&j->id, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
			j->id = NULL;
		return j->id ? 0 : -ENOMEM;
	}
	/* An id holding a NUL byte is refused like one with a
	 * line break; it used to be cut at the NUL ("a\u0000b" became "a"), so
	 * two different jobs could share an id and the second be skipped. */
	if (s && *s && strlen(s) <= JOBS_MAX_ID && strlen(s) == json_string_length(v) && !strpbrk(s, "\n\r\t")) {
		j->id = strdup(s);
		return j->id ? 0 : -ENOMEM;
	}
	j->id = derived_id(j->kind, job);
	if (!j->id)
		return -ENOMEM;
	if (v && !json_is_null(v))
		return reject(j, "'id' must be a string of 1..%d characters without line breaks, or an integer",
			      JOBS_MAX_ID);
	return 0;
}

/* An optional whole number in lo..hi; def when absent. */
static int take_int(struct job_req *j, const json_t *obj, const char *key, long long lo, long long hi, long long def,
		    const char *what, long long *out)
{
	json_t *v = json_object_get(obj, key);
	double d = json_real_value(v);

	*out = def;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_real(v) && d > -9e15 && d < 9e15 && d == (double)(long long)d) {
		*out = (long long)d;
	} else {
		return reject(j, "'%s' must be a whole number of %s (%lld..%lld)", key, what, lo, hi);
	}
	if (*out < lo || *out > hi)
		return reject(j, "'%s' is %lld, out of range: %s must be %lld..%lld", key, *out, what, lo, hi);
	return 0;
}

static int take_str(struct job_req *j, const json_t *obj, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return required ? reject(j, "'%s' is missing", key) : 0;
	if (!json_is_string(v))
		return reject(j, "'%s' must be a string", key);
	*out = json_string_value(v);
	if (required && !**out)
		return reject(j, "'%s' is empty", key);
	if (strlen(*out) != json_string_length(v))
		return reject(j, "'%s' holds a NUL byte", key);
	return 0;
}

/* ---- commands --------------------------------------------------------------- */

static void decode_command(struct job_req *j, const json_t *job, const struct config *cfg)
{
	const char *cmd;
	long long timeout;
	int rc;
	int def = JOBS_DEFAULT_TIMEOUT < cfg->max_command_timeout ? JOBS_DEFAULT_TIMEOUT : cfg->max_command_timeout;

	if (take_str(j, job, "command", true, &cmd) < 0)
		return;
	if (strlen(cmd) > JOBS_MAX_COMMAND) {
		reject(j, "'command' is %zu bytes, more than %d", strlen(cmd), JOBS_MAX_COMMAND);
		return;
	}
	if (take_int(j, job, "timeout", 1, cfg->max_command_timeout, def, "seconds", &timeout) < 0)
		return;
	j->timeout = (int)timeout;
	j->command = strdup(cmd);
	need(j, j->command);
	if (!cfg->allow_commands) {
		reject(j, "shell commands are disabled on this agent (allow_commands = false in agent.conf)");
		return;
	}
	/* out of memory is no verdict: the job is not rejected for it */
	rc = config_command_match(cfg, cmd);
	if (rc < 0)
		j->nomem = true;
	else if (rc == 0)
		reject(j, "command not allowed: no command_allow pattern in agent.conf matches the whole command");
}

/* ---- diagnostics ------------------------------------------------------------------- */

/* A time threshold: a number of milliseconds, or a string with its unit ("10ms"). */
static int take_time(struct job_req *j, const json_t *job, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(job, key);
	double ms = json_number_value(v);

	if (!v || json_is_null(v))
		return 0;
	if (json_is_number(v) && ms > 0 && ms <= 3600e3) {
		*out = (uint64_t)(ms * 1e6 + 0.5);
		return 0;
	}
	if (json_is_string(v) && units_ns(json_string_value(v), 1000000, out) == 0 && *out > 0 &&
	    *out <= 3600000000000ULL)
		return 0;
	return reject(
		j, "'%s' must be a time above 0 and up to 1 h: milliseconds, or a string such as \"500us\" or \"10ms\"",
		key);
}

static void decode_diagnostic(struct job_req *j, const json_t *job, const struct config *cfg)
{
	json_t *f = json_object_get(job, "filters");
	const char *preset, *cgroup, *fcgroup;
	long long dur, pid, fpid, v;
	int def_dur = JOBS_DEFAULT_DIAGNOSIS < cfg->max_trace_duration ? JOBS_DEFAULT_DIAGNOSIS :
									 cfg->max_trace_duration;
	bool known = false;

	diag_opts_init(&j->diag);
	if (take_str(j, job, "preset", true, &preset) < 0)
		return;
	for (int i = 0; i < preset_count(); i++)
		known |= strcmp(preset_name(i), preset) == 0;
	if (!known) {
		struct strbuf sb = STRBUF_INIT(512);

		for (int i = 0; i < preset_count(); i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", preset_name(i));
		if (sb.err)
			j->nomem = true;
		else
			reject(j, "no preset '%.64s': one of %s", preset, strbuf_str(&sb));
		strbuf_release(&sb);
		return;
	}
	if (f && !json_is_object(f) && !json_is_null(f)) {
		reject(j, "'filters' must be an object (pid, cgroup)");
		return;
	}
	if (take_int(j, job, "duration", 1, cfg->max_trace_duration, def_dur, "seconds", &dur) < 0 ||
	    take_int(j, job, "pid", 1, INT32_MAX, -1, "process ids", &pid) < 0 ||
	    take_int(j, f, "pid", 1, INT32_MAX, -1, "process ids", &fpid) < 0 ||
	    take_str(j, job, "cgroup", false, &cgroup) < 0 || take_str(j, f, "cgroup", false, &fcgroup) < 0 ||
	    take_time(j, job, "slow_threshold", &j->diag.slow_ns) < 0 ||
	    take_time(j, job, "rtt_threshold", &j->diag.rtt_ns) < 0)
		return;
	if (pid > 0 && fpid > 0 && pid != fpid) {
		reject(j, "'pid' (%lld) and 'filters.pid' (%lld) disagree", pid, fpid);
		return;
	}
	if (cgroup && fcgroup && strcmp(cgroup, fcgroup) != 0) {
		reject(j, "'cgroup' and 'filters.cgroup' disagree");
		return;
	}
	if (!cgroup)
		cgroup = fcgroup;
	if (cgroup && (!*cgroup || strlen(cgroup) > 4000 || strstr(cgroup, ".."))) {
		reject(j, "'cgroup' must be a cgroup v2 path (absolute, or under the cgroup2 mount), without '..'");
		return;
	}
	if (take_int(j, job, "error_threshold", 1, 1000000000, DIAG_DEFAULT_ERRORS, "failures", &v) < 0)
		return;
	j->diag.error_threshold = (long)v;
	if (take_int(j, job, "leak_threshold", 1, 1000000000, DIAG_DEFAULT_LEAK, "descriptors", &v) < 0)
		return;
	j->diag.leak_threshold = (long)v;
	if (take_int(j, job, "storm_threshold", 1, 1000000000, DIAG_DEFAULT_STORM, "processes per second", &v) < 0)
		return;
	j->diag.storm_threshold = (long)v;
	if (take_int(j, job, "max_events", 0, cfg->max_events, cfg->max_events, "events per record", &v) < 0)
		return;
	j->diag.cap = (long)v;
	if (take_int(j, job, "top", 1, 1000, DIAG_DEFAULT_TOP, "rows", &v) < 0)
		return;
	j->diag.top = (int)v;
	j->diag.duration = (int)dur;
	j->diag.pid = (long)(pid > 0 ? pid : fpid);
	j->preset = strdup(preset);
	need(j, j->preset);
	if (cgroup) {
		j->cgroup = strdup(cgroup);
		j->diag.cgroup = j->cgroup;
		need(j, j->cgroup);
	}
}

/* ---- suggestions --------------------------------------------------------------- */

static void decode_suggestion(struct job_req *j, const json_t *job)
{
	const char *query;
	long long max;

	if (take_str(j, job, "query", true, &query) < 0)
		return;
	if (strlen(query) > SUGGEST_MAX_TEXT) {
		reject(j, "'query' is %zu bytes, more than %d", strlen(query), SUGGEST_MAX_TEXT);
		return;
	}
	if (take_int(j, job, "max", 1, SUGGEST_MAX_ITEMS, SUGGEST_DEFAULT_ITEMS, "suggestions", &max) < 0)
		return;
	j->max = (int)max;
	j->query = strdup(query);
	need(j, j->query);
}

/* ---- traces ----------------------------------------------------------------- */

static const struct {
	const char *name;
	enum spec_type type;
	bool library; /* a library is required */
} probe_types[] = {
	{ "kprobe", SPEC_ENTRY, false },	  { "p", SPEC_ENTRY, false },
	{ "kretprobe", SPEC_RETURN, false },	  { "r", SPEC_RETURN, false },
	{ "tracepoint", SPEC_TRACEPOINT, false }, { "t", SPEC_TRACEPOINT, false },
	{ "uprobe", SPEC_ENTRY, true },		  { "u", SPEC_ENTRY, true },
	{ "uretprobe", SPEC_RETURN, true },	  { "usdt", SPEC_USDT, true },
};

static void reject_spec(struct job_req *j, const char *field, const struct spec_error *err)
{
	if (err->hint[0])
		reject(j, "'%s': %s (hint: %s)", field, err->msg, err->hint);
	else
		reject(j, "'%s': %s", field, err->msg);
}

static struct trace_spec *build_structured(struct job_req *j, const json_t *job)
{
	const char *type, *target, *library, *format, *filter, *event;
	char *category = NULL;
	struct spec_builder *b;
	struct spec_error err;
	struct trace_spec *s;
	json_t *args = json_object_get(job, "arguments"), *a;
	size_t i, ti = 0, nt = sizeof(probe_types) / sizeof(probe_types[0]);

	if (take_str(j, job, "type", true, &type) < 0 || take_str(j, job, "target", true, &target) < 0 ||
	    take_str(j, job, "library", false, &library) < 0 || take_str(j, job, "format", false, &format) < 0 ||
	    take_str(j, job, "filter", false, &filter) < 0)
		return NULL;
	while (ti < nt && strcmp(probe_types[ti].name, type) != 0)
		ti++;
	if (ti == nt) {
		reject(j,
		       "'type' is '%s': expected kprobe (p), kretprobe (r), tracepoint (t), uprobe (u), "
		       "uretprobe or usdt",
		       type);
		return NULL;
	}
	if (probe_types[ti].library && (!library || !*library)) {
		reject(j, "'library' is missing: a %s needs the library or binary it probes", type);
		return NULL;
	}
	if (!probe_types[ti].library && library && *library) {
		reject(j, "'library' is only for uprobe, uretprobe and usdt, not %s", type);
		return NULL;
	}
	if (args && !json_is_array(args)) {
		reject(j, "'arguments' must be a list of expressions");
		return NULL;
	}
	event = target;
	if (probe_types[ti].type == SPEC_TRACEPOINT || probe_types[ti].type == SPEC_USDT) {
		const char *colon = strchr(target, ':');

		/* tracepoint "sched:sched_switch" (or "sched_switch" with "category");
		 * usdt "provider:probe" or "probe" */
		if (colon) {
			category = strndup(target, (size_t)(colon - target));
			need(j, category);
			event = colon + 1;
		} else if (probe_types[ti].type == SPEC_TRACEPOINT) {
			const char *c;

			if (take_str(j, job, "category", false, &c) < 0)
				return NULL;
			if (!c) {
				reject(j, "'target' of a tracepoint is 'category:event', e.g. 'sched:sched_switch'");
				return NULL;
			}
			category = strdup(c);
			need(j, category);
		}
	}
	if (j->nomem) {
		free(category);
		return NULL;
	}
	b = spec_builder_new(probe_types[ti].type, library, event);
	if (category)
		b = spec_builder_category(b, category);
	if (filter && *filter)
		b = spec_builder_filter(b, filter);
	if (format)
		b = spec_builder_format(b, format);
	json_array_foreach(args, i, a)
	{
		if (!json_is_string(a)) {
			/* Build only to free the builder, and free
			 * what it built too: with the values so far matching the
			 * format (or no format and no values) it is a whole spec,
			 * which used to leak. */
			spec_free(spec_builder_build(b, &err));
			free(category);
			reject(j, "'arguments'[%zu] must be a string (an expression such as \"arg3\")", i);
			return NULL;
		}
		b = spec_builder_value(b, json_string_value(a));
	}
	s = spec_builder_build(b, &err);
	free(category);
	if (!s && errno == ENOMEM)
		j->nomem = true;
	else if (!s)
		reject_spec(j, "target/filter/format/arguments", &err);
	return s;
}

static void take_filters(struct job_req *j, const json_t *job, const struct config *cfg)
{
	json_t *f = json_object_get(job, "filters");
	long long pid, top_pid, tid, uid, dur, maxev;
	const char *process, *cgroup;
	/* The default duration stays within max_trace_duration,
	 * as the default command time-out does within max_command_timeout; it
	 * used to be 10 s even on an agent whose limit was lower. */
	int def_dur = JOBS_DEFAULT_DURATION < cfg->max_trace_duration ? JOBS_DEFAULT_DURATION : cfg->max_trace_duration;

	if (f && !json_is_object(f) && !json_is_null(f)) {
		reject(j, "'filters' must be an object (process, pid, tid, uid, cgroup)");
		return;
	}
	if (take_int(j, f, "pid", 1, INT32_MAX, -1, "process ids", &pid) < 0 ||
	    take_int(j, job, "pid", 1, INT32_MAX, -1, "process ids", &top_pid) < 0 ||
	    take_int(j, f, "tid", 1, INT32_MAX, -1, "thread ids", &tid) < 0 ||
	    take_int(j, f, "uid", 0, UINT32_MAX - 1, -1, "user ids", &uid) < 0 ||
	    take_str(j, f, "process", false, &process) < 0 || take_str(j, f, "cgroup", false, &cgroup) < 0 ||
	    take_int(j, job, "duration", 1, cfg->max_trace_duration, def_dur, "seconds", &dur) < 0 ||
	    take_int(j, job, "max_events", 1, cfg->max_events, cfg->max_events, "events", &maxev) < 0)
		return;
	if (pid > 0 && top_pid > 0 && pid != top_pid) {
		reject(j, "'pid' (%lld) and 'filters.pid' (%lld) disagree", top_pid, pid);
		return;
	}
	if (process && !*process) {
		reject(j, "'filters.process' is empty");
		return;
	}
	if (cgroup && cgroup[0] != '/') {
		reject(j,
		       "'filters.cgroup' must be a cgroup v2 path starting with '/', e.g. /sys/fs/cgroup/system.slice");
		return;
	}
	j->opts.pid = pid > 0 ? pid : top_pid;
	j->opts.tid = tid;
	j->opts.uid = uid;
	j->opts.duration = (int)dur;
	j->opts.max_events = maxev;
	if (process) {
		j->opts.name = strdup(process);
		need(j, j->opts.name);
	}
	if (cgroup) {
		j->opts.cgroup = strdup(cgroup);
		need(j, j->opts.cgroup);
	}
}

static void decode_trace(struct job_req *j, const json_t *job, const struct config *cfg)
{
	const char *text, *program;
	struct spec_error err;
	struct strbuf sb = STRBUF_INIT(SPEC_MAX_LEN * 4);

	trace_opts_init(&j->opts);
	if (take_str(j, job, "spec", false, &text) < 0 || take_str(j, job, "program", false, &program) < 0)
		return;
	if (program) {
		if (!cfg->allow_raw_programs)
			reject(j, "raw bpftrace programs are disabled on this agent (allow_raw_programs = false in "
				  "agent.conf)");
		else
			reject(j, "raw bpftrace programs are not supported by this agent version; send a 'spec'");
		return;
	}
	take_filters(j, job, cfg);
	if (j->error)
		return;
	if (text) {
		int rc = spec_parse(text, &j->spec, &err);

		if (rc == -ENOMEM) {
			j->nomem = true; /* not a bad spec: no job at all */
			return;
		}
		if (rc < 0) {
			reject_spec(j, "spec", &err);
			return;
		}
	} else if (!json_object_get(job, "type")) {
		reject(j, "a trace job needs 'spec' (a trace.py spec) or 'type' and 'target'");
		return;
	} else {
		j->spec = build_structured(j, job);
		if (!j->spec)
			return;
	}
	if (spec_print(j->spec, &sb) == 0)
		j->spec_text = strbuf_detach(&sb, NULL);
	need(j, j->spec_text);
	strbuf_release(&sb);
}

/* ---- the batch ---------------------------------------------------------------- */

struct job_req *jobs_decode_one(enum job_kind kind, const json_t *job, const struct config *cfg)
{
	struct job_req *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = kind;
	trace_opts_init(&j->opts);
	j->json = json_incref((json_t *)job);
	if (take_id(j, job) == -ENOMEM) {
		jobs_free(j);
		return NULL;
	}
	if (!j->error && !json_is_object(job))
		reject(j, "a job must be a JSON object");
	if (!j->error && !j->nomem) {
		switch (kind) {
		case JOB_COMMAND:
			decode_command(j, job, cfg);
			break;
		case JOB_TRACE:
			decode_trace(j, job, cfg);
			break;
		case JOB_SUGGESTION:
			decode_suggestion(j, job);
			break;
		case JOB_DIAGNOSTIC:
			decode_diagnostic(j, job, cfg);
			break;
		}
	}
	if (j->nomem) {
		jobs_free(j);
		return NULL;
	}
	return j;
}

int jobs_decode(const json_t *batch, const struct config *cfg, void (*on_job)(void *ud, struct job_req *job),
		void (*on_cancel)(void *ud, const char *id), void *ud, char *err, size_t size)
{
	json_t *list, *v;
	size_t i;
	int off = 0;

	err[0] = '\0';
	if (!json_is_object(batch)) {
		snprintf(err, size, "the job batch is not a JSON object");
		return -EINVAL;
	}
	for (int k = JOB_COMMAND; k <= JOB_DIAGNOSTIC; k++) {
		list = json_object_get(batch, list_names[k]);
		if (!list || json_is_null(list))
			continue;
		if (!json_is_array(list)) {
			off += snprintf(err + off, size - (size_t)off, "%s'%s' is not a list: ignored", off ? "; " : "",
					list_names[k]);
			if ((size_t)off >= size)
				off = (int)size - 1;
			continue;
		}
		json_array_foreach(list, i, v)
		{
			struct job_req *j = jobs_decode_one((enum job_kind)k, v, cfg);

			/* a job dropped here would be lost without a word */
			if (!j) {
				snprintf(err, size,
					 "out of memory decoding job %zu of '%s'; the rest of the batch "
					 "was not read",
					 i + 1, list_names[k]);
				return -ENOMEM;
			}
			on_job(ud, j);
		}
	}
	list = json_object_get(batch, "cancel");
	if (list && !json_is_array(list) && !json_is_null(list))
		snprintf(err + off, size - (size_t)off, "%s'cancel' is not a list: ignored", off ? "; " : "");
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v))
			on_cancel(ud, json_string_value(v));
		else if (json_is_integer(v)) {
			char buf[32];

			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			on_cancel(ud, buf);
		}
	}
	return 0;
}
