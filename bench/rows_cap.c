/* bench/rows_cap.c - capability proofs and the gate: P1, P1+P2, P3 on a depth-8 chain, P1 timing leak test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <sodium.h>

#include <hosted.h>
#include <rvm/ed25519.h>
#include <rvm/gate.h>
#include <rvm/witness.h>

#include "bench.h"

/* One kernel's worth of cap state for the rows (heap: the cap space is large). */
struct cap_bench {
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_witness_log wlog;
	struct rvm_map_table maps;
	struct rvm_gate gate;
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	rvm_obj_id obj;
	rvm_cap_t root, leaf; /* leaf: depth 8, in table 9 */
	struct rvm_region_desc region;
	struct rvm_quota quota;
	uint64_t nonce;
};

static struct cap_bench *cap_bench_new(void)
{
	struct cap_bench *b = calloc(1, sizeof(*b));
	struct rvm_witness_config cfg;
	rvm_cap_t h;

	if (!b || rvm_hosted_open(&b->hosted, NULL, RVM_HOSTED_QUIET, &b->plat) != RVM_OK)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_SHA256;
	memset(cfg.boot_nonce, 7, sizeof(cfg.boot_nonce));
	if (rvm_witness_init(&b->wlog, &b->plat, &cfg) != RVM_OK)
		abort();
	rvm_obj_init(&b->objs);
	rvm_cap_space_init(&b->caps, &b->objs, b->plat.sha256);
	rvm_map_init(&b->maps);
	rvm_gate_init(&b->gate, &b->caps, &b->wlog, &b->maps);
	if (rvm_obj_create(&b->objs, RVM_OBJ_REGION, &b->obj) != RVM_OK ||
	    rvm_cap_mint(&b->gate, 1, RVM_OBJ_REGION, b->obj, RVM_RIGHTS_ALL, &b->root) != RVM_OK)
		abort();
	h = b->root;
	for (uint32_t d = 1; d <= RVM_CAP_MAX_DEPTH; d++)
		if (rvm_cap_grant(&b->gate, d, h, d + 1, RVM_RIGHTS_ALL, &h) != RVM_OK)
			abort();
	b->leaf = h;
	b->region = (struct rvm_region_desc){ .owner = 1, .base = 1u << 20, .size = 1u << 16,
					      .writable = true };
	b->quota = (struct rvm_quota){ .limit = UINT64_MAX };
	return b;
}

static void cap_bench_free(struct cap_bench *b)
{
	rvm_hosted_close(&b->hosted);
	free(b);
}

/* ---- p1_check: P1 over a batch, amortised ---- */

#define P1_BATCH 4096
static uint8_t p1_held[P1_BATCH], p1_req[P1_BATCH], p1_out[P1_BATCH];

static void p1_fill(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;

	for (int i = 0; i < P1_BATCH; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p1_held[i] = (uint8_t)(x & RVM_RIGHTS_ALL);
		p1_req[i] = (uint8_t)((x >> 8) & RVM_RIGHTS_ALL);
	}
}

static void ours_p1(void *ctx, uint64_t iters)
{
	uint32_t acc = 0;

	(void)ctx;
	for (uint64_t i = 0; i < iters; i++)
		acc += rvm_proof_p1_batch(p1_held, p1_req, P1_BATCH, p1_out);
	rvm_bench_sink(&acc, sizeof(acc));
	rvm_bench_sink(p1_out, 16);
}

/* The obvious branching check, for scale (not constant time). */
static __attribute__((noinline)) uint32_t branchy_batch(const uint8_t *h, const uint8_t *r, size_t n,
							uint8_t *out)
{
	uint32_t acc = 0;

	for (size_t i = 0; i < n; i++) {
		if ((h[i] & r[i]) == r[i])
			out[i] = RVM_OK;
		else
			out[i] = RVM_E_PERM, acc |= RVM_E_PERM;
	}
	return acc;
}

static void peer_p1(void *ctx, uint64_t iters)
{
	uint32_t acc = 0;

	(void)ctx;
	for (uint64_t i = 0; i < iters; i++)
		acc += branchy_batch(p1_held, p1_req, P1_BATCH, p1_out);
	rvm_bench_sink(&acc, sizeof(acc));
}

static void run_p1_check(struct rvm_bench_result *out)
{
	p1_fill();
	rvm_bench_pair(ours_p1, NULL, peer_p1, NULL, 200, 21, &out->ours_ns, &out->peer_ns);
	out->ours_ns /= P1_BATCH;
	out->peer_ns /= P1_BATCH;
	snprintf(out->note, sizeof(out->note), "ns per check, batch of %d; peer branches", P1_BATCH);
}

RVM_BENCH_ROW(p1_check, "branchy-c", "< 1 ns", run_p1_check)

/* ---- gate_p1p2: the gate's decision, P1 + P2 (owner, region, epoch, nonce, quota) ---- */

