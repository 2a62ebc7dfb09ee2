/* caps_attach.c - prove each probe kind by attaching a trivial BPF program.
 *
 * A probe kind counts as available only when a real attach succeeds: a
 * two-instruction program ("return 0") is loaded and attached through
 * perf_event_open() (tracepoint, kprobe and uprobe PMUs) or a BPF trampoline
 * (fentry), then everything is closed again. Nothing is left attached.
 */
#include "agent/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "agent/sysfs.h"

#define ROOT_HINT "run as root (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)"
#define PMU_DIR	  "/sys/bus/event_source/devices"

/* Kernel functions that exist on every kernel worth tracing; the first that
 * attaches proves the kind. */
static const char *const kernel_funcs[] = { "vfs_read", "do_nanosleep", "ksys_read", "schedule" };

static int load_return0(enum bpf_prog_type type, const struct bpf_prog_load_opts *opts)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(type, "diag_caps", "GPL", insns, 2, opts);

	return fd < 0 ? -errno : fd;
}

static int perf_open(struct perf_event_attr *attr)
{
	long fd;

	attr->size = sizeof(*attr);
	attr->sample_period = 1;
	attr->wakeup_events = 1;
	fd = syscall(SYS_perf_event_open, attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

/* Load a return-0 program of 'type' and attach it to perf event fd 'pfd'.
 * Returns 0 or -errno. Closes nothing of the caller's. */
static int attach_to_perf(int pfd, enum bpf_prog_type type)
{
	int prog = load_return0(type, NULL);
	int rc = 0;

	if (prog < 0)
		return prog;
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) < 0)
		rc = -errno;
	close(prog);
	return rc;
}

static bool is_perm(int err)
{
	return err == -EPERM || err == -EACCES;
}

/* Read a PMU's dynamic type and the bit of its "retprobe" format flag. */
static int pmu_type(const char *pmu, int *retbit)
{
	char path[128], buf[64], *end;
	long type, bit;
	int rc;

	snprintf(path, sizeof(path), PMU_DIR "/%s/type", pmu);
	rc = sysfs_read_long(path, &type);
	if (rc < 0)
		return rc;
	*retbit = -1;
	snprintf(path, sizeof(path), PMU_DIR "/%s/format/retprobe", pmu);
	if (sysfs_read(path, buf, sizeof(buf)) > 0 && strncmp(buf, "config:", 7) == 0) {
		errno = 0;
		bit = strtol(buf + 7, &end, 10);
		if (!errno && end != buf + 7 && bit >= 0 && bit < 64)
			*retbit = (int)bit;
	}
	return (int)type;
}

/* ---- tracepoint ------------------------------------------------------ */

void caps_attach_tracepoint(struct caps *c)
{
	static const char *const events[] = { "syscalls/sys_enter_getpid", "sched/sched_process_exec" };
	struct caps_item *it = &c->probe[CAPS_TRACEPOINT];
	char path[PATH_MAX + 64];
	long id = -1;
	const char *ev = NULL;
	int pfd, rc;

	if (!c->tracefs_path[0]) {
		caps_set(it, CAPS_NO, c->tracefs.hint, "tracefs is not mounted");
		return;
	}
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]) && id < 0; i++) {
		snprintf(path, sizeof(path), "%s/events/%s/id", c->tracefs_path, events[i]);
		if (sysfs_read_long(path, &id) == 0)
			ev = events[i];
		else
			id = -1;
	}
	if (id < 0) {
		if (errno == EACCES || errno == EPERM)
			caps_set(it, CAPS_UNKNOWN, ROOT_HINT, "cannot read tracepoint ids in %s", c->tracefs_path);
		else
			caps_set(it, CAPS_NO, NULL, "no syscall or sched tracepoints under %s/events", c->tracefs_path);
		return;
	}
	pfd = perf_open(&(struct perf_event_attr){ .type = PERF_TYPE_TRACEPOINT, .config = (uint64_t)id });
	if (pfd < 0) {
		caps_set(it, is_perm(pfd) ? CAPS_UNKNOWN : CAPS_NO, is_perm(pfd) ? ROOT_HINT : NULL,
			 "perf_event_open(%s): %s", ev, strerror(-pfd));
		return;
	}
	rc = attach_to_perf(pfd, BPF_PROG_TYPE_TRACEPOINT);
	close(pfd);
	if (rc < 0)
		caps_set(it, is_perm(rc) ? CAPS_UNKNOWN : CAPS_NO, is_perm(rc) ? ROOT_HINT : NULL, "attach to %s: %s",
			 ev, strerror(-rc));
	else
		caps_set(it, CAPS_YES, NULL, "attached to %s; %d syscall tracepoints", ev, c->syscall_tracepoints);
}

