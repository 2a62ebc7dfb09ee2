/* caps.c - what this host can trace: kernel facts, libbpf probes, bpftrace, privileges.
 *
 * The attach tests live in caps_attach.c, the JSON and table in caps_report.c.
 */
#include "agent/caps.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/capability.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "agent/runcmd.h"
#include "agent/sysfs.h"

#define BPFTRACE_TIMEOUT_MS 10000
#define BPFTRACE_OUTPUT_CAP (64 * 1024)

static const char *const probe_names[CAPS_PROBE_KINDS] = {
	[CAPS_TRACEPOINT] = "tracepoint", [CAPS_KPROBE] = "kprobe",	  [CAPS_KRETPROBE] = "kretprobe",
	[CAPS_UPROBE] = "uprobe",	  [CAPS_URETPROBE] = "uretprobe", [CAPS_USDT] = "usdt",
	[CAPS_KFUNC] = "kfunc",
};

const char *caps_probe_name(enum caps_probe_kind kind)
{
	return kind < CAPS_PROBE_KINDS ? probe_names[kind] : "?";
}

bool caps_can_attach(const struct caps *c, enum caps_probe_kind kind)
{
	return kind < CAPS_PROBE_KINDS && c->probe[kind].state == CAPS_YES;
}

void caps_set(struct caps_item *it, int state, const char *hint, const char *fmt, ...)
{
	va_list ap;

	it->state = state;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
	snprintf(it->hint, sizeof(it->hint), "%s", hint ? hint : "");
}

/* ---- kernel facts ---------------------------------------------------- */

static void probe_kernel(struct caps *c)
{
	struct utsname u;
	char buf[128];
	long v;

	if (uname(&u) == 0) {
		snprintf(c->kernel_release, sizeof(c->kernel_release), "%s", u.release);
		snprintf(c->machine, sizeof(c->machine), "%s", u.machine);
	}
	c->lockdown[0] = '\0';
	if (sysfs_read("/sys/kernel/security/lockdown", buf, sizeof(buf)) >= 0)
		sysfs_selected(buf, c->lockdown, sizeof(c->lockdown));
	c->unprivileged_bpf_disabled = -1;
	if (sysfs_read_long("/proc/sys/kernel/unprivileged_bpf_disabled", &v) == 0)
		c->unprivileged_bpf_disabled = (int)v;
}

static void probe_btf(struct caps *c)
{
	const char *path = "/sys/kernel/btf/vmlinux";
	struct btf *btf;

	if (access(path, R_OK) != 0) {
		caps_set(&c->btf, CAPS_NO,
			 "a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed for kfunc and struct access",
			 "'%s': %s", path, strerror(errno));
		return;
	}
	btf = btf__parse(path, NULL);
	if (!btf) {
		caps_set(&c->btf, CAPS_NO, NULL, "'%s' present but libbpf cannot load it: %s", path, strerror(errno));
		return;
	}
	c->btf_types = btf__type_cnt(btf);
	caps_set(&c->btf, CAPS_YES, NULL, "%s (%u types)", path, c->btf_types);
	btf__free(btf);
}

static void probe_fs(struct caps *c)
{
	int rc = sysfs_find_mount(NULL, "tracefs", c->tracefs_path, sizeof(c->tracefs_path));

	if (rc == 1)
		caps_set(&c->tracefs, CAPS_YES, NULL, "mounted on %s", c->tracefs_path);
	else if (rc == 0)
		caps_set(&c->tracefs, CAPS_NO,
			 "as root: mount -t tracefs nodev /sys/kernel/tracing (or run scripts/setup-host)",
			 "not mounted");
	else
		caps_set(&c->tracefs, CAPS_UNKNOWN, NULL, "cannot read /proc/self/mountinfo: %s", strerror(-rc));
	if (rc != 1)
		c->tracefs_path[0] = '\0';

	rc = sysfs_find_mount(NULL, "debugfs", c->debugfs_path, sizeof(c->debugfs_path));
	if (rc == 1)
		caps_set(&c->debugfs, CAPS_YES, NULL, "mounted on %s", c->debugfs_path);
	else
		caps_set(&c->debugfs, rc == 0 ? CAPS_NO : CAPS_UNKNOWN,
			 "as root: mount -t debugfs nodev /sys/kernel/debug", "not mounted");
	if (rc != 1)
		c->debugfs_path[0] = '\0';
}

