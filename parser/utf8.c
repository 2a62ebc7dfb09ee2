/* utf8.c - UTF-8 validity, byte by byte. */
#include "parser/utf8.h"

#include <string.h>

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

size_t utf8_copy(char *dst, size_t size, const char *src, size_t len)
{
	static const char rep[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *u = (const unsigned char *)src;
	size_t i = 0, n = 0;

	while (i < len) {
		size_t l = u[i] ? utf8_seq_len(u + i, len - i) : 0;
		const char *from = l ? src + i : rep;
		size_t w = l ? l : 3;

		if (n + w > size - 1)
			break;
		memcpy(dst + n, from, w);
		n += w;
		i += l ? l : 1;
	}
	dst[n] = '\0';
	return n;
}