static struct rvm_gate_req gate_req(struct cap_bench *b)
{
	struct rvm_gate_req req = {
		.action = RVM_ACT_REGION_WRITE,
		.checks = RVM_GATE_OWNER | RVM_GATE_REGION | RVM_GATE_EPOCH | RVM_GATE_NONCE |
			  RVM_GATE_QUOTA,
		.caller = 1,
		.cap = b->root,
		.rights = RVM_RIGHT_WRITE,
		.obj_type = RVM_OBJ_REGION,
		.object = b->obj,
		.owner = RVM_OWNER_NONE,
		.region = &b->region,
		.offset = 4096,
		.length = 4096,
		.align = 4096,
		.epoch = b->caps.epoch,
		.quota = &b->quota,
		.amount = 1,
	};
	return req;
}

static void ours_gate(void *ctx, uint64_t iters)
{
	struct cap_bench *b = ctx;
	struct rvm_gate_req req = gate_req(b);
	uint32_t bad = 0;

	for (uint64_t i = 0; i < iters; i++) {
		req.nonce = ++b->nonce;
		bad |= rvm_gate_authorize(&b->gate, &req);
	}
	if (bad)
		abort();
}

static void run_gate_p1p2(struct rvm_bench_result *out)
{
	struct cap_bench *b = cap_bench_new();

	out->ours_ns = rvm_bench_time(ours_gate, b, 100000, 21);
	snprintf(out->note, sizeof(out->note), "authorize: P1, owner, region, epoch, nonce, quota");
	cap_bench_free(b);
}

RVM_BENCH_ROW(gate_p1p2, NULL, "< 100 ns", run_gate_p1p2)

static void ours_gate_full(void *ctx, uint64_t iters)
{
	struct cap_bench *b = ctx;
	struct rvm_gate_req req = gate_req(b);
	uint32_t bad = 0;

	for (uint64_t i = 0; i < iters; i++) {
		req.nonce = ++b->nonce;
		bad |= rvm_gate_invoke(&b->gate, &req);
	}
	if (bad)
		abort();
}

static void run_gate_full(struct rvm_bench_result *out)
{
	struct cap_bench *b = cap_bench_new();

	out->ours_ns = rvm_bench_time(ours_gate_full, b, 20000, 21);
	snprintf(out->note, sizeof(out->note), "P1+P2, apply, witness record (SHA-256 chain, %s)",
		 b->plat.sha256 ? b->plat.sha256->name : "portable");
	cap_bench_free(b);
}

RVM_BENCH_ROW(gate_full, NULL, "informational", run_gate_full)

/* ---- p3_depth8: chain walk from a depth-8 cap to its root ---- */

static void ours_p3(void *ctx, uint64_t iters)
{
	struct cap_bench *b = ctx;
	uint32_t bad = 0;

	for (uint64_t i = 0; i < iters; i++)
		bad |= rvm_proof_p3(&b->caps, RVM_CAP_MAX_DEPTH + 1, b->leaf);
	if (bad)
		abort();
}

static void run_p3_depth8(struct rvm_bench_result *out)
{
	struct cap_bench *b = cap_bench_new();

	out->ours_ns = rvm_bench_time(ours_p3, b, 20000, 21);
	snprintf(out->note, sizeof(out->note), "9 links, a SHA-256 seal each (%s)",
		 b->plat.sha256 ? b->plat.sha256->name : "portable");
	cap_bench_free(b);
}

RVM_BENCH_ROW(p3_depth8, NULL, "informational", run_p3_depth8)

/* ---- p3_depth8_signed: an exported depth-8 chain, every link Ed25519-signed, verified ---- */

struct signed_chain {
	struct rvm_cap_token ch[RVM_CAP_MAX_DEPTH + 1];
	uint8_t body[RVM_CAP_MAX_DEPTH + 1][RVM_CAP_TOKEN_BODY];
	uint32_t n;
	uint8_t pk[RVM_ED25519_PUBLIC];
	const struct rvm_sha256_impl *sha;
};

static void ours_signed(void *ctx, uint64_t iters)
{
	struct signed_chain *s = ctx;
	uint32_t bad = 0;

	for (uint64_t i = 0; i < iters; i++)
		bad |= rvm_proof_chain_verify(s->sha, s->ch, s->n, s->pk);
	if (bad)
		abort();
}

/* libsodium checking the same nine signatures (signatures only: no seals, no rights). */
static void peer_signed(void *ctx, uint64_t iters)
{
	struct signed_chain *s = ctx;
	int bad = 0;

	for (uint64_t i = 0; i < iters; i++)
		for (uint32_t k = 0; k < s->n; k++)
			bad |= crypto_sign_verify_detached(s->ch[k].sig, s->body[k],
							   RVM_CAP_TOKEN_BODY, s->pk);
	if (bad)
		abort();
}