/* ---- kprobe / kretprobe ---------------------------------------------- */

static void attach_kprobe_kind(struct caps *c, struct caps_item *it, int type, int retbit, bool ret)
{
	int err = -ENOENT;

	if (ret && retbit < 0) {
		caps_set(it, CAPS_NO, NULL, "kprobe PMU has no retprobe format bit");
		return;
	}
	for (size_t i = 0; i < sizeof(kernel_funcs) / sizeof(kernel_funcs[0]); i++) {
		struct perf_event_attr attr = {
			.type = (uint32_t)type,
			.config = ret ? 1ULL << retbit : 0,
			.config1 = (uint64_t)(uintptr_t)kernel_funcs[i],
		};
		int pfd = perf_open(&attr);

		if (pfd < 0) {
			err = pfd;
			if (is_perm(err))
				break;
			continue;
		}
		err = attach_to_perf(pfd, BPF_PROG_TYPE_KPROBE);
		close(pfd);
		if (err == 0) {
			caps_set(it, CAPS_YES, NULL, "attached to %s", kernel_funcs[i]);
			return;
		}
	}
	caps_set(it, is_perm(err) ? CAPS_UNKNOWN : CAPS_NO, is_perm(err) ? ROOT_HINT : NULL,
		 "no kernel function accepted a %s: %s", ret ? "kretprobe" : "kprobe", strerror(-err));
}

void caps_attach_kprobe(struct caps *c)
{
	char legacy[PATH_MAX + 32];
	int retbit, type = pmu_type("kprobe", &retbit);

	snprintf(legacy, sizeof(legacy), "%s/kprobe_events", c->tracefs_path);
	if (type < 0) {
		bool has_legacy = c->tracefs_path[0] && access(legacy, F_OK) == 0;
		const char *hint = "use tracepoints (syscalls:sys_enter_*) or uprobes; kprobes need a kernel with "
				   "CONFIG_KPROBES=y";

		for (int k = CAPS_KPROBE; k <= CAPS_KRETPROBE; k++) {
			if (has_legacy)
				caps_set(&c->probe[k], CAPS_UNKNOWN, NULL,
					 "kprobe_events exists in tracefs but there is no kprobe PMU; not "
					 "attach-tested");
			else
				caps_set(&c->probe[k], CAPS_NO, hint,
					 "no kprobe PMU in " PMU_DIR
					 " and no kprobe_events in tracefs (CONFIG_KPROBES off)");
		}
		return;
	}
	attach_kprobe_kind(c, &c->probe[CAPS_KPROBE], type, retbit, false);
	attach_kprobe_kind(c, &c->probe[CAPS_KRETPROBE], type, retbit, true);
}

/* ---- uprobe / uretprobe / usdt --------------------------------------- */

/* The uprobe target: a function of our own binary, never inlined. */
__attribute__((noinline, used)) int caps_uprobe_target(int x);
__attribute__((noinline, used)) int caps_uprobe_target(int x)
{
	return x + 1;
}

