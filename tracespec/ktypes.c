/* ktypes.c - facts about kernel types from BTF. */
#include "tracespec/ktypes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

static struct btf *vmlinux;

static struct btf *btf_get(void)
{
	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	return vmlinux;
}

void ktypes_release(void)
{
	btf__free(vmlinux);
	vmlinux = NULL;
}

static const struct btf_type *find_struct(struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);

	if (id < 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_UNION);
	return id < 0 ? NULL : btf__type_by_id(btf, (unsigned)id);
}

/* The struct or union a member's type is, through typedefs and qualifiers. */
static const struct btf_type *member_struct(struct btf *btf, unsigned type_id)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t && (btf_is_struct(t) || btf_is_union(t)) ? t : NULL;
}

/* Bit offset of MEMBER in t, searching anonymous members too; -1 when absent. */
/* NOLINTNEXTLINE(misc-no-recursion): nested anonymous members, at most 8 levels (depth > 8 stops) */
static long member_bits(struct btf *btf, const struct btf_type *t, const char *member, int depth)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(btf, m[i].name_off);
		const struct btf_type *sub;
		long off;

		if (n && strcmp(n, member) == 0)
			return (long)btf_member_bit_offset(t, (unsigned)i);
		if ((n && *n) || depth > 8)
			continue;
		sub = member_struct(btf, m[i].type);
		off = sub ? member_bits(btf, sub, member, depth + 1) : -1;
		if (off >= 0)
			return (long)btf_member_bit_offset(t, (unsigned)i) + off;
	}
	return -1;
}

/* The member called MEMBER in t or its anonymous members; NULL when absent. */
/* NOLINTNEXTLINE(misc-no-recursion): nested anonymous members, at most 8 levels (depth > 8 stops) */
static const struct btf_member *find_member(struct btf *btf, const struct btf_type *t, const char *member, int depth)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(btf, m[i].name_off);
		const struct btf_type *sub;
		const struct btf_member *found;

		if (n && strcmp(n, member) == 0)
			return &m[i];
		if ((n && *n) || depth > 8)
			continue;
		sub = member_struct(btf, m[i].type);
		found = sub ? find_member(btf, sub, member, depth + 1) : NULL;
		if (found)
			return found;
	}
	return NULL;
}

/* What type_id is, through typedefs and qualifiers. */
static void describe(struct btf *btf, unsigned type_id, struct ktype *out)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);

	memset(out, 0, sizeof(*out));
	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t)
		return;
	if (btf_is_int(t) || btf_is_enum(t) || btf_kind(t) == BTF_KIND_ENUM64) {
		out->kind = KT_INT;
	} else if (btf_is_array(t)) {
		const struct btf_type *elem = btf__type_by_id(btf, btf_array(t)->type);

		while (elem && (btf_is_typedef(elem) || btf_is_mod(elem)))
			elem = btf__type_by_id(btf, elem->type);
		/* bpftrace reads a char array as a string */
		out->kind = elem && btf_is_int(elem) && btf_int_encoding(elem) & BTF_INT_CHAR ? KT_STRING : KT_ARRAY;
		if (out->kind == KT_ARRAY && elem && btf_is_int(elem) && elem->size == 1 &&
		    !strcmp(btf__name_by_offset(btf, elem->name_off), "char"))
			out->kind = KT_STRING;
	} else if (btf_is_struct(t) || btf_is_union(t)) {
		out->kind = KT_STRUCT;
		snprintf(out->name, sizeof(out->name), "%s", btf__name_by_offset(btf, t->name_off));
	} else if (btf_is_ptr(t)) {
		out->kind = KT_PTR;
		for (;;) {
			out->stars++;
			t = btf__type_by_id(btf, t->type);
			while (t && (btf_is_typedef(t) || btf_is_mod(t)))
				t = btf__type_by_id(btf, t->type);
			if (!t || !btf_is_ptr(t))
				break;
		}
		if (t && (btf_is_struct(t) || btf_is_union(t)))
			snprintf(out->name, sizeof(out->name), "%s", btf__name_by_offset(btf, t->name_off));
		else if (!t || btf_is_int(t) || btf_is_enum(t) || btf_kind(t) == BTF_KIND_ENUM64 ||
			 btf_kind(t) == BTF_KIND_FLOAT)
			out->plain = out->stars == 1; /* void, char, an integer: no members */
	}
}

