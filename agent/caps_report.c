/* caps_report.c - the capabilities as JSON (stable schema) and as a table. */
#include "agent/caps.h"

#include <string.h>

static const char *state_word(int state)
{
	return state == CAPS_YES ? "yes" : state == CAPS_NO ? "no" : "unknown";
}

static json_t *tri_json(int state)
{
	return state == CAPS_UNKNOWN ? json_null() : json_boolean(state == CAPS_YES);
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* {"available": bool, "state": "yes|no|unknown", "detail": "...", "hint": "..."} */
static json_t *item_json(const struct caps_item *it, const char *flag)
{
	json_t *o = json_object();

	json_object_set_new(o, flag, json_boolean(it->state == CAPS_YES));
	json_object_set_new(o, "state", json_string(state_word(it->state)));
	json_object_set_new(o, "detail", json_string(it->detail));
	if (it->hint[0])
		json_object_set_new(o, "hint", json_string(it->hint));
	return o;
}

static const char *const prog_names[CAPS_PROG_TYPES] = {
	"tracepoint", "kprobe", "perf_event", "tracing", "raw_tracepoint",
};
static const char *const map_names[CAPS_MAP_TYPES] = { "perf_event_array", "ringbuf" };

static json_t *bpftrace_json(const struct caps *c)
{
	json_t *o = json_object(), *info = json_object();

	json_object_set_new(o, "found", json_boolean(c->bpftrace.found));
	json_object_set_new(o, "path", str_or_null(c->bpftrace.path));
	json_object_set_new(o, "version", str_or_null(c->bpftrace.version));
	if (c->bpftrace.version[0]) {
		json_object_set_new(o, "major", json_integer(c->bpftrace.major));
		json_object_set_new(o, "minor", json_integer(c->bpftrace.minor));
	}
	for (int i = 0; i < c->bpftrace.ninfo; i++) {
		const char *v = c->bpftrace.info[i].value;
		json_t *jv = strcmp(v, "yes") == 0 ? json_true() : strcmp(v, "no") == 0 ? json_false() : json_string(v);

		json_object_set_new(info, c->bpftrace.info[i].key, jv);
	}
	json_object_set_new(o, "info", info);
	if (c->bpftrace.error[0])
		json_object_set_new(o, "error", json_string(c->bpftrace.error));
	return o;
}

json_t *caps_to_json(const struct caps *c)
{
	json_t *root = json_object(), *o, *progs, *maps;

	if (!root)
		return NULL;
	json_object_set_new(root, "schema", json_integer(1));

	o = json_object();
	json_object_set_new(o, "release", json_string(c->kernel_release));
	json_object_set_new(o, "machine", json_string(c->machine));
	json_object_set_new(root, "kernel", o);

	o = item_json(&c->btf, "available");
	json_object_set_new(o, "path", json_string("/sys/kernel/btf/vmlinux"));
	json_object_set_new(o, "types", json_integer(c->btf_types));
	json_object_set_new(root, "btf", o);

	o = item_json(&c->tracefs, "mounted");
	json_object_set_new(o, "path", str_or_null(c->tracefs_path));
	json_object_set_new(root, "tracefs", o);
	o = item_json(&c->debugfs, "mounted");
	json_object_set_new(o, "path", str_or_null(c->debugfs_path));
	json_object_set_new(root, "debugfs", o);

	json_object_set_new(root, "lockdown", str_or_null(c->lockdown));
	json_object_set_new(root, "unprivileged_bpf_disabled",
			    c->unprivileged_bpf_disabled < 0 ? json_null() :
							       json_integer(c->unprivileged_bpf_disabled));

	progs = json_object();
	for (int i = 0; i < CAPS_PROG_TYPES; i++)
		json_object_set_new(progs, prog_names[i], item_json(&c->prog[i], "supported"));
	maps = json_object();
	for (int i = 0; i < CAPS_MAP_TYPES; i++)
		json_object_set_new(maps, map_names[i], item_json(&c->map[i], "supported"));
	o = json_object();
	json_object_set_new(o, "prog_types", progs);
	json_object_set_new(o, "map_types", maps);
	json_object_set_new(root, "bpf", o);

	o = json_object();
	for (int i = 0; i < CAPS_PROBE_KINDS; i++) {
		json_t *p = item_json(&c->probe[i], "available");

		if (i == CAPS_TRACEPOINT)
			json_object_set_new(p, "syscall_tracepoints",
					    c->syscall_tracepoints < 0 ? json_null() :
									 json_integer(c->syscall_tracepoints));
		json_object_set_new(o, caps_probe_name(i), p);
	}
	json_object_set_new(root, "probes", o);

	json_object_set_new(root, "bpftrace", bpftrace_json(c));

	o = json_object();
	json_object_set_new(o, "euid", json_integer(c->priv.euid));
	json_object_set_new(o, "root", json_boolean(c->priv.euid == 0));
	json_object_set_new(o, "cap_bpf", tri_json(c->priv.cap_bpf));
	json_object_set_new(o, "cap_perfmon", tri_json(c->priv.cap_perfmon));
	json_object_set_new(o, "cap_sys_admin", tri_json(c->priv.cap_sys_admin));
	json_object_set_new(root, "privileges", o);
	return root;
}

static void print_row(FILE *out, const char *name, const char *state, const struct caps_item *it)
{
	fprintf(out, "  %-16s %-8s %s\n", name, state, it->detail);
	if (it->state != CAPS_YES && it->hint[0])
		fprintf(out, "  %-16s %-8s hint: %s\n", "", "", it->hint);
}

void caps_print(const struct caps *c, FILE *out)
{
	const char *llvm = caps_bpftrace_info(c, "LLVM");

	fprintf(out, "host\n");
	fprintf(out, "  %-16s %s %s\n", "kernel", c->kernel_release, c->machine);
	fprintf(out, "  %-16s %s\n", "lockdown", c->lockdown[0] ? c->lockdown : "unknown (securityfs not mounted)");
	if (c->unprivileged_bpf_disabled >= 0)
		fprintf(out, "  %-16s %d\n", "unpriv_bpf_off", c->unprivileged_bpf_disabled);
	else
		fprintf(out, "  %-16s unknown\n", "unpriv_bpf_off");
	print_row(out, "btf", state_word(c->btf.state), &c->btf);
	print_row(out, "tracefs", state_word(c->tracefs.state), &c->tracefs);
	print_row(out, "debugfs", state_word(c->debugfs.state), &c->debugfs);
	if (c->bpftrace.found)
		fprintf(out, "  %-16s %-8s %s v%s%s%s%s\n", "bpftrace", "yes", c->bpftrace.path,
			c->bpftrace.version[0] ? c->bpftrace.version : "?", llvm ? " (LLVM " : "", llvm ? llvm : "",
			llvm ? ")" : "");
	else
		fprintf(out, "  %-16s %-8s %s\n", "bpftrace", "no", c->bpftrace.error);
	fprintf(out, "  %-16s euid %u; CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s\n", "privileges",
		(unsigned)c->priv.euid, state_word(c->priv.cap_bpf), state_word(c->priv.cap_perfmon),
		state_word(c->priv.cap_sys_admin));

	fprintf(out, "\nprobe kinds (a real attach of a test program)\n");
	for (int i = 0; i < CAPS_PROBE_KINDS; i++)
		print_row(out, caps_probe_name(i), state_word(c->probe[i].state), &c->probe[i]);

	fprintf(out, "\nbpf types (libbpf probes)\n");
	for (int i = 0; i < CAPS_PROG_TYPES; i++)
		print_row(out, prog_names[i], state_word(c->prog[i].state), &c->prog[i]);
	for (int i = 0; i < CAPS_MAP_TYPES; i++)
		print_row(out, map_names[i], state_word(c->map[i].state), &c->map[i]);
}
