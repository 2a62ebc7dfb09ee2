/* trim.h - give back memory an idle agent does not use.
 *
 * At start-up the agent touches far more of its libraries than an idle poll
 * ever will: OpenSSL's and GnuTLS's initialisation, libbpf and libelf for
 * the capability probe, BTF for code generation. Those file pages stay
 * resident (and count in RSS) although nothing reads them again until the
 * next job. trim_idle() hands back the free heap (malloc_trim) and asks the
 * kernel to reclaim the read-only file pages only this process maps
 * (MADV_PAGEOUT; pages shared with other processes are left alone). A page
 * needed again is faulted back from the page cache or the file.
 */
#ifndef DIAG_TRIM_H
#define DIAG_TRIM_H

/* Trim now. Returns the kB of RSS given back (0 when the kernel has no
 * MADV_PAGEOUT or nothing could be reclaimed). */
long trim_idle(void);

#endif /* DIAG_TRIM_H */
