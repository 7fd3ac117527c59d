/* bench/rows_witness.c - witness emit and chain verify, ours vs OpenSSL's SHA256() on the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <rvm/bytes.h>
#include <rvm/witness.h>
#include <rvm/witness_file.h>

#include "bench.h"
#include "hosted.h"

static struct rvm_witness_log bench_log;
static struct rvm_hosted bench_hosted;
static struct rvm_platform bench_plat;

/* A ring-only log on the hosted platform (real clock, no sink), chain and hash as given. */
static void open_log(enum rvm_witness_chain chain, const struct rvm_sha256_impl *sha)
{
	struct rvm_witness_config cfg = { .chain = chain, .sig = RVM_SIG_NONE };

	rvm_hosted_open(&bench_hosted, NULL, RVM_HOSTED_QUIET, &bench_plat);
	bench_plat.sha256 = sha;
	memset(cfg.boot_nonce, 1, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&bench_log, &bench_plat, &cfg) != RVM_OK)
		abort();
}

static void ours_emit(void *ctx, uint64_t iters)
{
	(void)ctx;
	for (uint64_t i = 0; i < iters; i++)
		rvm_witness_emit(&bench_log, RVM_ACT_IPC_SEND, 0, 3, i, i, 0, NULL);
	rvm_bench_sink(bench_log.digest, 8);
}

/* The peer hashes what a chain step hashes: the 32-byte previous digest and a 64-byte record. */
static void peer_sha256_96(void *ctx, uint64_t iters)
{
	static uint8_t in[96];
	uint8_t d[32];

	(void)ctx;
	for (uint64_t i = 0; i < iters; i++) {
		in[40] = (uint8_t)i;
		SHA256(in, sizeof(in), d);
		memcpy(in, d, 8);
	}
	rvm_bench_sink(d, sizeof(d));
}

static void run_emit(struct rvm_bench_result *out)
{
	const struct rvm_sha256_impl *sha = rvm_sha256_detect();

	open_log(RVM_CHAIN_SHA256, sha);
	rvm_bench_pair(ours_emit, NULL, peer_sha256_96, NULL, 100000, 21, &out->ours_ns,
		       &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "emit incl. clock read, impl %s", sha->name);
}

RVM_BENCH_ROW(witness_emit, "openssl-SHA256-96B", "ratio <= 1.2", run_emit)

/*
 * OpenSSL 3's one-shot SHA256() fetches the algorithm on every call; a context
 * on a pre-fetched EVP_MD shows what its hashing itself costs.
 */
static void peer_evp_96(void *ctx, uint64_t iters)
{
	static uint8_t in[96];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t d[32];

	for (uint64_t i = 0; i < iters; i++) {
		in[40] = (uint8_t)i;
		EVP_DigestInit_ex(c, ctx, NULL);
		EVP_DigestUpdate(c, in, sizeof(in));
		EVP_DigestFinal_ex(c, d, NULL);
		memcpy(in, d, 8);
	}
	EVP_MD_CTX_free(c);
	rvm_bench_sink(d, sizeof(d));
}

static void run_emit_evp(struct rvm_bench_result *out)
{
	const struct rvm_sha256_impl *sha = rvm_sha256_detect();
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);

	open_log(RVM_CHAIN_SHA256, sha);
	rvm_bench_pair(ours_emit, NULL, peer_evp_96, md, 100000, 21, &out->ours_ns, &out->peer_ns);
	EVP_MD_free(md);
	snprintf(out->note, sizeof(out->note), "emit incl. clock read vs pre-fetched EVP, impl %s",
		 sha->name);
}

RVM_BENCH_ROW(witness_emit_evp, "openssl-EVP-SHA256-96B", "ratio <= 1.2", run_emit_evp)

static void run_emit_portable(struct rvm_bench_result *out)
{
	open_log(RVM_CHAIN_SHA256, rvm_sha256_portable());
	rvm_bench_pair(ours_emit, NULL, peer_sha256_96, NULL, 50000, 21, &out->ours_ns,
		       &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "portable vs OpenSSL without SHA-NI");
}

RVM_BENCH_ROW_ENV(witness_emit_portable, "openssl-SHA256-96B-noshani", "ratio <= 1.2",
		  run_emit_portable, RVM_BENCH_OPENSSL_NO_SHANI)

