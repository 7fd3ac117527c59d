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

#include <rvm/ed25519.h>

struct ed_ctx {
	uint8_t pk[32], sk[64], sig[64];
	uint8_t msg[64];
};

static struct ed_ctx ed;

static void ed_setup(void)
{
	uint8_t seed[32] = { 0x42, 0x17 };

	rvm_ed25519_keypair(ed.pk, ed.sk, seed);
	rvm_ed25519_sign(ed.sig, ed.sk, ed.msg, sizeof(ed.msg));
}

static void ours_sign(void *ctx, uint64_t iters)
{
	(void)ctx;
	for (uint64_t i = 0; i < iters; i++) {
		ed.msg[0] = (uint8_t)i;
		rvm_ed25519_sign(ed.sig, ed.sk, ed.msg, sizeof(ed.msg));
	}
	rvm_bench_sink(ed.sig, sizeof(ed.sig));
}

static void peer_sign(void *ctx, uint64_t iters)
{
	(void)ctx;
	for (uint64_t i = 0; i < iters; i++) {
		ed.msg[0] = (uint8_t)i;
		crypto_sign_detached(ed.sig, NULL, ed.msg, sizeof(ed.msg), ed.sk);
	}
	rvm_bench_sink(ed.sig, sizeof(ed.sig));
}

static void run_sign(struct rvm_bench_result *out)
{
	if (sodium_init() < 0)
		return;
	ed_setup();
	rvm_bench_pair(ours_sign, NULL, peer_sign, NULL, 200, 21, &out->ours_ns, &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "64-byte message");
}

RVM_BENCH_ROW(ed25519_sign, "libsodium-crypto_sign_detached", "ratio <= 1.3", run_sign)

static unsigned verify_fails;

static void ours_verify(void *ctx, uint64_t iters)
{
	(void)ctx;
	for (uint64_t i = 0; i < iters; i++)
		verify_fails += !rvm_ed25519_verify(ed.sig, ed.pk, ed.msg, sizeof(ed.msg));
}

static void peer_verify(void *ctx, uint64_t iters)
{
	(void)ctx;
	for (uint64_t i = 0; i < iters; i++)
		verify_fails +=
			crypto_sign_verify_detached(ed.sig, ed.msg, sizeof(ed.msg), ed.pk) != 0;
}

static void run_verify(struct rvm_bench_result *out)
{
	if (sodium_init() < 0)
		return;
	ed_setup();
	verify_fails = 0;
	rvm_bench_pair(ours_verify, NULL, peer_verify, NULL, 100, 21, &out->ours_ns,
		       &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "64-byte message%s",
		 verify_fails ? ", VERIFY FAILED" : "");
}

RVM_BENCH_ROW(ed25519_verify, "libsodium-crypto_sign_verify_detached", "ratio <= 1.3", run_verify)