/* ---- libbpf's program and map type probes ---------------------------- */

static void set_probe_result(struct caps_item *it, int rc, const char *what)
{
	if (rc == 1)
		caps_set(it, CAPS_YES, NULL, "%s: loads", what);
	else if (rc == 0)
		caps_set(it, CAPS_NO, NULL, "%s: not supported by this kernel", what);
	else if (rc == -EPERM || rc == -EACCES)
		caps_set(it, CAPS_UNKNOWN, "run as root (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)",
			 "%s: not allowed to ask (%s)", what, strerror(-rc));
	else
		caps_set(it, CAPS_UNKNOWN, NULL, "%s: probe failed: %s", what, strerror(-rc));
}

static bool may_load_bpf(const struct caps *c)
{
	return c->priv.cap_bpf == CAPS_YES || c->priv.cap_sys_admin == CAPS_YES || c->unprivileged_bpf_disabled == 0;
}

static void probe_bpf_types(struct caps *c)
{
	static const struct {
		enum caps_prog_type idx;
		enum bpf_prog_type type;
		const char *name;
	} progs[] = {
		{ CAPS_PROG_TRACEPOINT, BPF_PROG_TYPE_TRACEPOINT, "BPF_PROG_TYPE_TRACEPOINT" },
		{ CAPS_PROG_KPROBE, BPF_PROG_TYPE_KPROBE, "BPF_PROG_TYPE_KPROBE" },
		{ CAPS_PROG_PERF_EVENT, BPF_PROG_TYPE_PERF_EVENT, "BPF_PROG_TYPE_PERF_EVENT" },
		{ CAPS_PROG_TRACING, BPF_PROG_TYPE_TRACING, "BPF_PROG_TYPE_TRACING" },
		{ CAPS_PROG_RAW_TRACEPOINT, BPF_PROG_TYPE_RAW_TRACEPOINT, "BPF_PROG_TYPE_RAW_TRACEPOINT" },
	};
	static const struct {
		enum caps_map_type idx;
		enum bpf_map_type type;
		const char *name;
	} maps[] = {
		{ CAPS_MAP_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY, "BPF_MAP_TYPE_PERF_EVENT_ARRAY" },
		{ CAPS_MAP_RINGBUF, BPF_MAP_TYPE_RINGBUF, "BPF_MAP_TYPE_RINGBUF" },
	};

	/* Without the right to load programs libbpf's probes answer "no" for
	 * everything: that says nothing about the kernel. */
	if (!may_load_bpf(c)) {
		for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
			set_probe_result(&c->prog[progs[i].idx], -EPERM, progs[i].name);
		for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
			set_probe_result(&c->map[maps[i].idx], -EPERM, maps[i].name);
		return;
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		set_probe_result(&c->prog[progs[i].idx], libbpf_probe_bpf_prog_type(progs[i].type, NULL),
				 progs[i].name);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		set_probe_result(&c->map[maps[i].idx], libbpf_probe_bpf_map_type(maps[i].type, NULL), maps[i].name);
}

/* ---- privileges ------------------------------------------------------ */

static void probe_privileges(struct caps *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	const int bits[3] = { 39 /* CAP_BPF */, 38 /* CAP_PERFMON */, CAP_SYS_ADMIN };
	int *out[3] = { &c->priv.cap_bpf, &c->priv.cap_perfmon, &c->priv.cap_sys_admin };

	c->priv.euid = geteuid();
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0) {
		for (int i = 0; i < 3; i++)
			*out[i] = CAPS_UNKNOWN;
		return;
	}
	for (int i = 0; i < 3; i++)
		*out[i] = (data[bits[i] / 32].effective >> (bits[i] % 32)) & 1 ? CAPS_YES : CAPS_NO;
}

