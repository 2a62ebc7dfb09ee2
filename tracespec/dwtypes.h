/* dwtypes.h - struct types from a traced binary's DWARF, as bpftrace finds them.
 *
 * In a uprobe, bpftrace takes `struct NAME` from the binary's debug info
 * (DWARF: in the binary, or a separate debug file found by libdw's standard
 * lookup) when it is there, and from the kernel's BTF otherwise; a name in
 * neither does not compile. It looks a name up as the first top-level
 * DW_TAG_structure_type of that name, compilation unit by compilation unit;
 * so does this module. USDT probes and kernel probes use BTF only.
 *
 * The DWARF of the last binary asked about is kept until dwtypes_release().
 */
#ifndef DIAG_DWTYPES_H
#define DIAG_DWTYPES_H

#include "tracespec/ktypes.h"

/* 1 when the DWARF of the binary at path defines struct NAME (a declaration
 * only counts too: bpftrace finds it), 0 when the binary has DWARF without
 * it, -ENODATA when the binary has no DWARF, another -errno when it cannot be
 * read. */
int dwtypes_struct_check(const char *path, const char *name);

/* The type of member MEMBER of struct NAME in path's DWARF (through
 * anonymous members too), with out->user set. Returns 1 with *out filled, 0
 * when the struct has no such member, -ENOENT when NAME is not defined there
 * (or only declared), another -errno as dwtypes_struct_check(). */
int dwtypes_member_type(const char *path, const char *name, const char *member, struct ktype *out);

/* Drop the kept DWARF. */
void dwtypes_release(void);

#endif /* DIAG_DWTYPES_H */
