/* tools/rvm/cmd_sim.c - `rvm sim`: run an agent communication trace through a placement policy. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "sim.h"

static void usage(void)
{
	fprintf(stderr, "usage: rvm sim TRACE --nodes N --slots S "
			"--placement coherence|naive|static [--epoch-us U] [--trust-floor F] "
			"[--json]\n"
			"  TRACE: JSON Lines, one event per line, e.g.\n"
			"    {\"t_us\":0,\"op\":\"spawn\",\"agent\":\"a1\"}\n"
			"    {\"t_us\":5,\"op\":\"send\",\"from\":\"a1\",\"to\":\"a2\",\"bytes\":512}\n"
			"    {\"t_us\":9,\"op\":\"trust\",\"agent\":\"a2\",\"level\":20}\n"
			"    {\"t_us\":12,\"op\":\"exit\",\"agent\":\"a1\"}\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || *s == '-' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void print_result(const struct sim_config *c, const struct sim_result *r, bool json)
{
	static const char *const pname[] = { "naive", "static", "coherence" };

	if (json) {
		printf("{\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"remote_bytes\":%" PRIu64
		       ",\"splits\":%" PRIu64 ",\"merges\":%" PRIu64 ",\"migrations\":%" PRIu64
		       ",\"degraded_epochs\":%" PRIu64 ",\"mincut_p50_ns\":%" PRIu64
		       ",\"mincut_p99_ns\":%" PRIu64 "}\n",
		       r->messages, r->bytes, r->remote_bytes, r->splits, r->merges, r->migrations,
		       r->degraded_epochs, r->mincut_p50_ns, r->mincut_p99_ns);
		return;
	}
	printf("placement        %s (%u nodes x %u slots)\n", pname[c->placement], c->nodes,
	       c->slots);
	printf("messages         %" PRIu64 "\n", r->messages);
	printf("bytes            %" PRIu64 "\n", r->bytes);
	printf("remote_bytes     %" PRIu64 " (%.1f%%)\n", r->remote_bytes,
	       r->bytes ? 100.0 * (double)r->remote_bytes / (double)r->bytes : 0.0);
	printf("splits           %" PRIu64 "\n", r->splits);
	printf("merges           %" PRIu64 "\n", r->merges);
	printf("migrations       %" PRIu64 "\n", r->migrations);
	printf("degraded_epochs  %" PRIu64 " of %" PRIu64 "\n", r->degraded_epochs, r->epochs);
	printf("mincut_p50_ns    %" PRIu64 "\n", r->mincut_p50_ns);
	printf("mincut_p99_ns    %" PRIu64 "\n", r->mincut_p99_ns);
	if (c->placement == SIM_COHERENCE)
		printf("kernel           %" PRIu64 " witness records, %" PRIu64 " refusals\n",
		       r->witness_records, r->kernel_refusals);
}

int rvm_cmd_sim(int argc, char **argv)
{
	struct sim_config cfg = { .epoch_us = 1000, .trust_floor = 50 };
	const char *path = NULL;
	bool json = false, have_p = false;
	struct sim *s;
	struct sim_trace *nm;
	FILE *f;
	char *line = NULL, msg[256];
	size_t cap = 0;
	ssize_t len;
	uint32_t epoch_us = 1000;
	struct sim_result res;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;

		if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--nodes") == 0 && has_val) {
			if (parse_u32(argv[++i], &cfg.nodes))
				goto bad_num;
		} else if (strcmp(a, "--slots") == 0 && has_val) {
			if (parse_u32(argv[++i], &cfg.slots))
				goto bad_num;
		} else if (strcmp(a, "--epoch-us") == 0 && has_val) {
			if (parse_u32(argv[++i], &epoch_us))
				goto bad_num;
			cfg.epoch_us = epoch_us;
		} else if (strcmp(a, "--trust-floor") == 0 && has_val) {
			if (parse_u32(argv[++i], &cfg.trust_floor) || cfg.trust_floor > 100)
				goto bad_num;
		} else if (strcmp(a, "--placement") == 0 && has_val) {
			const char *p = argv[++i];

			have_p = true;
			if (strcmp(p, "coherence") == 0)
				cfg.placement = SIM_COHERENCE;
			else if (strcmp(p, "naive") == 0)
				cfg.placement = SIM_NAIVE;
			else if (strcmp(p, "static") == 0)
				cfg.placement = SIM_STATIC;
			else {
				fprintf(stderr, "rvm sim: unknown placement '%s'\n", p);
				usage();
				return 2;
			}
		} else if (a[0] != '-' && !path) {
			path = a;
		} else {
			fprintf(stderr, "rvm sim: unexpected argument '%s'\n", a);
			usage();
			return 2;
		}
		continue;
bad_num:
		fprintf(stderr, "rvm sim: %s needs a whole number in range, got '%s'\n", a,
			argv[i]);
		return 2;
	}
	if (!path || !cfg.nodes || !cfg.slots || !have_p) {
		usage();
		return 2;
	}
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "rvm sim: %s: %s\n", path, strerror(errno));
		return 2;
	}
	s = malloc(sizeof(*s));
	nm = calloc(1, sizeof(*nm));
	if (nm)
		sim_trace_init(nm);
	if (!s || !nm || sim_init(s, &cfg, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "rvm sim: %s\n", s && nm ? msg : "out of memory");
		free(s);
		free(nm);
		fclose(f);
		return 2;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (sim_trace_line(nm, s, line, (size_t)len, msg, sizeof(msg)) != 0) {
			fprintf(stderr, "rvm sim: %s:%s\n", path, msg);
			rc = 2;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "rvm sim: %s: read error\n", path);
		rc = 2;
	}
	if (rc == 0) {
		sim_finish(s, &res);
		print_result(&cfg, &res, json);
	}
	free(line);
	fclose(f);
	sim_free(s);
	free(s);
	free(nm);
	return rc;
}
