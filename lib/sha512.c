/* lib/sha512.c - SHA-512 (FIPS 180-4), portable C with fully unrolled rounds; used by Ed25519. */
#include <rvm/bytes.h>
#include <rvm/sha512.h>

/* FIPS 180-4 section 4.2.3: first 64 bits of the cube roots of the first 80 primes. */
static const uint64_t sha512_k[80] = {
	0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull,
	0x3956c25bf348b538ull, 0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull,
	0xd807aa98a3030242ull, 0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
	0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull, 0xc19bf174cf692694ull,
	0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
	0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
	0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull,
	0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull, 0x06ca6351e003826full, 0x142929670a0e6e70ull,
	0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
	0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
	0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull,
	0xd192e819d6ef5218ull, 0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
	0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull,
	0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull,
	0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
	0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull,
	0xca273eceea26619cull, 0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull,
	0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
	0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull, 0x431d67c49c100d4cull,
	0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull,
};

static inline uint64_t ror64(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

#define CH(e, f, g) ((((f) ^ (g)) & (e)) ^ (g))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
#define BSIG0(a) (ror64(a, 28) ^ ror64(a, 34) ^ ror64(a, 39))
#define BSIG1(e) (ror64(e, 14) ^ ror64(e, 18) ^ ror64(e, 41))
#define SSIG0(w) (ror64(w, 1) ^ ror64(w, 8) ^ ((w) >> 7))
#define SSIG1(w) (ror64(w, 19) ^ ror64(w, 61) ^ ((w) >> 6))

/* One round; callers rotate the variable names (new a lands in h's slot, new e in d's). */
#define RND(a, b, c, d, e, f, g, h, i, w)                                        \
	do {                                                                     \
		uint64_t t1_ = ((h) + sha512_k[i] + (w)) + CH(e, f, g) + BSIG1(e); \
		(d) += t1_;                                                      \
		(h) = t1_ + MAJ(a, b, c) + BSIG0(a);                             \
	} while (0)

#define EXP(w0, w14, w9, w1) ((w0) += SSIG1(w14) + (w9) + SSIG0(w1))

#define RND16(i)                                            \
	do {                                                \
		RND(a, b, c, d, e, f, g, h, (i) + 0, w0);   \
		RND(h, a, b, c, d, e, f, g, (i) + 1, w1);   \
		RND(g, h, a, b, c, d, e, f, (i) + 2, w2);   \
		RND(f, g, h, a, b, c, d, e, (i) + 3, w3);   \
		RND(e, f, g, h, a, b, c, d, (i) + 4, w4);   \
		RND(d, e, f, g, h, a, b, c, (i) + 5, w5);   \
		RND(c, d, e, f, g, h, a, b, (i) + 6, w6);   \
		RND(b, c, d, e, f, g, h, a, (i) + 7, w7);   \
		RND(a, b, c, d, e, f, g, h, (i) + 8, w8);   \
		RND(h, a, b, c, d, e, f, g, (i) + 9, w9);   \
		RND(g, h, a, b, c, d, e, f, (i) + 10, w10); \
		RND(f, g, h, a, b, c, d, e, (i) + 11, w11); \
		RND(e, f, g, h, a, b, c, d, (i) + 12, w12); \
		RND(d, e, f, g, h, a, b, c, (i) + 13, w13); \
		RND(c, d, e, f, g, h, a, b, (i) + 14, w14); \
		RND(b, c, d, e, f, g, h, a, (i) + 15, w15); \
	} while (0)

#define EXP16()                             \
	do {                                \
		EXP(w0, w14, w9, w1);       \
		EXP(w1, w15, w10, w2);      \
		EXP(w2, w0, w11, w3);       \
		EXP(w3, w1, w12, w4);       \
		EXP(w4, w2, w13, w5);       \
		EXP(w5, w3, w14, w6);       \
		EXP(w6, w4, w15, w7);       \
		EXP(w7, w5, w0, w8);        \
		EXP(w8, w6, w1, w9);        \
		EXP(w9, w7, w2, w10);       \
		EXP(w10, w8, w3, w11);      \
		EXP(w11, w9, w4, w12);      \
		EXP(w12, w10, w5, w13);     \
		EXP(w13, w11, w6, w14);     \
		EXP(w14, w12, w7, w15);     \
		EXP(w15, w13, w8, w0);      \
	} while (0)

static void sha512_blocks(uint64_t state[8], const uint8_t *p, size_t nblocks)
{
	for (; nblocks--; p += RVM_SHA512_BLOCK) {
		uint64_t a = state[0], b = state[1], c = state[2], d = state[3];
		uint64_t e = state[4], f = state[5], g = state[6], h = state[7];
		uint64_t w0 = rvm_load_be64(p + 0), w1 = rvm_load_be64(p + 8);
		uint64_t w2 = rvm_load_be64(p + 16), w3 = rvm_load_be64(p + 24);
		uint64_t w4 = rvm_load_be64(p + 32), w5 = rvm_load_be64(p + 40);
		uint64_t w6 = rvm_load_be64(p + 48), w7 = rvm_load_be64(p + 56);
		uint64_t w8 = rvm_load_be64(p + 64), w9 = rvm_load_be64(p + 72);
		uint64_t w10 = rvm_load_be64(p + 80), w11 = rvm_load_be64(p + 88);
		uint64_t w12 = rvm_load_be64(p + 96), w13 = rvm_load_be64(p + 104);
		uint64_t w14 = rvm_load_be64(p + 112), w15 = rvm_load_be64(p + 120);

		RND16(0);
		EXP16();
		RND16(16);
		EXP16();
		RND16(32);
		EXP16();
		RND16(48);
		EXP16();
		RND16(64);
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

void rvm_sha512_init(struct rvm_sha512 *ctx)
{
	static const uint64_t iv[8] = {
		0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull,
		0xa54ff53a5f1d36f1ull, 0x510e527fade682d1ull, 0x9b05688c2b3e6c1full,
		0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
	};

	rvm_memcpy(ctx->state, iv, sizeof(iv));
	ctx->total = 0;
	ctx->buflen = 0;
}

void rvm_sha512_update(struct rvm_sha512 *ctx, const void *data, size_t n)
{
	const uint8_t *p = data;

	ctx->total += n;
	if (ctx->buflen) {
		size_t take = RVM_SHA512_BLOCK - ctx->buflen;

		if (take > n)
			take = n;
		rvm_memcpy(ctx->buf + ctx->buflen, p, take);
		ctx->buflen += (uint32_t)take;
		p += take;
		n -= take;
		if (ctx->buflen < RVM_SHA512_BLOCK)
			return;
		sha512_blocks(ctx->state, ctx->buf, 1);
		ctx->buflen = 0;
	}
	if (n >= RVM_SHA512_BLOCK) {
		size_t nb = n / RVM_SHA512_BLOCK;

		sha512_blocks(ctx->state, p, nb);
		p += nb * RVM_SHA512_BLOCK;
		n -= nb * RVM_SHA512_BLOCK;
	}
	rvm_memcpy(ctx->buf, p, n);
	ctx->buflen = (uint32_t)n;
}

void rvm_sha512_final(struct rvm_sha512 *ctx, uint8_t out[RVM_SHA512_DIGEST])
{
	/* The length field is 128 bits; messages here are < 2^61 bytes, so the top half is 0. */
	ctx->buf[ctx->buflen++] = 0x80;
	if (ctx->buflen > RVM_SHA512_BLOCK - 16) {
		rvm_memset(ctx->buf + ctx->buflen, 0, RVM_SHA512_BLOCK - ctx->buflen);
		sha512_blocks(ctx->state, ctx->buf, 1);
		ctx->buflen = 0;
	}
	rvm_memset(ctx->buf + ctx->buflen, 0, RVM_SHA512_BLOCK - 16 - ctx->buflen);
	rvm_store_be64(ctx->buf + RVM_SHA512_BLOCK - 16, ctx->total >> 61);
	rvm_store_be64(ctx->buf + RVM_SHA512_BLOCK - 8, ctx->total << 3);
	sha512_blocks(ctx->state, ctx->buf, 1);
	for (int i = 0; i < 8; i++)
		rvm_store_be64(out + 8 * i, ctx->state[i]);
	rvm_wipe(ctx, sizeof(*ctx));
}

void rvm_sha512(const void *data, size_t n, uint8_t out[RVM_SHA512_DIGEST])
{
	struct rvm_sha512 ctx;

	rvm_sha512_init(&ctx);
	rvm_sha512_update(&ctx, data, n);
	rvm_sha512_final(&ctx, out);
}
