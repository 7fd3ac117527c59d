/* lib/sha256.c - SHA-256 streaming API and the portable compression function. */
#include <rvm/bytes.h>
#include <rvm/sha256.h>

#include "sha256_internal.h"

const uint32_t rvm_sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Written so that gcc and clang emit one rotate instruction (ror on x86, ror on ARM). */
static inline uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/*
 * The FIPS 180-4 functions. BSIG0 and the small sigmas are nested: ror(ror(ror(x, 9) ^ x, 11) ^ x,
 * 2) equals ror(x, 2) ^ ror(x, 13) ^ ror(x, 22) with one register copy instead of three, and
 * copies are much of the cost on a two-operand ISA without BMI2. BSIG1 stays flat: e -> BSIG1 ->
 * new e is the round's critical path, and the nested form is twice as deep (measured slower).
 */
#define CH(e, f, g) ((((f) ^ (g)) & (e)) ^ (g))
#define BSIG0(a) ror32(ror32(ror32(a, 9) ^ (a), 11) ^ (a), 2)
#define BSIG1(e) (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25))
#define SSIG0(w) (ror32(ror32(w, 11) ^ (w), 7) ^ ((w) >> 3))
#define SSIG1(w) (ror32(ror32(w, 2) ^ (w), 17) ^ ((w) >> 10))

/*
 * One round. Instead of shifting the eight working variables, the callers rotate the names:
 * after a round, the new a is in h's slot and the new e in d's.
 * Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and this round's b ^ c is the previous round's a ^ b:
 * x receives a ^ b for the next round, y holds it from the previous one (callers alternate them).
 * t1 is summed in the order its inputs become ready (h, K, W first; e's functions last).
 */
#define RND(a, b, c, d, e, f, g, h, i, x, y, w)                    \
	do {                                                       \
		uint32_t t1_ = (h) + rvm_sha256_k[i] + (w);         \
		t1_ += CH(e, f, g);                                \
		t1_ += BSIG1(e);                                   \
		(x) = (a) ^ (b);                                   \
		(d) += t1_;                                        \
		t1_ += (b) ^ ((x) & (y));                          \
		(h) = t1_ + BSIG0(a);                              \
	} while (0)

/* Schedule word i in a rolling 16-word window, computed in the round that uses it:
 * w[t] = s1(w[t-2]) + w[t-7] + s0(w[t-15]) + w[t-16]. */
#define WEXP(i)                                                                      \
	(w[(i) & 15] += SSIG1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] +               \
			SSIG0(w[((i) - 15) & 15]))
/* Schedule word i < 16: the big-endian message word (gcc and clang fuse the shifts to bswap). */
#define WLOAD(i) (w[(i)] = rvm_load_be32(p + 4 * (i)))

/* Eight rounds from round i, schedule words from W(i). */
#define RND8(i, W)                                                        \
	do {                                                              \
		RND(a, b, c, d, e, f, g, h, (i) + 0, x, y, W((i) + 0));   \
		RND(h, a, b, c, d, e, f, g, (i) + 1, y, x, W((i) + 1));   \
		RND(g, h, a, b, c, d, e, f, (i) + 2, x, y, W((i) + 2));   \
		RND(f, g, h, a, b, c, d, e, (i) + 3, y, x, W((i) + 3));   \
		RND(e, f, g, h, a, b, c, d, (i) + 4, x, y, W((i) + 4));   \
		RND(d, e, f, g, h, a, b, c, (i) + 5, y, x, W((i) + 5));   \
		RND(c, d, e, f, g, h, a, b, (i) + 6, x, y, W((i) + 6));   \
		RND(b, c, d, e, f, g, h, a, (i) + 7, y, x, W((i) + 7));   \
	} while (0)

/*
 * The portable compression function: state in locals, rounds unrolled sixteen at a time (the
 * names come back to their slots every eight rounds), the schedule in a 16-word window. Rolling
 * 48 rounds into a loop of three halves the code and measured no slower than full unrolling.
 * Constant time: no branch or index depends on the data.
 */
static void sha256_blocks_portable(uint32_t state[8], const uint8_t *p, size_t nblocks)
{
	for (; nblocks--; p += RVM_SHA256_BLOCK) {
		uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
		uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
		uint32_t w[16], x, y = b ^ c;

		RND8(0, WLOAD);
		RND8(8, WLOAD);
		for (unsigned i = 16; i < 64; i += 16) {
			RND8(i, WEXP);
			RND8(i + 8, WEXP);
		}
		state[0] += a;
		state[1] += b;
		state[2] += c;
		state[3] += d;
		state[4] += e;
		state[5] += f;
		state[6] += g;
		state[7] += h;
	}
}

