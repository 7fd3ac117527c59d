/* lib/sha256_x86.c - SHA-256 block function with the x86-64 SHA extensions (SHA-NI). */
#include "sha256_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define RVM_SHANI __attribute__((target("sha,sse4.1,ssse3")))

/*
 * Four rounds: the constants added to four schedule words, then two
 * SHA256RNDS2 (each takes the low two words of its message operand).
 * st0 holds ABEF and st1 CDGH, the layout the instruction wants.
 */
#define QROUND(m, ki)                                                                      \
	do {                                                                               \
		__m128i t_ = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&rvm_sha256_k[ki])); \
		st1 = _mm_sha256rnds2_epu32(st1, st0, t_);                                 \
		st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(t_, 0x0e));        \
	} while (0)

/*
 * Next four schedule words into m0, from the previous sixteen m0 (oldest)
 * .. m3 (newest): msg1 adds s0, the alignr brings w[t-7], msg2 adds s1.
 */
#define SCHED(m0, m1, m2, m3)                                                            \
	((m0) = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(m0, m1),         \
						   _mm_alignr_epi8(m3, m2, 4)),          \
				     m3))

RVM_SHANI static void sha256_blocks_shani(uint32_t state[8], const uint8_t *p, size_t nblocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
	__m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
	__m128i st0 = _mm_alignr_epi8(cdab, efgh, 8);    /* ABEF */
	__m128i st1 = _mm_blend_epi16(efgh, cdab, 0xf0); /* CDGH */

	for (; nblocks--; p += RVM_SHA256_BLOCK) {
		__m128i save0 = st0, save1 = st1;
		__m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		__m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		__m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		__m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

		QROUND(m0, 0);
		QROUND(m1, 4);
		QROUND(m2, 8);
		QROUND(m3, 12);
		for (int k = 16; k < 64; k += 16) {
			SCHED(m0, m1, m2, m3);
			QROUND(m0, k);
			SCHED(m1, m2, m3, m0);
			QROUND(m1, k + 4);
			SCHED(m2, m3, m0, m1);
			QROUND(m2, k + 8);
			SCHED(m3, m0, m1, m2);
			QROUND(m3, k + 12);
		}
		st0 = _mm_add_epi32(st0, save0);
		st1 = _mm_add_epi32(st1, save1);
	}
	/* Back from ABEF/CDGH to A..H in memory order. */
	{
		__m128i feba = _mm_shuffle_epi32(st0, 0x1b);
		__m128i dchg = _mm_shuffle_epi32(st1, 0xb1);

		_mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xf0));
		_mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
	}
}

const struct rvm_sha256_impl rvm_sha256_shani_impl = {
	.name = "sha-ni",
	.blocks = sha256_blocks_shani,
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
