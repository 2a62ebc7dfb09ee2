/* utf8.h - UTF-8 validity, byte by byte: what the scanner and the renderer share. */
#ifndef DIAG_UTF8_H
#define DIAG_UTF8_H

#include <stddef.h>

/* The length of the valid UTF-8 sequence at p (1..4; n bytes are there), or
 * 0 when the byte at p does not start one: overlongs, surrogates and code
 * points above U+10FFFF are invalid. */
size_t utf8_seq_len(const unsigned char *p, size_t n);

/* Copy len bytes at src into dst (size >= 1 bytes, NUL-terminated) as valid
 * UTF-8: every byte that is not part of a valid sequence (a NUL too)
 * becomes U+FFFD, and where the next character (or U+FFFD) does not fit
 * whole the copy ends, so a cut never splits a character. Returns the bytes
 * written, without the NUL. For text from the kernel (file names, command
 * names, cut by the kernel anywhere) on its way into JSON. */
size_t utf8_copy(char *dst, size_t size, const char *src, size_t len);

#endif /* DIAG_UTF8_H */
