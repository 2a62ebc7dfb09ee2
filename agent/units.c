/* units.c - parse durations and counts. */
#include "agent/units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "ms", 1000000 },
	{ "s", 1000000000ULL },
	{ "m", 60000000000ULL },
	{ "h", 3600000000000ULL },
};

int units_ns(const char *s, uint64_t unit_ns, uint64_t *out)
{
	char *end;
	double v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].name) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		unit_ns = units[i].ns;
	}
	v *= (double)unit_ns;
	if (v > 1e18)
		return -EINVAL;
	*out = (uint64_t)(v + 0.5);
	return 0;
}

int units_seconds(const char *s, long *out)
{
	uint64_t ns;

	if (units_ns(s, 1000000000ULL, &ns) < 0 || ns % 1000000000ULL || ns / 1000000000ULL > 1000000000ULL)
		return -EINVAL;
	*out = (long)(ns / 1000000000ULL);
	return 0;
}

int units_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
