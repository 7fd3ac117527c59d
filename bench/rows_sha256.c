/* bench/rows_sha256.c - SHA-256 of one 4 KiB page, ours vs OpenSSL. */
#include <stdio.h>

#include <openssl/sha.h>

#include <rvm/sha256.h>

#include "bench.h"

static unsigned char page[4096];

static void ours_page(void *ctx, uint64_t iters)
{
	const struct rvm_sha256_impl *impl = ctx;
	uint8_t d[32];

	for (uint64_t i = 0; i < iters; i++) {
		page[0] = (unsigned char)i;
		rvm_sha256(impl, page, sizeof(page), d);
	}
	rvm_bench_sink(d, sizeof(d));
}

static void peer_page(void *ctx, uint64_t iters)
{
	uint8_t d[32];

	(void)ctx;
	for (uint64_t i = 0; i < iters; i++) {
		page[0] = (unsigned char)i;
		SHA256(page, sizeof(page), d);
	}
	rvm_bench_sink(d, sizeof(d));
}

static void run_sha256_4k(struct rvm_bench_result *out)
{
	rvm_bench_pair(ours_page, (void *)rvm_sha256_detect(), peer_page, NULL, 2000, 21,
		       &out->ours_ns, &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "impl %s", rvm_sha256_detect()->name);
}

RVM_BENCH_ROW(sha256_4k, "openssl-SHA256", "ratio <= 1.2", run_sha256_4k)

static void run_sha256_4k_portable(struct rvm_bench_result *out)
{
	rvm_bench_pair(ours_page, (void *)rvm_sha256_portable(), peer_page, NULL, 1000, 21,
		       &out->ours_ns, &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "portable vs OpenSSL without SHA-NI");
}

RVM_BENCH_ROW_ENV(sha256_4k_portable, "openssl-SHA256-noshani", "ratio <= 1.3",
		  run_sha256_4k_portable, RVM_BENCH_OPENSSL_NO_SHANI)
