/* Parsing a migration policy (igvm_policy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igvm_policy.h"

static bool hex_digest(const char *s, size_t len, uint8_t out[LAUNCH_MEASUREMENT_SIZE])
{
	if (len != (size_t)2 * LAUNCH_MEASUREMENT_SIZE) {
		return false;
	}
	for (size_t i = 0; i < LAUNCH_MEASUREMENT_SIZE; i++) {
		char pair[3] = { s[2U * i], s[2U * i + 1U], '\0' };
		char *end = NULL;
		unsigned long v = strtoul(pair, &end, 16);

		if (end != pair + 2 || pair[0] == '+' || pair[0] == '-' || pair[0] == ' ') {
			return false;
		}
		out[i] = (uint8_t)v;
	}
	return true;
}

/* One item of the list, len bytes at s. */
static bool item(const char *s, size_t len, struct launch_migrate_policy *p)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} words[] = {
		{ "none", 0 },
		{ "out", LAUNCH_MIGRATE_OUT },
		{ "in", LAUNCH_MIGRATE_IN },
		{ "test-key", LAUNCH_MIGRATE_TEST_KEY },
		{ "same-measurement", LAUNCH_MIGRATE_SAME_MEASUREMENT },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].name) == len && memcmp(s, words[i].name, len) == 0) {
			p->flags |= words[i].flag;
			return true;
		}
	}
	if (len > 12U && memcmp(s, "measurement=", 12) == 0) {
		return p->measurement_count < LAUNCH_MIGRATE_MEASUREMENTS &&
		       hex_digest(s + 12, len - 12U, p->measurements[p->measurement_count++]);
	}
	if (len > 8U && len <= 8U + 16U && memcmp(s, "min-tcb=", 8) == 0) {
		char digits[17] = { 0 };
		char *end = NULL;

		memcpy(digits, s + 8, len - 8U);
		errno = 0;
		p->min_tcb = strtoull(digits, &end, 16);
		return *end == '\0' && errno == 0 && digits[0] != '-' && digits[0] != '+' &&
		       digits[0] != ' ';
	}
	return false;
}

bool igvm_migrate_policy_parse(const char *spec, struct launch_migrate_policy *p, char *why,
			       size_t why_len)
{
	memset(p, 0, sizeof(*p));
	for (const char *s = spec;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);

		if (!item(s, len, p)) {
			(void)snprintf(why, why_len, "bad migration policy item '%.*s'",
				       len > 100U ? 100 : (int)len, s);
			memset(p, 0, sizeof(*p));
			return false;
		}
		if (comma == NULL) {
			return true;
		}
		s = comma + 1;
	}
}