/* File offset of 'addr' in the file mapped at it, from /proc/self/maps. */
static long file_offset_of(uintptr_t addr, char *file, size_t size)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];
	long off = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, pgoff;
		char perms[8];
		int n = 0;

		/* NOLINTNEXTLINE(cert-err34-c): kernel-formatted /proc/self/maps, not input that can overflow */
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &pgoff, &n) < 4 || n == 0)
			continue;
		if (addr < start || addr >= end)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(file, size, "%s", line + n);
		off = (long)(addr - start + pgoff);
		break;
	}
	(void)fclose(f); /* read only */
	return off;
}

static void attach_uprobe_kind(struct caps_item *it, int type, int retbit, bool ret)
{
	char file[PATH_MAX];
	long off = file_offset_of((uintptr_t)&caps_uprobe_target, file, sizeof(file));
	struct perf_event_attr attr = { .type = (uint32_t)type };
	int pfd, rc;

	if (ret && retbit < 0) {
		caps_set(it, CAPS_NO, NULL, "uprobe PMU has no retprobe format bit");
		return;
	}
	if (off < 0 || file[0] != '/') {
		caps_set(it, CAPS_UNKNOWN, NULL, "cannot find our own code in /proc/self/maps");
		return;
	}
	attr.config = ret ? 1ULL << retbit : 0;
	attr.config1 = (uint64_t)(uintptr_t)file;
	attr.config2 = (uint64_t)off;
	pfd = perf_open(&attr);
	if (pfd < 0) {
		caps_set(it, is_perm(pfd) ? CAPS_UNKNOWN : CAPS_NO, is_perm(pfd) ? ROOT_HINT : NULL,
			 "perf_event_open(uprobe): %s", strerror(-pfd));
		return;
	}
	rc = attach_to_perf(pfd, BPF_PROG_TYPE_KPROBE);
	close(pfd);
	if (rc < 0)
		caps_set(it, is_perm(rc) ? CAPS_UNKNOWN : CAPS_NO, is_perm(rc) ? ROOT_HINT : NULL,
			 "attach to a uprobe: %s", strerror(-rc));
	else
		caps_set(it, CAPS_YES, NULL, "attached to %s+0x%lx", file, off);
}

void caps_attach_uprobe(struct caps *c)
{
	int retbit, type = pmu_type("uprobe", &retbit);

	if (type < 0) {
		for (int k = CAPS_UPROBE; k <= CAPS_USDT; k++)
			caps_set(&c->probe[k], CAPS_NO, "uprobes need a kernel with CONFIG_UPROBE_EVENTS=y",
				 "no uprobe PMU in " PMU_DIR);
		return;
	}
	attach_uprobe_kind(&c->probe[CAPS_UPROBE], type, retbit, false);
	attach_uprobe_kind(&c->probe[CAPS_URETPROBE], type, retbit, true);
	if (c->probe[CAPS_UPROBE].state == CAPS_YES)
		caps_set(&c->probe[CAPS_USDT], CAPS_YES, NULL, "via uprobes");
	else
		caps_set(&c->probe[CAPS_USDT], c->probe[CAPS_UPROBE].state, c->probe[CAPS_UPROBE].hint,
			 "USDT needs uprobes: %s", c->probe[CAPS_UPROBE].detail);
}

/* ---- kfunc (fentry) --------------------------------------------------- */

static int attach_fentry(const char *func, struct btf *btf)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	int prog, link;

	if (id < 0)
		return -ENOENT;
	opts.attach_btf_id = (uint32_t)id;
	prog = load_return0(BPF_PROG_TYPE_TRACING, &opts);
	if (prog < 0)
		return prog;
	link = bpf_raw_tracepoint_open(NULL, prog);
	link = link < 0 ? -errno : link;
	close(prog);
	if (link < 0)
		return link;
	close(link);
	return 0;
}