static void run_p3_signed(struct rvm_bench_result *out)
{
	struct cap_bench *b = cap_bench_new();
	struct signed_chain *s = calloc(1, sizeof(*s));
	uint8_t seed[RVM_ED25519_SEED], sk[RVM_ED25519_SECRET];

	if (!s || sodium_init() < 0)
		abort();
	memset(seed, 0x42, sizeof(seed));
	rvm_ed25519_keypair(s->pk, sk, seed);
	if (rvm_proof_chain_export(&b->caps, RVM_CAP_MAX_DEPTH + 1, b->leaf, s->ch, &s->n) != RVM_OK)
		abort();
	for (uint32_t k = 0; k < s->n; k++) {
		rvm_proof_token_sign(&s->ch[k], sk);
		rvm_cap_token_encode(&s->ch[k], s->body[k]);
	}
	s->sha = b->plat.sha256;
	rvm_bench_pair(ours_signed, s, peer_signed, s, 50, 11, &out->ours_ns, &out->peer_ns);
	snprintf(out->note, sizeof(out->note), "%u links: seals + rights + Ed25519 each", s->n);
	free(s);
	cap_bench_free(b);
}

RVM_BENCH_ROW(p3_depth8_signed, "libsodium-verify-x9", "informational", run_p3_signed)

/* ---- p1_ct: dudect-style leak test: does P1's time depend on which right is missing? ---- */

static uint64_t cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned aux;

	_mm_lfence();
	return __rdtscp(&aux);
#else
	return rvm_bench_now_ns();
#endif
}

#define CT_SAMPLES 400000
#define CT_INNER 16

/* Square root by Newton's method (the bench links no libm). */
static double newton_sqrt(double v)
{
	double r = v > 1 ? v : 1;

	if (v <= 0)
		return 0;
	for (int i = 0; i < 200; i++)
		r = 0.5 * (r + v / r);
	return r;
}

/* Welch's t over the samples at or below a cutoff. */
static double welch_t(const uint64_t *t, const uint8_t *cls, size_t n, uint64_t cutoff)
{
	double s[2] = { 0, 0 }, ss[2] = { 0, 0 }, c[2] = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		if (t[i] > cutoff)
			continue;
		s[cls[i]] += (double)t[i];
		ss[cls[i]] += (double)t[i] * (double)t[i];
		c[cls[i]]++;
	}
	if (c[0] < 2 || c[1] < 2)
		return 0;
	double m0 = s[0] / c[0], m1 = s[1] / c[1];
	double v0 = ss[0] / c[0] - m0 * m0, v1 = ss[1] / c[1] - m1 * m1;
	double den = newton_sqrt(v0 / c[0] + v1 / c[1]);

	return den > 0 ? (m0 - m1) / den : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void run_p1_ct(struct rvm_bench_result *out)
{
	/* Called through a volatile pointer: no inlining, no constant folding. */
	enum rvm_err (*volatile p1)(uint8_t, uint8_t) = rvm_proof_p1;
	uint64_t *t = malloc(CT_SAMPLES * sizeof(*t)), *sorted = malloc(CT_SAMPLES * sizeof(*t));
	uint8_t *cls = malloc(CT_SAMPLES), *held = malloc(CT_SAMPLES);
	uint64_t x = 0x1234567u;
	double worst = 0;
	static const double pct[] = { 0.5, 0.75, 0.9, 0.99, 1.0 };

	if (!t || !sorted || !cls || !held)
		abort();
	/* Class 0: READ is always the missing right. Class 1: a random right is missing. */
	for (size_t i = 0; i < CT_SAMPLES; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		cls[i] = x & 1;
		held[i] = (uint8_t)(RVM_RIGHTS_ALL & ~(cls[i] ? 1u << ((x >> 8) % 7) : 1u));
	}
	for (size_t i = 0; i < CT_SAMPLES; i++) {
		uint8_t h = held[i];
		uint32_t acc = 0;
		uint64_t t0 = cycles();

		for (int k = 0; k < CT_INNER; k++)
			acc += p1(h, RVM_RIGHTS_ALL);
		t[i] = cycles() - t0;
		if (acc != CT_INNER * RVM_E_PERM)
			abort();
	}
	memcpy(sorted, t, CT_SAMPLES * sizeof(*t));
	qsort(sorted, CT_SAMPLES, sizeof(*t), cmp_u64);
	for (size_t k = 0; k < sizeof(pct) / sizeof(pct[0]); k++) {
		size_t idx = (size_t)(pct[k] * (CT_SAMPLES - 1));
		double tt = welch_t(t, cls, CT_SAMPLES, sorted[idx]);

		tt = tt < 0 ? -tt : tt;

		if (tt > worst)
			worst = tt;
	}
	out->ours_ns = (double)sorted[CT_SAMPLES / 2] / CT_INNER;
	snprintf(out->note, sizeof(out->note), "max |t| = %.2f over crops (|t| < 4.5 passes: %s); %s",
		 worst, worst < 4.5 ? "pass" : "FAIL",
#if defined(__x86_64__) || defined(__i386__)
		 "ours = median cycles/call"
#else
		 "ours = median ns/call"
#endif
	);
	free(t);
	free(sorted);
	free(cls);
	free(held);
}

RVM_BENCH_ROW(p1_ct, NULL, "|t| < 4.5", run_p1_ct)
