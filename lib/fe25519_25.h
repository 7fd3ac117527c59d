/* lib/fe25519_25.h - field elements mod 2^255 - 19 as ten limbs of 26 and 25 bits (32-bit CPUs). */
#ifndef RVM_LIB_FE25519_25_H
#define RVM_LIB_FE25519_25_H

#include <stdint.h>

#include <rvm/bytes.h>

/*
 * Value = sum v[i] 2^ceil(25.5 i) (mod p): even limbs hold 26 bits, odd limbs 25.
 * Every function returns "reduced" limbs (< 2^26 for even, < 2^25 + 2^15 for
 * odd indices), carrying after additions too, so fe_mul's ten column sums of
 * products (< 2^53 each, times at most 2 * 19) stay below 2^61.
 */
typedef struct {
	uint32_t v[10];
} rvm_fe;

/* Width of limb i: 26 bits for even i, 25 for odd. */
#define FE25_W(i) (26 - ((i) & 1))

static inline void fe_0(rvm_fe *h)
{
	for (int i = 0; i < 10; i++)
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

/* Carries limbs < 2^31 into reduced form; the carry out of limb 9 wraps as 19 (2^255 = 19). */
static inline void fe25_carry(rvm_fe *h)
{
	uint32_t c;

	for (int i = 0; i < 9; i++) {
		c = h->v[i] >> FE25_W(i);
		h->v[i] &= (UINT32_C(1) << FE25_W(i)) - 1;
		h->v[i + 1] += c;
	}
	c = h->v[9] >> 25;
	h->v[9] &= (UINT32_C(1) << 25) - 1;
	h->v[0] += 19 * c;
	c = h->v[0] >> 26;
	h->v[0] &= (UINT32_C(1) << 26) - 1;
	h->v[1] += c;
}

static inline void fe_add(rvm_fe *h, const rvm_fe *f, const rvm_fe *g)
{
	for (int i = 0; i < 10; i++)
		h->v[i] = f->v[i] + g->v[i];
	fe25_carry(h);
}

/* h = f + 4p - g: limbs of 4p are 2^28 - 76, 2^27 - 4, 2^28 - 4, ... so none goes negative. */
static inline void fe_sub(rvm_fe *h, const rvm_fe *f, const rvm_fe *g)
{
	for (int i = 0; i < 10; i++) {
		uint32_t p4 = (i == 0) ? (UINT32_C(1) << 28) - 76
				       : (UINT32_C(1) << (FE25_W(i) + 2)) - 4;

		h->v[i] = f->v[i] + p4 - g->v[i];
	}
	fe25_carry(h);
}

static inline void fe_neg(rvm_fe *h, const rvm_fe *f)
{
	rvm_fe z;

	fe_0(&z);
	fe_sub(h, &z, f);
}

/*
 * h = f * g. Limb i times limb j lands at i + j with weight 2 when both are
 * odd (25.5 i rounds up twice); columns past 9 wrap around times 19.
 */
static inline void fe_mul(rvm_fe *h, const rvm_fe *f, const rvm_fe *g)
{
	uint64_t r[10] = { 0 };
	uint64_t c;

	for (int i = 0; i < 10; i++) {
		for (int j = 0; j < 10; j++) {
			uint64_t t = (uint64_t)f->v[i] * g->v[j];

			if (i & j & 1)
				t *= 2;
			if (i + j >= 10)
				t *= 19;
			r[(i + j) % 10] += t;
		}
	}
	for (int i = 0; i < 9; i++) {
		r[i + 1] += r[i] >> FE25_W(i);
		r[i] &= (UINT64_C(1) << FE25_W(i)) - 1;
	}
	c = r[9] >> 25;
	r[9] &= (UINT64_C(1) << 25) - 1;
	r[0] += 19 * c;
	r[1] += r[0] >> 26;
	r[0] &= (UINT64_C(1) << 26) - 1;
	for (int i = 0; i < 10; i++)
		h->v[i] = (uint32_t)r[i];
}

static inline void fe_sq(rvm_fe *h, const rvm_fe *f)
{
	fe_mul(h, f, f);
}

/* h = b ? g : h, for b in {0, 1}, without a branch. */
static inline void fe_cmov(rvm_fe *h, const rvm_fe *g, unsigned b)
{
	uint32_t mask = 0 - (uint32_t)b;

	for (int i = 0; i < 10; i++)
		h->v[i] ^= mask & (h->v[i] ^ g->v[i]);
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
	uint32_t w[9];
	int off = 0;

	for (int i = 0; i < 8; i++)
		w[i] = rvm_load_le32(s + 4 * i);
	w[8] = 0;
	for (int i = 0; i < 10; i++) {
		uint64_t two = (uint64_t)w[off / 32] | (uint64_t)w[off / 32 + 1] << 32;

		h->v[i] = (uint32_t)(two >> (off % 32)) & ((UINT32_C(1) << FE25_W(i)) - 1);
		off += FE25_W(i);
	}
}

/* Writes the canonical (fully reduced, < p) little-endian encoding. */
static inline void fe_tobytes(uint8_t s[32], const rvm_fe *f)
{
	rvm_fe h = *f;
	uint32_t q;
	uint64_t acc = 0;
	int bits = 0, n = 0;

	/* After the carry the value is < 2p; q = 1 exactly when it is >= p. */
	fe25_carry(&h);
	q = (h.v[0] + 19) >> 26;
	for (int i = 1; i < 10; i++)
		q = (h.v[i] + q) >> FE25_W(i);
	h.v[0] += 19 * q;
	for (int i = 0; i < 9; i++) {
		h.v[i + 1] += h.v[i] >> FE25_W(i);
		h.v[i] &= (UINT32_C(1) << FE25_W(i)) - 1;
	}
	h.v[9] &= (UINT32_C(1) << 25) - 1; /* drops 2^255, completing the subtraction of p */
	for (int i = 0; i < 10; i++) {
		acc |= (uint64_t)h.v[i] << bits;
		bits += FE25_W(i);
		while (bits >= 8) {
			s[n++] = (uint8_t)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
	s[31] = (uint8_t)acc; /* the last 7 bits */
}

#endif
