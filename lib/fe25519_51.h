/* lib/fe25519_51.h - field elements mod 2^255 - 19 as five 51-bit limbs (needs unsigned __int128). */
#ifndef RVM_LIB_FE25519_51_H
#define RVM_LIB_FE25519_51_H

#include <stdint.h>

#include <rvm/bytes.h>

/*
 * Value = v[0] + v[1] 2^51 + v[2] 2^102 + v[3] 2^153 + v[4] 2^204 (mod p).
 * Bounds kept by every function below ("reduced": each limb < 2^51 + 2^18):
 *   fe_mul and fe_sq take limbs < 2^54 and return reduced limbs;
 *   fe_sub, fe_neg, fe_frombytes return reduced limbs; fe_sub's subtrahend must
 *   have limbs < 2^53 - 76 (it adds 4p to stay non-negative);
 *   fe_add does not carry: two reduced inputs give limbs < 2^52 + 2^19, fine
 *   for fe_mul, fe_sq, another fe_add and as fe_sub's subtrahend; the sum of two
 *   such sums is still fine for fe_mul and fe_sq but not for fe_sub.
 */
typedef struct {
	uint64_t v[5];
} rvm_fe;

typedef unsigned __int128 rvm_u128;

#define FE51_MASK ((UINT64_C(1) << 51) - 1)

static inline void fe_0(rvm_fe *h)
{
	for (int i = 0; i < 5; i++)
		h->v[i] = 0;
}

static inline void fe_1(rvm_fe *h)
{
	fe_0(h);
	h->v[0] = 1;
}

static inline void fe_copy(rvm_fe *h, const rvm_fe *f)
{
	*h = *f;
}

static inline void fe_add(rvm_fe *h, const rvm_fe *f, const rvm_fe *g)
{
	for (int i = 0; i < 5; i++)
		h->v[i] = f->v[i] + g->v[i];
}

/* Carries a limb vector with limbs < 2^63 down to reduced form. */
static inline void fe51_carry(rvm_fe *h, uint64_t v0, uint64_t v1, uint64_t v2, uint64_t v3,
			      uint64_t v4)
{
	v1 += v0 >> 51;
	v0 &= FE51_MASK;
	v2 += v1 >> 51;
	v1 &= FE51_MASK;
	v3 += v2 >> 51;
	v2 &= FE51_MASK;
	v4 += v3 >> 51;
	v3 &= FE51_MASK;
	v0 += 19 * (v4 >> 51);
	v4 &= FE51_MASK;
	v1 += v0 >> 51;
	v0 &= FE51_MASK;
	h->v[0] = v0;
	h->v[1] = v1;
	h->v[2] = v2;
	h->v[3] = v3;
	h->v[4] = v4;
}

/* h = f - g, computed as f + 4p - g so no limb goes negative (needs g's limbs < 2^53 - 76). */
static inline void fe_sub(rvm_fe *h, const rvm_fe *f, const rvm_fe *g)
{
	const uint64_t p4_0 = 0x1fffffffffffb4ull, p4_i = 0x1ffffffffffffcull;

	fe51_carry(h, f->v[0] + p4_0 - g->v[0], f->v[1] + p4_i - g->v[1], f->v[2] + p4_i - g->v[2],
		   f->v[3] + p4_i - g->v[3], f->v[4] + p4_i - g->v[4]);
}

static inline void fe_neg(rvm_fe *h, const rvm_fe *f)
{
	rvm_fe z;

	fe_0(&z);
	fe_sub(h, &z, f);
}

/* Carries the five 128-bit column sums of a product into reduced limbs. */
static inline void fe51_carry_wide(rvm_fe *h, rvm_u128 r0, rvm_u128 r1, rvm_u128 r2, rvm_u128 r3,
				   rvm_u128 r4)
{
	uint64_t c;
	rvm_u128 t;

	r1 += (uint64_t)(r0 >> 51);
	r2 += (uint64_t)(r1 >> 51);
	r3 += (uint64_t)(r2 >> 51);
	r4 += (uint64_t)(r3 >> 51);
	/* r4 >> 51 may exceed 2^59, so the multiply by 19 is done in 128 bits. */
	t = (rvm_u128)(uint64_t)(r4 >> 51) * 19 + ((uint64_t)r0 & FE51_MASK);
	h->v[0] = (uint64_t)t & FE51_MASK;
	c = (uint64_t)(t >> 51);
	h->v[1] = ((uint64_t)r1 & FE51_MASK) + c;
	h->v[2] = (uint64_t)r2 & FE51_MASK;
	h->v[3] = (uint64_t)r3 & FE51_MASK;
	h->v[4] = (uint64_t)r4 & FE51_MASK;
}

/*
 * h = f * g. Inputs: limbs < 2^54. Each column is a sum of five products
 * < 2^108, the wrapped ones times 19: < 2^115, well inside 128 bits.
 */
