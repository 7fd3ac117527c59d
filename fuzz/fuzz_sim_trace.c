/* fuzz/fuzz_sim_trace.c - libFuzzer: the `rvm sim` trace reader and simulator on arbitrary traces. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sim sim;
static struct sim_trace trace;

/* msg must start with the line number of the line that failed, then ": ". */
static void expect_line_number(const char *msg, uint64_t lineno)
{
	char want[32];
	int n = snprintf(want, sizeof(want), "%llu: ", (unsigned long long)lineno);

	if (n <= 0 || strncmp(msg, want, (size_t)n) != 0 || msg[n] == '\0') {
		fprintf(stderr, "error for line %llu does not name it: '%s'\n",
			(unsigned long long)lineno, msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_config cfg = { .epoch_us = 50, .trust_floor = 50 };
	struct sim_result res;
	char msg[256], *buf;
	size_t start = 0;

	/* Byte 0: placement and node count, byte 1: slots; the rest is the trace. */
	if (size < 2)
		return 0;
	cfg.placement = (enum sim_placement)(data[0] % 3u);
	cfg.nodes = 1u + (data[0] >> 2) % 8u;
	cfg.slots = 1u + data[1] % 16u;
	data += 2;
	size -= 2;
	if (sim_init(&sim, &cfg, msg, sizeof(msg)) != 0)
		abort(); /* the config above is always valid */
	sim_trace_init(&trace);
	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	while (start < size) {
		size_t end = start;

		while (end < size && buf[end] != '\n')
			end++;
		buf[end] = '\0';
		if (sim_trace_line(&trace, &sim, buf + start, end - start, msg, sizeof(msg)) != 0) {
			expect_line_number(msg, trace.lineno);
			break;
		}
		start = end + 1;
	}
	sim_finish(&sim, &res);
	if (res.remote_bytes > res.bytes)
		abort();
	sim_free(&sim);
	free(buf);
	return 0;
}