/* ---- bpftrace -------------------------------------------------------- */

int caps_find_bpftrace(struct caps *c)
{
	const char *env = getenv("DIAGAGENT_BPFTRACE");
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;

	c->bpftrace.path[0] = '\0';
	if (env && *env) {
		snprintf(c->bpftrace.path, sizeof(c->bpftrace.path), "%s", env);
		return access(env, X_OK) == 0;
	}
	dirs = strdup(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (!dirs)
		return 0;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char cand[PATH_MAX];

		if (snprintf(cand, sizeof(cand), "%s/bpftrace", *d ? d : ".") >= (int)sizeof(cand))
			continue;
		if (access(cand, X_OK) == 0) {
			snprintf(c->bpftrace.path, sizeof(c->bpftrace.path), "%s", cand);
			break;
		}
	}
	free(dirs);
	return c->bpftrace.path[0] != '\0';
}

/* "MAJOR.MINOR[.PATCH]" at p into v: how many numbers were there (0 to 3). */
static int version_numbers(const char *p, int v[3])
{
	int n = 0;

	while (n < 3 && isdigit((unsigned char)*p)) {
		char *end;
		long x;

		errno = 0;
		x = strtol(p, &end, 10);
		if (errno || x > INT_MAX)
			break;
		v[n++] = (int)x;
		if (*end != '.')
			break;
		p = end + 1;
	}
	return n;
}

int caps_parse_bpftrace_version(struct caps *c, const char *text)
{
	const char *p = strstr(text, "bpftrace v");
	int v[3] = { 0, 0, 0 };

	p = p ? p + strlen("bpftrace v") : strstr(text, "v");
	if (p && *p == 'v')
		p++;
	if (!p || version_numbers(p, v) < 2) {
		c->bpftrace.version[0] = '\0';
		return -EINVAL;
	}
	c->bpftrace.major = v[0];
	c->bpftrace.minor = v[1];
	c->bpftrace.patch = v[2];
	snprintf(c->bpftrace.version, sizeof(c->bpftrace.version), "%d.%d.%d", v[0], v[1], v[2]);
	return 0;
}

/* The --info lines worth repeating: what decides what a program may use. */
static const char *const info_keys[] = {
	"LLVM",
	"btf",
	"kprobe",
	"tracepoint",
	"perf_event",
	"kfunc",
	"kprobe_multi",
	"probe_read_user",
	"probe_read_user_str",
	"get_current_cgroup_id",
	"Loop support",
	"dpath",
	"libdw (DWARF support)",
	"uprobe refcount (depends on Build:bcc bpf_attach_uprobe refcount)",
	"unsafe uprobe",
	"ringbuf",
};

void caps_parse_bpftrace_info(struct caps *c, const char *text)
{
	const char *line = text;

	c->bpftrace.ninfo = 0;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *colon;

		while (len > 0 && isspace((unsigned char)*line)) {
			line++;
			len--;
		}
		colon = memchr(line, ':', len);
		if (colon && c->bpftrace.ninfo < CAPS_INFO_MAX) {
			size_t klen = (size_t)(colon - line);
			const char *val = colon + 1;
			size_t vlen = len - klen - 1;

			while (vlen > 0 && isspace((unsigned char)*val)) {
				val++;
				vlen--;
			}
			for (size_t i = 0; i < sizeof(info_keys) / sizeof(info_keys[0]); i++) {
				if (strlen(info_keys[i]) != klen || strncmp(info_keys[i], line, klen) != 0)
					continue;
				snprintf(c->bpftrace.info[c->bpftrace.ninfo].key, sizeof(c->bpftrace.info[0].key),
					 "%.*s", (int)klen, line);
				snprintf(c->bpftrace.info[c->bpftrace.ninfo].value, sizeof(c->bpftrace.info[0].value),
					 "%.*s", (int)vlen, val);
				c->bpftrace.ninfo++;
				break;
			}
		}
		line = end ? end + 1 : NULL;
	}
}

