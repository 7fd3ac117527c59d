/* agents/hello.c - a small agent that talks to its host through RVM's imports (log, now). */
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("rvm"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

IMPORT("log") void rvm_log(const char *msg, int len);
IMPORT("now") int64_t rvm_now(void);

static char line[64];

/* Writes "tick N" lines for n ticks; returns the sum of the times the host reported. */
EXPORT("ticks") int64_t ticks(int n)
{
	int64_t total = 0;

	for (int i = 0; i < n; i++) {
		int len = 0, v = i;
		char digits[12];
		int nd = 0;

		for (const char *p = "tick "; *p; p++)
			line[len++] = *p;
		do {
			digits[nd++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (nd)
			line[len++] = digits[--nd];
		rvm_log(line, len);
		total += rvm_now();
	}
	return total;
}