static void run_emit_fnv(struct rvm_bench_result *out)
{
	open_log(RVM_CHAIN_FNV1A, NULL);
	out->ours_ns = rvm_bench_time(ours_emit, NULL, 100000, 21);
	snprintf(out->note, sizeof(out->note), "FNV-1a chain (seed profile), ns/record");
}

RVM_BENCH_ROW(witness_emit_fnv, NULL, "ns/record, no peer", run_emit_fnv)

/* 1 M records in memory, written once through a log with a memory sink. */
#define VERIFY_RECORDS 1000000u

static uint8_t *mem_file;
static size_t mem_len;

static enum rvm_err mem_append(void *ctx, enum rvm_sink_stream s, const void *buf, size_t n)
{
	(void)ctx;
	(void)s;
	memcpy(mem_file + mem_len, buf, n);
	mem_len += n;
	return RVM_OK;
}

static enum rvm_err mem_sync(void *ctx, enum rvm_sink_stream s)
{
	(void)ctx;
	(void)s;
	return RVM_OK;
}

static void build_1m(void)
{
	struct rvm_witness_config cfg = { .chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE };

	mem_file = malloc(RVM_WFILE_HEADER_SIZE + (size_t)VERIFY_RECORDS * 64);
	mem_len = 0;
	rvm_hosted_open(&bench_hosted, NULL, RVM_HOSTED_QUIET, &bench_plat);
	bench_plat.sink_append = mem_append;
	bench_plat.sink_sync = mem_sync;
	memset(cfg.boot_nonce, 2, sizeof(cfg.boot_nonce));
	if (!mem_file || rvm_witness_init(&bench_log, &bench_plat, &cfg) != RVM_OK)
		abort();
	for (uint32_t i = 0; i < VERIFY_RECORDS; i++)
		if (rvm_witness_emit(&bench_log, RVM_ACT_IPC_SEND, 0, i % 7, i, i, 0, NULL) != RVM_OK)
			abort();
	if (rvm_witness_flush(&bench_log) != RVM_OK)
		abort();
}

static void ours_verify(void *ctx, uint64_t iters)
{
	static struct rvm_witness_reader rd;

	for (uint64_t i = 0; i < iters; i++) {
		rvm_witness_reader_init(&rd, ctx, NULL, NULL, NULL);
		rvm_witness_reader_feed(&rd, mem_file, mem_len);
		if (rvm_witness_reader_finish(&rd)->err != RVM_OK || rd.v.records != VERIFY_RECORDS)
			abort();
	}
}

/* The same checks with OpenSSL doing the hashing: seq, prev8, recomputed self8. */
static void peer_verify(void *ctx, uint64_t iters)
{
	uint8_t in[96], d[32];

	(void)ctx;
	for (uint64_t it = 0; it < iters; it++) {
		memcpy(d, mem_file + 48, 32); /* D0 from the header */
		for (uint64_t s = 0; s < VERIFY_RECORDS; s++) {
			const uint8_t *rec = mem_file + RVM_WFILE_HEADER_SIZE + s * 64;

			if (rvm_load_le64(rec) != s || memcmp(rec + 48, d, 8) != 0)
				abort();
			memcpy(in, d, 32);
			memcpy(in + 32, rec, 56);
			memset(in + 88, 0, 8);
			SHA256(in, sizeof(in), d);
			if (memcmp(rec + 56, d, 8) != 0)
				abort();
		}
	}
}

static void run_verify_1m(struct rvm_bench_result *out)
{
	const struct rvm_sha256_impl *sha = rvm_sha256_detect();

	build_1m();
	rvm_bench_pair(ours_verify, (void *)sha, peer_verify, NULL, 1, 7, &out->ours_ns,
		       &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "1M records: ours %.2f Mrec/s, OpenSSL %.2f Mrec/s",
		 VERIFY_RECORDS / out->ours_ns * 1e3, VERIFY_RECORDS / out->peer_ns * 1e3);
	out->ours_ns /= VERIFY_RECORDS;
	out->peer_ns /= VERIFY_RECORDS;
	free(mem_file);
}

RVM_BENCH_ROW(witness_verify_1m, "openssl-SHA256-chain", "ratio <= 1.2 (ns/record)",
	      run_verify_1m)
