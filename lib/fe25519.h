/* lib/fe25519.h - arithmetic mod p = 2^255 - 19: picks the 64-bit or the 32-bit representation. */
#ifndef RVM_LIB_FE25519_H
#define RVM_LIB_FE25519_H

#include <stdint.h>

/*
 * Radix 2^51 (five 64-bit limbs, 128-bit products) where the compiler has
 * unsigned __int128 (x86-64, AArch64); radix 2^25.5 (ten 32-bit limbs,
 * 64-bit products) elsewhere, e.g. the Cortex-M3 seed build. Defining
 * RVM_FE25519_FORCE_32 selects the 32-bit code on any host so it is tested there.
 *
 * Both provide the same static inline functions on rvm_fe:
 *   fe_0 fe_1 fe_copy fe_add fe_sub fe_neg fe_mul fe_sq fe_cmov fe_cneg
 *   fe_frombytes fe_tobytes
 * and this header adds fe_isnegative, fe_iszero, fe_invert and fe_pow22523.
 * Every function runs in time independent of the values (no branches or
 * memory indices that depend on them).
 */
#if defined(__SIZEOF_INT128__) && !defined(RVM_FE25519_FORCE_32)
#define RVM_FE25519_RADIX51 1
#include "fe25519_51.h"
#else
#define RVM_FE25519_RADIX51 0
#include "fe25519_25.h"
#endif

/* 1 when f mod p is odd (the "negative" x of RFC 8032), else 0. */
static inline unsigned fe_isnegative(const rvm_fe *f)
{
	uint8_t s[32];

	fe_tobytes(s, f);
	return s[0] & 1u;
}

/* 1 when f == 0 mod p, else 0, without a branch on the value. */
static inline unsigned fe_iszero(const rvm_fe *f)
{
	uint8_t s[32];
	unsigned d = 0;

	fe_tobytes(s, f);
	for (int i = 0; i < 32; i++)
		d |= s[i];
	return ((d - 1u) >> 8) & 1u;
}

/* h = f^(2^k) (k >= 1). */
static inline void fe_sqn(rvm_fe *h, const rvm_fe *f, int k)
{
	fe_sq(h, f);
	while (--k)
		fe_sq(h, h);
}

/*
 * Common prefix of the two exponentiations: sets z11 = z^11 and
 * z250 = z^(2^250 - 1) with 250 squarings and 11 multiplications.
 */
static inline void fe_pow_2_250_1(rvm_fe *z250, rvm_fe *z11, const rvm_fe *z)
{
	rvm_fe z2, z9, t, a5, a10, a20, a50, a100;

	fe_sq(&z2, z);           /* 2 */
	fe_sqn(&t, &z2, 2);      /* 8 */
	fe_mul(&z9, &t, z);      /* 9 */
	fe_mul(z11, &z9, &z2);   /* 11 */
	fe_sq(&t, z11);          /* 22 */
	fe_mul(&a5, &t, &z9);    /* 31 = 2^5 - 1 */
	fe_sqn(&t, &a5, 5);
	fe_mul(&a10, &t, &a5);   /* 2^10 - 1 */
	fe_sqn(&t, &a10, 10);
	fe_mul(&a20, &t, &a10);  /* 2^20 - 1 */
	fe_sqn(&t, &a20, 20);
	fe_mul(&t, &t, &a20);    /* 2^40 - 1 */
	fe_sqn(&t, &t, 10);
	fe_mul(&a50, &t, &a10);  /* 2^50 - 1 */
	fe_sqn(&t, &a50, 50);
	fe_mul(&a100, &t, &a50); /* 2^100 - 1 */
	fe_sqn(&t, &a100, 100);
	fe_mul(&t, &t, &a100);   /* 2^200 - 1 */
	fe_sqn(&t, &t, 50);
	fe_mul(z250, &t, &a50);  /* 2^250 - 1 */
}

/* h = 1/z = z^(p-2) = z^(2^255 - 21); 0 maps to 0. */
static inline void fe_invert(rvm_fe *h, const rvm_fe *z)
{
	rvm_fe z250, z11;

	fe_pow_2_250_1(&z250, &z11, z);
	fe_sqn(&z250, &z250, 5);
	fe_mul(h, &z250, &z11);
}

/* h = z^((p-5)/8) = z^(2^252 - 3), the core of the square root. */
static inline void fe_pow22523(rvm_fe *h, const rvm_fe *z)
{
	rvm_fe z250, z11;

	fe_pow_2_250_1(&z250, &z11, z);
	fe_sqn(&z250, &z250, 2);
	fe_mul(h, &z250, z);
}

#endif