static const struct rvm_sha256_impl rvm_sha256_portable_impl = {
	.name = "portable",
	.blocks = sha256_blocks_portable,
};

const struct rvm_sha256_impl *rvm_sha256_portable(void)
{
	return &rvm_sha256_portable_impl;
}

void rvm_sha256_init(struct rvm_sha256 *ctx, const struct rvm_sha256_impl *impl)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	rvm_memcpy(ctx->state, iv, sizeof(iv));
	ctx->total = 0;
	ctx->buflen = 0;
	ctx->blocks = (impl ? impl : &rvm_sha256_portable_impl)->blocks;
	ctx->blocks2 = (impl ? impl : &rvm_sha256_portable_impl)->blocks2;
}

void rvm_sha256_update(struct rvm_sha256 *ctx, const void *data, size_t n)
{
	const uint8_t *p = data;

	ctx->total += n;
	if (ctx->buflen) {
		size_t take = RVM_SHA256_BLOCK - ctx->buflen;

		if (take > n)
			take = n;
		rvm_memcpy(ctx->buf + ctx->buflen, p, take);
		ctx->buflen += (uint32_t)take;
		p += take;
		n -= take;
		if (ctx->buflen < RVM_SHA256_BLOCK)
			return;
		ctx->blocks(ctx->state, ctx->buf, 1);
		ctx->buflen = 0;
	}
	if (n >= RVM_SHA256_BLOCK) {
		size_t nb = n / RVM_SHA256_BLOCK;

		ctx->blocks(ctx->state, p, nb);
		p += nb * RVM_SHA256_BLOCK;
		n -= nb * RVM_SHA256_BLOCK;
	}
	rvm_memcpy(ctx->buf, p, n);
	ctx->buflen = (uint32_t)n;
}

void rvm_sha256_update2(struct rvm_sha256 *a, const void *da, struct rvm_sha256 *b, const void *db,
			size_t n)
{
	const uint8_t *pa = da, *pb = db;

	if (n == 0)
		return;
	/* In step only from the same buffer fill on: both then reach block boundaries together. */
	if (a->blocks2 && a->blocks2 == b->blocks2 && a->buflen == b->buflen) {
		size_t head = a->buflen ? RVM_SHA256_BLOCK - a->buflen : 0;

		if (head <= n) {
			size_t nb;

			rvm_sha256_update(a, pa, head);
			rvm_sha256_update(b, pb, head);
			pa += head;
			pb += head;
			n -= head;
			nb = n / RVM_SHA256_BLOCK;
			if (nb) {
				a->blocks2(a->state, pa, b->state, pb, nb);
				a->total += nb * RVM_SHA256_BLOCK;
				b->total += nb * RVM_SHA256_BLOCK;
				pa += nb * RVM_SHA256_BLOCK;
				pb += nb * RVM_SHA256_BLOCK;
				n -= nb * RVM_SHA256_BLOCK;
			}
		}
	}
	rvm_sha256_update(a, pa, n);
	rvm_sha256_update(b, pb, n);
}

void rvm_sha256_final(struct rvm_sha256 *ctx, uint8_t out[RVM_SHA256_DIGEST])
{
	uint64_t bits = ctx->total * 8;

	ctx->buf[ctx->buflen++] = 0x80;
	if (ctx->buflen > RVM_SHA256_BLOCK - 8) {
		rvm_memset(ctx->buf + ctx->buflen, 0, RVM_SHA256_BLOCK - ctx->buflen);
		ctx->blocks(ctx->state, ctx->buf, 1);
		ctx->buflen = 0;
	}
	rvm_memset(ctx->buf + ctx->buflen, 0, RVM_SHA256_BLOCK - 8 - ctx->buflen);
	rvm_store_be64(ctx->buf + RVM_SHA256_BLOCK - 8, bits);
	ctx->blocks(ctx->state, ctx->buf, 1);
	for (int i = 0; i < 8; i++)
		rvm_store_be32(out + 4 * i, ctx->state[i]);
	rvm_wipe(ctx, sizeof(*ctx));
}

void rvm_sha256(const struct rvm_sha256_impl *impl, const void *data, size_t n,
		uint8_t out[RVM_SHA256_DIGEST])
{
	struct rvm_sha256 ctx;

	rvm_sha256_init(&ctx, impl);
	rvm_sha256_update(&ctx, data, n);
	rvm_sha256_final(&ctx, out);
}