int ktypes_member_type(const char *name, const char *member, struct ktype *out)
{
	struct btf *btf = btf_get();
	const struct btf_member *m;
	const struct btf_type *t;

	memset(out, 0, sizeof(*out));
	if (!btf)
		return -ENOENT;
	t = find_struct(btf, name);
	if (!t)
		return -ENOENT;
	m = find_member(btf, t, member, 0);
	if (!m)
		return 0;
	describe(btf, m->type, out);
	return 1;
}

int ktypes_member_offset(const char *name, const char *member)
{
	struct btf *btf = btf_get();
	const struct btf_type *t;
	long bits;

	if (!btf)
		return -ENOENT;
	t = find_struct(btf, name);
	if (!t)
		return -ENOENT;
	bits = member_bits(btf, t, member, 0);
	return bits < 0 ? -ENOENT : (int)(bits / 8);
}

int ktypes_func_params(const char *func, char names[][64], int max)
{
	struct btf *btf = btf_get();
	const struct btf_param *p;
	const struct btf_type *t;
	int id, n = 0;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, btf__type_by_id(btf, (unsigned)id)->type);
	p = btf_params(t);
	for (int i = 0; i < btf_vlen(t) && n < max; i++)
		snprintf(names[n++], 64, "%s", btf__name_by_offset(btf, p[i].name_off));
	return n;
}

int ktypes_struct_check(const char *name, char *suggest, size_t size)
{
	struct btf *btf = btf_get();
	char cand[160];

	suggest[0] = '\0';
	if (!btf)
		return -ENOENT;
	if (find_struct(btf, name))
		return 1;
	snprintf(cand, sizeof(cand), "__kernel_%s", name);
	if (!find_struct(btf, cand))
		snprintf(cand, sizeof(cand), "%s64", name);
	if (find_struct(btf, cand))
		snprintf(suggest, size, "%s", cand);
	return 0;
}

/* A member of t (or of its anonymous members) whose name ends with tail. */
/* NOLINTNEXTLINE(misc-no-recursion): nested anonymous members, at most 8 levels (depth > 8 stops) */
static const struct btf_member *suffix_member(struct btf *btf, const struct btf_type *t, const char *tail, int depth)
{
	const struct btf_member *m = btf_members(t);
	size_t tl = strlen(tail);

	for (int i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(btf, m[i].name_off);
		size_t nl = n ? strlen(n) : 0;
		const struct btf_type *sub;
		const struct btf_member *found;

		if (nl >= tl && nl > 0 && strcmp(n + nl - tl, tail) == 0)
			return &m[i];
		if (nl || depth > 8)
			continue;
		sub = member_struct(btf, m[i].type);
		found = sub ? suffix_member(btf, sub, tail, depth + 1) : NULL;
		if (found)
			return found;
	}
	return NULL;
}

int ktypes_member_check(const char *name, const char *member, char *suggest, size_t size)
{
	struct btf *btf = btf_get();
	const struct btf_member *m;
	const struct btf_type *t;
	const char *tail = strchr(member, '_');

	suggest[0] = '\0';
	if (!btf)
		return -ENOENT;
	t = find_struct(btf, name);
	if (!t)
		return -ENOENT;
	if (member_bits(btf, t, member, 0) >= 0)
		return 1;
	/* sk_dport: look for *_dport one level down, in a named embedded struct. */
	tail = tail ? tail : member;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *sub = member_struct(btf, m[i].type);
		const struct btf_member *sm;

		if (!sub || !btf__name_by_offset(btf, m[i].name_off)[0])
			continue;
		sm = suffix_member(btf, sub, tail, 0);
		if (sm) {
			snprintf(suggest, size, "%s.%s", btf__name_by_offset(btf, m[i].name_off),
				 btf__name_by_offset(btf, sm->name_off));
			return 0;
		}
	}
	return 0;
}
