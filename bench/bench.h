/* bench/bench.h - the benchmark harness: rows of "our figure vs a peer's, in the same run". */
#ifndef RVM_BENCH_H
#define RVM_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* What a row reports. ns figures are per operation; peer_ns 0 means no peer. */
struct rvm_bench_result {
	double ours_ns;
	double peer_ns;
	char note[96]; /* free text shown in the table, e.g. "2.1 Mrec/s" */
};

struct rvm_bench_row {
	const char *name;   /* id printed as BENCH name=... */
	const char *peer;   /* peer id, or NULL */
	const char *target; /* the goal in words, e.g. "ratio <= 1.2" */
	void (*run)(struct rvm_bench_result *out);
	/*
	 * NULL, or "NAME=VALUE": the row then runs in a child process started
	 * with that variable set, for peers that read their configuration at
	 * load time (e.g. OPENSSL_ia32cap to mask SHA-NI in OpenSSL).
	 */
	const char *env;
	struct rvm_bench_row *next;
};

/* Rows register themselves from a constructor: RVM_BENCH_ROW(...) at file scope. */
void rvm_bench_register(struct rvm_bench_row *row);

#define RVM_BENCH_ROW_ENV(id, peer_id, target_text, fn, env_assign)                   \
	static struct rvm_bench_row rvm_bench_row_##id = { #id, peer_id, target_text, fn, \
							   env_assign, NULL };       \
	__attribute__((constructor)) static void rvm_bench_reg_##id(void)             \
	{                                                                             \
		rvm_bench_register(&rvm_bench_row_##id);                              \
	}
#define RVM_BENCH_ROW(id, peer_id, target_text, fn) \
	RVM_BENCH_ROW_ENV(id, peer_id, target_text, fn, NULL)

/* Environment that masks SHA-NI (and AVX-512 SHA paths) in OpenSSL. */
#define RVM_BENCH_OPENSSL_NO_SHANI "OPENSSL_ia32cap=:~0x20000000"

typedef void rvm_bench_fn(void *ctx, uint64_t iters);

/* Monotonic nanoseconds. */
uint64_t rvm_bench_now_ns(void);
/*
 * Times fn over `iters` iterations, `rounds` times; returns the median ns per
 * iteration. Use for rows without a peer.
 */
double rvm_bench_time(rvm_bench_fn *fn, void *ctx, uint64_t iters, int rounds);
/*
 * Times ours and peer interleaved (ours, peer, ours, peer, ...) so both see the
 * same machine load; writes the median ns per iteration of each.
 */
void rvm_bench_pair(rvm_bench_fn *ours, void *ours_ctx, rvm_bench_fn *peer, void *peer_ctx,
		    uint64_t iters, int rounds, double *ours_ns, double *peer_ns);
/* The median of v[0..n) (sorts v; for an even n, the upper of the middle two); n > 0. */
double rvm_bench_median(double *v, int n);
/* Keeps the compiler from discarding a computed value. */
void rvm_bench_sink(const void *p, size_t n);

#endif
