/* tests/unit/cavp_rsp.h - reads NIST CAVP .rsp files (SHA ShortMsg/LongMsg/Monte) for the hash tests. */
#ifndef RVM_TEST_CAVP_RSP_H
#define RVM_TEST_CAVP_RSP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* One record: the "Len", "Msg"/"Seed" and "MD" fields seen before an MD line. */
struct cavp_rec {
	long len_bits;  /* -1 when the record has no Len (Monte) */
	uint8_t *msg;   /* Msg or Seed bytes (malloc'd by the reader, reused) */
	long msg_len;
	uint8_t md[64];
	long md_len;
	long count;     /* COUNT, -1 when absent */
};

/*
 * Calls fn for every record that ends with an MD line; returns the number
 * of records, or -1 when the file is malformed (bad hex, Len larger than Msg).
 * Handles CRLF line endings and the ShortMsg "Len = 0, Msg = 00" quirk
 * (the caller hashes len_bits / 8 bytes).
 */
static inline long cavp_each(const char *text, void (*fn)(const struct cavp_rec *r, void *arg),
			     void *arg)
{
	struct cavp_rec r = { .len_bits = -1, .count = -1 };
	size_t cap = 0;
	long n = 0;
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char line[32768];
		char *eq;

		if (ll >= sizeof(line) - 1) {
			/* Long Msg lines: only Msg can be this long. */
			if (strncmp(p, "Msg = ", 6) != 0)
				return -1;
		}
		if (ll < sizeof(line)) {
			memcpy(line, p, ll);
			line[ll] = 0;
		} else {
			line[0] = 0;
		}
		while (ll && (line[ll - 1] == '\r' || line[ll - 1] == ' '))
			line[--ll] = 0;
		if (strncmp(p, "Msg = ", 6) == 0 || strncmp(p, "Seed = ", 7) == 0) {
			const char *h = strchr(p, '=') + 2;
			size_t hl = 0;

			while (h[hl] && h[hl] != '\r' && h[hl] != '\n')
				hl++;
			if (hl / 2 + 1 > cap) {
				cap = hl / 2 + 1;
				r.msg = realloc(r.msg, cap);
			}
			char *tmp = strndup(h, hl);
			r.msg_len = rvm_test_unhex(tmp, r.msg, cap);
			free(tmp);
			if (r.msg_len < 0)
				return -1;
		} else if ((eq = strstr(line, " = ")) != NULL) {
			*eq = 0;
			if (strcmp(line, "Len") == 0) {
				r.len_bits = strtol(eq + 3, NULL, 10);
			} else if (strcmp(line, "COUNT") == 0) {
				r.count = strtol(eq + 3, NULL, 10);
			} else if (strcmp(line, "MD") == 0) {
				r.md_len = rvm_test_unhex(eq + 3, r.md, sizeof(r.md));
				if (r.md_len < 0)
					return -1;
				if (r.len_bits >= 0 && r.len_bits / 8 > r.msg_len)
					return -1;
				fn(&r, arg);
				n++;
				r.len_bits = -1;
			}
		}
		p = eol ? eol + 1 : p + ll;
	}
	free(r.msg);
	return n;
}

#endif