void caps_attach_kfunc(struct caps *c)
{
	struct caps_item *it = &c->probe[CAPS_KFUNC];
	const struct caps_item *tracing = &c->prog[CAPS_PROG_TRACING];
	char aff[PATH_MAX + 32];
	struct btf *btf;
	int err = -ENOENT;

	if (c->btf.state != CAPS_YES) {
		caps_set(it, CAPS_NO, c->btf.hint, "kfunc needs kernel BTF: %s", c->btf.detail);
		return;
	}
	if (tracing->state != CAPS_YES) {
		if (tracing->state == CAPS_NO)
			caps_set(it, CAPS_NO, "use tracepoints or uprobes",
				 "BPF_PROG_TYPE_TRACING is not supported: no fentry/fexit on this kernel");
		else
			caps_set(it, CAPS_UNKNOWN, tracing->hint, "kfunc needs %s", tracing->detail);
		return;
	}
	snprintf(aff, sizeof(aff), "%s/available_filter_functions", c->tracefs_path);
	if (!c->tracefs_path[0] || access(aff, R_OK) != 0) {
		caps_set(it, CAPS_NO, c->tracefs.hint, "available_filter_functions is not readable in tracefs");
		return;
	}
	btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	if (!btf) {
		caps_set(it, CAPS_UNKNOWN, NULL, "cannot load kernel BTF: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < sizeof(kernel_funcs) / sizeof(kernel_funcs[0]); i++) {
		err = attach_fentry(kernel_funcs[i], btf);
		if (err == 0) {
			caps_set(it, CAPS_YES, NULL, "fentry attached to %s", kernel_funcs[i]);
			break;
		}
		if (is_perm(err))
			break;
	}
	btf__free(btf);
	if (err < 0)
		caps_set(it, is_perm(err) ? CAPS_UNKNOWN : CAPS_NO, is_perm(err) ? ROOT_HINT : NULL,
			 "no kernel function accepted an fentry program: %s", strerror(-err));
}

/* ---- the quick look, for lowering ------------------------------------------------ *
 * Detaching a BPF program from a perf event waits for an RCU grace period
 * (about 0.1 s per probe here), which `trace` cannot afford before every run.
 * Lowering only needs what tells the kinds apart: the PMU or tracefs entry
 * that exists only where the kind can attach, and the program type. */
void caps_quick_kinds(struct caps *c)
{
	int retbit, kp = pmu_type("kprobe", &retbit), up = pmu_type("uprobe", &retbit);
	const struct caps_item *kprog = &c->prog[CAPS_PROG_KPROBE];
	int kstate = kprog->state == CAPS_NO ? CAPS_NO : kprog->state;

	if (!c->tracefs_path[0])
		caps_set(&c->probe[CAPS_TRACEPOINT], CAPS_NO, c->tracefs.hint, "tracefs is not mounted");
	else if (c->syscall_tracepoints <= 0)
		caps_set(&c->probe[CAPS_TRACEPOINT], c->syscall_tracepoints < 0 ? CAPS_UNKNOWN : CAPS_NO, ROOT_HINT,
			 "no syscall tracepoints readable under %s", c->tracefs_path);
	else
		caps_set(&c->probe[CAPS_TRACEPOINT], c->prog[CAPS_PROG_TRACEPOINT].state, NULL,
			 "%d syscall tracepoints (quick look)", c->syscall_tracepoints);
	if (kp < 0) {
		caps_attach_kprobe(c); /* no PMU: answered without attaching anything */
	} else {
		caps_set(&c->probe[CAPS_KPROBE], kstate, NULL, "kprobe PMU present (quick look)");
		caps_set(&c->probe[CAPS_KRETPROBE], kstate, NULL, "kprobe PMU present (quick look)");
	}
	for (int k = CAPS_UPROBE; k <= CAPS_USDT; k++)
		caps_set(&c->probe[k], up < 0 ? CAPS_NO : kstate, NULL,
			 up < 0 ? "no uprobe PMU in " PMU_DIR : "uprobe PMU present (quick look)");
	if (c->btf.state == CAPS_YES && c->prog[CAPS_PROG_TRACING].state == CAPS_YES)
		caps_set(&c->probe[CAPS_KFUNC], CAPS_YES, NULL, "BTF and BPF_PROG_TYPE_TRACING (quick look)");
	else
		caps_attach_kfunc(c); /* says why not, without attaching */
}