const char *caps_bpftrace_info(const struct caps *c, const char *key)
{
	for (int i = 0; i < c->bpftrace.ninfo; i++)
		if (strcmp(c->bpftrace.info[i].key, key) == 0)
			return c->bpftrace.info[i].value;
	return NULL;
}

int caps_bpftrace_version(struct caps *c)
{
	char *ver_argv[] = { c->bpftrace.path, "--version", NULL };
	struct runcmd_result res;
	int rc;

	c->bpftrace.found = caps_find_bpftrace(c);
	if (!c->bpftrace.found) {
		snprintf(c->bpftrace.error, sizeof(c->bpftrace.error),
			 "bpftrace not found in PATH; hint: apt-get install bpftrace (or make deps)");
		return -ENOENT;
	}
	rc = runcmd_capture(ver_argv, BPFTRACE_TIMEOUT_MS, 4096, &res);
	if (rc < 0) {
		snprintf(c->bpftrace.error, sizeof(c->bpftrace.error), "cannot run '%.120s': %s", c->bpftrace.path,
			 strerror(-rc));
		return rc;
	}
	rc = caps_parse_bpftrace_version(c, res.out);
	if (rc < 0)
		snprintf(c->bpftrace.error, sizeof(c->bpftrace.error), "'%.120s --version' printed no version%s",
			 c->bpftrace.path, res.timed_out ? " (timed out)" : "");
	runcmd_release(&res);
	return rc;
}

static void probe_bpftrace(struct caps *c)
{
	char *info_argv[] = { c->bpftrace.path, "--info", NULL };
	struct runcmd_result res;

	if (caps_bpftrace_version(c) == -ENOENT || !c->bpftrace.path[0])
		return;

	/* --info needs root on some versions; what it prints is kept either way. */
	if (runcmd_capture(info_argv, BPFTRACE_TIMEOUT_MS, BPFTRACE_OUTPUT_CAP, &res) == 0) {
		caps_parse_bpftrace_info(c, res.out);
		runcmd_release(&res);
	}
}

/* ---- tracepoints and the whole probe --------------------------------- */

static void count_syscall_tracepoints(struct caps *c)
{
	char dir[PATH_MAX + 32];
	struct dirent *de;
	DIR *d;

	c->syscall_tracepoints = -1;
	if (!c->tracefs_path[0])
		return;
	snprintf(dir, sizeof(dir), "%s/events/syscalls", c->tracefs_path);
	d = opendir(dir);
	if (!d)
		return;
	c->syscall_tracepoints = 0;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "sys_enter_", 10) == 0)
			c->syscall_tracepoints++;
	closedir(d);
}

static void probe_common(struct caps *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < CAPS_PROBE_KINDS; i++)
		caps_set(&c->probe[i], CAPS_UNKNOWN, NULL, "not probed");
	probe_kernel(c);
	probe_privileges(c);
	probe_btf(c);
	probe_fs(c);
	probe_bpf_types(c);
	count_syscall_tracepoints(c);
}

void caps_probe_quick(struct caps *c)
{
	probe_common(c);
	caps_quick_kinds(c);
}

void caps_probe_host(struct caps *c)
{
	probe_common(c);
	caps_attach_tracepoint(c);
	caps_attach_kprobe(c);
	caps_attach_uprobe(c);
	caps_attach_kfunc(c);
}

void caps_probe(struct caps *c)
{
	caps_probe_host(c);
	probe_bpftrace(c);
}

int caps_trace_ready(const struct caps *c, char *err, size_t size)
{
	bool priv = c->priv.cap_sys_admin == CAPS_YES ||
		    (c->priv.cap_bpf == CAPS_YES && c->priv.cap_perfmon == CAPS_YES);

	if (!priv) {
		snprintf(err, size, "tracing needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); run it as root");
		return -EPERM;
	}
	if (!c->bpftrace.found || !c->bpftrace.version[0]) {
		snprintf(err, size, "%s", c->bpftrace.error[0] ? c->bpftrace.error : "bpftrace not usable");
		return -ENOENT;
	}
	return 0;
}