static inline void fe_mul(rvm_fe *h, const rvm_fe *f, const rvm_fe *g)
{
	uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
	uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
	uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
	rvm_u128 r0, r1, r2, r3, r4;

	r0 = (rvm_u128)f0 * g0 + (rvm_u128)f1 * g4_19 + (rvm_u128)f2 * g3_19 +
	     (rvm_u128)f3 * g2_19 + (rvm_u128)f4 * g1_19;
	r1 = (rvm_u128)f0 * g1 + (rvm_u128)f1 * g0 + (rvm_u128)f2 * g4_19 +
	     (rvm_u128)f3 * g3_19 + (rvm_u128)f4 * g2_19;
	r2 = (rvm_u128)f0 * g2 + (rvm_u128)f1 * g1 + (rvm_u128)f2 * g0 + (rvm_u128)f3 * g4_19 +
	     (rvm_u128)f4 * g3_19;
	r3 = (rvm_u128)f0 * g3 + (rvm_u128)f1 * g2 + (rvm_u128)f2 * g1 + (rvm_u128)f3 * g0 +
	     (rvm_u128)f4 * g4_19;
	r4 = (rvm_u128)f0 * g4 + (rvm_u128)f1 * g3 + (rvm_u128)f2 * g2 + (rvm_u128)f3 * g1 +
	     (rvm_u128)f4 * g0;
	fe51_carry_wide(h, r0, r1, r2, r3, r4);
}

/* h = f^2, same bounds as fe_mul; the cross terms are doubled once instead of computed twice. */
static inline void fe_sq(rvm_fe *h, const rvm_fe *f)
{
	uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
	uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2, f3_2 = 2 * f3;
	uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
	rvm_u128 r0, r1, r2, r3, r4;

	r0 = (rvm_u128)f0 * f0 + (rvm_u128)f1_2 * f4_19 + (rvm_u128)f2_2 * f3_19;
	r1 = (rvm_u128)f0_2 * f1 + (rvm_u128)f2_2 * f4_19 + (rvm_u128)f3 * f3_19;
	r2 = (rvm_u128)f0_2 * f2 + (rvm_u128)f1 * f1 + (rvm_u128)f3_2 * f4_19;
	r3 = (rvm_u128)f0_2 * f3 + (rvm_u128)f1_2 * f2 + (rvm_u128)f4 * f4_19;
	r4 = (rvm_u128)f0_2 * f4 + (rvm_u128)f1_2 * f3 + (rvm_u128)f2 * f2;
	fe51_carry_wide(h, r0, r1, r2, r3, r4);
}

/* h = b ? g : h, for b in {0, 1}, without a branch. */
static inline void fe_cmov(rvm_fe *h, const rvm_fe *g, unsigned b)
{
	uint64_t mask = 0 - (uint64_t)b;

	h->v[0] ^= mask & (h->v[0] ^ g->v[0]);
	h->v[1] ^= mask & (h->v[1] ^ g->v[1]);
	h->v[2] ^= mask & (h->v[2] ^ g->v[2]);
	h->v[3] ^= mask & (h->v[3] ^ g->v[3]);
	h->v[4] ^= mask & (h->v[4] ^ g->v[4]);
}

/* h = b ? -h : h, for b in {0, 1}. */
static inline void fe_cneg(rvm_fe *h, unsigned b)
{
	rvm_fe n;

	fe_neg(&n, h);
	fe_cmov(h, &n, b);
}

/* Reads 255 bits little-endian (bit 255 is ignored). The value may be >= p. */
static inline void fe_frombytes(rvm_fe *h, const uint8_t s[32])
{
	h->v[0] = rvm_load_le64(s) & FE51_MASK;
	h->v[1] = (rvm_load_le64(s + 6) >> 3) & FE51_MASK;
	h->v[2] = (rvm_load_le64(s + 12) >> 6) & FE51_MASK;
	h->v[3] = (rvm_load_le64(s + 19) >> 1) & FE51_MASK;
	h->v[4] = (rvm_load_le64(s + 24) >> 12) & FE51_MASK;
}

/* Writes the canonical (fully reduced, < p) little-endian encoding. */
static inline void fe_tobytes(uint8_t s[32], const rvm_fe *f)
{
	rvm_fe h;
	uint64_t q;

	/* After the carry the value is < 2^255 + 2^14 < 2p; q = 1 exactly when it is >= p. */
	fe51_carry(&h, f->v[0], f->v[1], f->v[2], f->v[3], f->v[4]);
	q = (h.v[0] + 19) >> 51;
	q = (h.v[1] + q) >> 51;
	q = (h.v[2] + q) >> 51;
	q = (h.v[3] + q) >> 51;
	q = (h.v[4] + q) >> 51;
	h.v[0] += 19 * q;
	h.v[1] += h.v[0] >> 51;
	h.v[0] &= FE51_MASK;
	h.v[2] += h.v[1] >> 51;
	h.v[1] &= FE51_MASK;
	h.v[3] += h.v[2] >> 51;
	h.v[2] &= FE51_MASK;
	h.v[4] += h.v[3] >> 51;
	h.v[3] &= FE51_MASK;
	h.v[4] &= FE51_MASK; /* drops 2^255, completing the subtraction of p */
	rvm_store_le64(s, h.v[0] | h.v[1] << 51);
	rvm_store_le64(s + 8, h.v[1] >> 13 | h.v[2] << 38);
	rvm_store_le64(s + 16, h.v[2] >> 26 | h.v[3] << 25);
	rvm_store_le64(s + 24, h.v[3] >> 39 | h.v[4] << 12);
}

#endif
