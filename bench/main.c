/* bench/main.c - runs the registered rows, prints a table and one BENCH line per row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static struct rvm_bench_row *rvm_bench_rows;

void rvm_bench_register(struct rvm_bench_row *row)
{
	struct rvm_bench_row **p = &rvm_bench_rows;

	/* Keep rows sorted by name so the table reads the same every run. */
	while (*p && strcmp((*p)->name, row->name) < 0)
		p = &(*p)->next;
	row->next = *p;
	*p = row;
}

uint64_t rvm_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double rvm_bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* The median of a row's rounds: an even count averages the middle two. */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define RVM_BENCH_MAX_ROUNDS 101

double rvm_bench_time(rvm_bench_fn *fn, void *ctx, uint64_t iters, int rounds)
{
	double t[RVM_BENCH_MAX_ROUNDS];

	if (rounds > RVM_BENCH_MAX_ROUNDS)
		rounds = RVM_BENCH_MAX_ROUNDS;
	fn(ctx, iters); /* warm caches and branch predictors */
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = rvm_bench_now_ns();

		fn(ctx, iters);
		t[r] = (double)(rvm_bench_now_ns() - t0) / (double)iters;
	}
	return median(t, rounds);
}

void rvm_bench_pair(rvm_bench_fn *ours, void *ours_ctx, rvm_bench_fn *peer, void *peer_ctx,
		    uint64_t iters, int rounds, double *ours_ns, double *peer_ns)
{
	double a[RVM_BENCH_MAX_ROUNDS], b[RVM_BENCH_MAX_ROUNDS];

	if (rounds > RVM_BENCH_MAX_ROUNDS)
		rounds = RVM_BENCH_MAX_ROUNDS;
	ours(ours_ctx, iters);
	peer(peer_ctx, iters);
	for (int r = 0; r < rounds; r++) {
		uint64_t t0 = rvm_bench_now_ns();

		ours(ours_ctx, iters);
		a[r] = (double)(rvm_bench_now_ns() - t0) / (double)iters;
		t0 = rvm_bench_now_ns();
		peer(peer_ctx, iters);
		b[r] = (double)(rvm_bench_now_ns() - t0) / (double)iters;
	}
	*ours_ns = median(a, rounds);
	*peer_ns = median(b, rounds);
}

void rvm_bench_sink(const void *p, size_t n)
{
	/* The compiler must assume the asm reads all n bytes. */
	(void)n;
	__asm__ volatile("" : : "r"(p) : "memory");
}

/*
 * Runs one row in a child started with row->env set: the child is this same
 * program with --child NAME, and prints the result as "CHILD ours peer note".
 */
static int run_in_child(const struct rvm_bench_row *row, struct rvm_bench_result *res)
{
	char cmd[512], line[256];
	FILE *f;
	int ok = 0;

	snprintf(cmd, sizeof(cmd), "env '%s' /proc/%d/exe --child '%s'", row->env, (int)getpid(),
		 row->name);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		int off = 0;

		if (sscanf(line, "CHILD %lf %lf %n", &res->ours_ns, &res->peer_ns, &off) == 2) {
			snprintf(res->note, sizeof(res->note), "%s", line + off);
			res->note[strcspn(res->note, "\n")] = 0;
			ok = 1;
		}
	}
	return pclose(f) == 0 && ok ? 0 : -1;
}

static int child_main(const char *name)
{
	for (struct rvm_bench_row *r = rvm_bench_rows; r; r = r->next) {
		struct rvm_bench_result res;

		if (strcmp(r->name, name))
			continue;
		memset(&res, 0, sizeof(res));
		r->run(&res);
		printf("CHILD %.6f %.6f %s\n", res.ours_ns, res.peer_ns, res.note);
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	const char *filter = NULL;
	struct rvm_bench_result res[256];
	struct rvm_bench_row *rows[256];
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
			filter = argv[++i];
		} else if (!strcmp(argv[i], "--child") && i + 1 < argc) {
			return child_main(argv[i + 1]);
		} else {
			fprintf(stderr, "usage: rvm-bench [--filter SUBSTRING]\n");
			return 2;
		}
	}
	if (filter && !*filter)
		filter = NULL;
	for (struct rvm_bench_row *r = rvm_bench_rows; r && n < 256; r = r->next) {
		if (filter && !strstr(r->name, filter))
			continue;
		memset(&res[n], 0, sizeof(res[n]));
		fprintf(stderr, "bench: %s ...\n", r->name);
		if (!r->env) {
			r->run(&res[n]);
		} else if (run_in_child(r, &res[n]) != 0) {
			fprintf(stderr, "bench: %s failed in its child process\n", r->name);
			return 1;
		}
		rows[n++] = r;
	}
	printf("%-24s %12s  %-18s %12s %8s  %-16s %s\n", "row", "ours ns", "peer", "peer ns", "ratio",
	       "target", "note");
	for (int i = 0; i < n; i++) {
		if (res[i].peer_ns > 0)
			printf("%-24s %12.2f  %-18s %12.2f %8.3f  %-16s %s\n", rows[i]->name,
			       res[i].ours_ns, rows[i]->peer, res[i].peer_ns,
			       res[i].ours_ns / res[i].peer_ns, rows[i]->target ? rows[i]->target : "",
			       res[i].note);
		else
			printf("%-24s %12.2f  %-18s %12s %8s  %-16s %s\n", rows[i]->name, res[i].ours_ns,
			       "-", "-", "-", rows[i]->target ? rows[i]->target : "", res[i].note);
	}
	printf("\n");
	for (int i = 0; i < n; i++) {
		printf("BENCH name=%s ours_ns=%.3f", rows[i]->name, res[i].ours_ns);
		if (res[i].peer_ns > 0)
			printf(" peer=%s peer_ns=%.3f ratio=%.4f", rows[i]->peer, res[i].peer_ns,
			       res[i].ours_ns / res[i].peer_ns);
		printf("\n");
	}
	if (n == 0) {
		fprintf(stderr, "rvm-bench: no row matches '%s'\n", filter ? filter : "");
		return 1;
	}
	return 0;
}
