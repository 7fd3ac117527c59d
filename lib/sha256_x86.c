/* lib/sha256_x86.c - SHA-256 block function with the x86-64 SHA extensions (SHA-NI). */
#include "sha256_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define RVM_SHANI __attribute__((target("sha,sse4.1,ssse3")))

/*
 * Four rounds: the constants added to four schedule words, then two
 * SHA256RNDS2 (each takes the low two words of its message operand).
 * s0 holds ABEF and s1 CDGH, the layout the instruction wants.
 */
#define QROUND(s0, s1, m, ki)                                                                      \
	do {                                                                                       \
		__m128i t_ =                                                                       \
			_mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&rvm_sha256_k[ki]));     \
		s1 = _mm_sha256rnds2_epu32(s1, s0, t_);                                            \
		s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(t_, 0x0e));                   \
	} while (0)

/*
 * Next four schedule words into m0, from the previous sixteen m0 (oldest)
 * .. m3 (newest): msg1 adds s0, the alignr brings w[t-7], msg2 adds s1.
 */
#define SCHED(m0, m1, m2, m3)                                                                      \
	((m0) = _mm_sha256msg2_epu32(                                                              \
		 _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4)), m3))

/* One message's working state: ABEF, CDGH and the sixteen schedule words in flight. */
struct shani_lane {
	__m128i st0, st1, m0, m1, m2, m3;
};

/* state[] (A..H in memory order) into the ABEF/CDGH layout. */
RVM_SHANI static void lane_load(struct shani_lane *l, const uint32_t state[8])
{
	__m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);

	l->st0 = _mm_alignr_epi8(cdab, efgh, 8);    /* ABEF */
	l->st1 = _mm_blend_epi16(efgh, cdab, 0xf0); /* CDGH */
}

/* Back from ABEF/CDGH to A..H in memory order. */
RVM_SHANI static void lane_store(const struct shani_lane *l, uint32_t state[8])
{
	__m128i feba = _mm_shuffle_epi32(l->st0, 0x1b);
	__m128i dchg = _mm_shuffle_epi32(l->st1, 0xb1);

	_mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xf0));
	_mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* The block's sixteen words, big-endian, as the first schedule words. */
RVM_SHANI static inline void lane_msg(struct shani_lane *l, const uint8_t *p)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);

	l->m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
	l->m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
	l->m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
	l->m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
}

/* Rounds k..k+3 of a lane from schedule word group x (rounds 0..15: the message itself). */
#define Q4(l, x, k) QROUND((l).st0, (l).st1, (l).x, (k))
/* The same from round 16 on: group x is first extended from the four before it. */
#define SQ4(l, x, y, z, w, k)                                                                      \
	do {                                                                                       \
		SCHED((l).x, (l).y, (l).z, (l).w);                                                 \
		QROUND((l).st0, (l).st1, (l).x, (k));                                              \
	} while (0)

RVM_SHANI static void sha256_blocks_shani(uint32_t state[8], const uint8_t *p, size_t nblocks)
{
	struct shani_lane a;

	lane_load(&a, state);
	for (; nblocks--; p += RVM_SHA256_BLOCK) {
		__m128i save0 = a.st0, save1 = a.st1;

		lane_msg(&a, p);
		Q4(a, m0, 0);
		Q4(a, m1, 4);
		Q4(a, m2, 8);
		Q4(a, m3, 12);
		for (int k = 16; k < 64; k += 16) {
			SQ4(a, m0, m1, m2, m3, k);
			SQ4(a, m1, m2, m3, m0, k + 4);
			SQ4(a, m2, m3, m0, m1, k + 8);
			SQ4(a, m3, m0, m1, m2, k + 12);
		}
		a.st0 = _mm_add_epi32(a.st0, save0);
		a.st1 = _mm_add_epi32(a.st1, save1);
	}
	lane_store(&a, state);
}

/*
 * Two messages in step: each SHA256RNDS2 waits for the one before it in its
 * own message, so alternating four-round groups of two messages fills the
 * unit's idle cycles.
 */
RVM_SHANI static void sha256_blocks2_shani(uint32_t sa[8], const uint8_t *pa, uint32_t sb[8],
					   const uint8_t *pb, size_t nblocks)
{
	struct shani_lane a, b;

	lane_load(&a, sa);
	lane_load(&b, sb);
	for (; nblocks--; pa += RVM_SHA256_BLOCK, pb += RVM_SHA256_BLOCK) {
		__m128i a0 = a.st0, a1 = a.st1, b0 = b.st0, b1 = b.st1;

		lane_msg(&a, pa);
		lane_msg(&b, pb);
		Q4(a, m0, 0);
		Q4(b, m0, 0);
		Q4(a, m1, 4);
		Q4(b, m1, 4);
		Q4(a, m2, 8);
		Q4(b, m2, 8);
		Q4(a, m3, 12);
		Q4(b, m3, 12);
		for (int k = 16; k < 64; k += 16) {
			SQ4(a, m0, m1, m2, m3, k);
			SQ4(b, m0, m1, m2, m3, k);
			SQ4(a, m1, m2, m3, m0, k + 4);
			SQ4(b, m1, m2, m3, m0, k + 4);
			SQ4(a, m2, m3, m0, m1, k + 8);
			SQ4(b, m2, m3, m0, m1, k + 8);
			SQ4(a, m3, m0, m1, m2, k + 12);
			SQ4(b, m3, m0, m1, m2, k + 12);
		}
		a.st0 = _mm_add_epi32(a.st0, a0);
		a.st1 = _mm_add_epi32(a.st1, a1);
		b.st0 = _mm_add_epi32(b.st0, b0);
		b.st1 = _mm_add_epi32(b.st1, b1);
	}
	lane_store(&a, sa);
	lane_store(&b, sb);
}

const struct rvm_sha256_impl rvm_sha256_shani_impl = {
	.name = "sha-ni",
	.blocks = sha256_blocks_shani,
	.blocks2 = sha256_blocks2_shani,
};

bool rvm_sha256_x86_has_shani(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	/* Leaf 1 ECX: bit 9 SSSE3, bit 19 SSE4.1. */
	if (!(c & (1u << 9)) || !(c & (1u << 19)))
		return false;
	if (__get_cpuid_max(0, NULL) < 7)
		return false;
	__cpuid_count(7, 0, a, b, c, d);
	/* Leaf 7 EBX bit 29: SHA extensions. */
	return (b >> 29) & 1u;
}
#endif
