/* bench/rows_crypto.c - HMAC-SHA-256 and Ed25519, ours vs libsodium. */
#include <stdio.h>

#include <sodium.h>

#include <rvm/hmac.h>

#include "bench.h"

static uint8_t hmac_key[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static uint8_t hmac_msg[96];

static void ours_hmac(void *ctx, uint64_t iters)
{
	const struct rvm_sha256_impl *impl = ctx;
	uint8_t tag[32];

	for (uint64_t i = 0; i < iters; i++) {
		hmac_msg[0] = (uint8_t)i;
		rvm_hmac_sha256(impl, hmac_key, sizeof(hmac_key), hmac_msg, sizeof(hmac_msg), tag);
	}
	rvm_bench_sink(tag, sizeof(tag));
}

static void peer_hmac(void *ctx, uint64_t iters)
{
	uint8_t tag[32];

	(void)ctx;
	for (uint64_t i = 0; i < iters; i++) {
		hmac_msg[0] = (uint8_t)i;
		crypto_auth_hmacsha256(tag, hmac_msg, sizeof(hmac_msg), hmac_key);
	}
	rvm_bench_sink(tag, sizeof(tag));
}

static void run_hmac(struct rvm_bench_result *out)
{
	const struct rvm_sha256_impl *impl = rvm_sha256_detect();

	if (sodium_init() < 0)
		return;
	rvm_bench_pair(ours_hmac, (void *)impl, peer_hmac, NULL, 20000, 21, &out->ours_ns,
		       &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "96-byte message, impl %s", impl->name);
}

RVM_BENCH_ROW(hmac_sha256, "libsodium-crypto_auth_hmacsha256", "ratio <= 1.3", run_hmac)
