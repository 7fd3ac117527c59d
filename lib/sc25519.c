/* lib/sc25519.c - arithmetic mod the group order L in signed radix-2^21 limbs, constant time. */
#include <rvm/bytes.h>

#include "sc25519.h"

#define RVM_ED25519_TABLES_SCALAR
#include "ed25519_tables.h"

#define SC_LIMBS 25 /* 525 bits: room for a 512-bit digest or a 506-bit product */
#define SC_MASK ((INT64_C(1) << 21) - 1)

/* Reads nbytes little-endian into 21-bit limbs s[0..], zeroing the rest. */
static void sc_unpack(int64_t s[SC_LIMBS], const uint8_t *in, int nbytes)
{
	for (int i = 0; i < SC_LIMBS; i++)
		s[i] = 0;
	for (int bit = 0; bit < 8 * nbytes; bit += 8)
		s[bit / 21] += (int64_t)in[bit / 8] << (bit % 21);
	/* The shifts above may pass limb boundaries: carry once to spread them. */
	for (int i = 0; i < SC_LIMBS - 1; i++) {
		s[i + 1] += s[i] >> 21;
		s[i] &= SC_MASK;
	}
}

/*
 * Carries s[from..to-1] into limbs in [0, 2^21), moving the excess into s[to].
 * Arithmetic right shift is floor division for negative limbs too (GCC and
 * Clang define it so); the product c * 2^21 avoids shifting a negative value left.
 */
static void sc_carry(int64_t s[SC_LIMBS], int from, int to)
{
	for (int i = from; i < to; i++) {
		int64_t c = s[i] >> 21;

		s[i] -= c * (INT64_C(1) << 21);
		s[i + 1] += c;
	}
}

/* s[pos] * 2^(21 pos) = s[pos] * 2^(21 (pos - 12)) * 2^252 == -s[pos] * delta * 2^(21 (pos - 12)). */
static void sc_fold(int64_t s[SC_LIMBS], int pos, int64_t v)
{
	for (int j = 0; j < 6; j++)
		s[pos - 12 + j] -= v * rvm_sc_delta21[j];
}

/*
 * Reduces s (limbs in [0, 2^21) except the top one, value < 2^525) mod L into out.
 * Bounds: every folded limb is first split into a remainder in [0, 2^21) and a
 * carry c, which is folded from the position above; all limbs stay below 2^50
 * in magnitude (each receives at most 12 products of a value < 2^28 by a
 * delta digit < 2^21, plus at most 6 products of remainders < 2^21).
 */
static void sc_reduce(uint8_t out[32], int64_t s[SC_LIMBS])
{
	int64_t u[13], w[13];

	/* Limbs 13..24 receive folds; position 25 (a carry out of s[24]) folds into 13..18. */
	for (int i = SC_LIMBS - 1; i >= 12; i--) {
		int64_t c = s[i] >> 21;

		s[i] -= c * (INT64_C(1) << 21);
		sc_fold(s, i + 1, c);
		sc_fold(s, i, s[i]);
		s[i] = 0;
	}
	/* Now s[0..11] < 2^50 in magnitude: carry, fold the top limb once more, carry. */
	sc_carry(s, 0, 12);
	sc_fold(s, 12, s[12]);
	s[12] = 0;
	sc_carry(s, 0, 12);
	/*
	 * s[0..11] in [0, 2^21) and s[12] in {-1, 0, 1}, so the value v is in
	 * [-2^252, 2^253) within (-L, 2L). u = v + L is in (0, 3L); subtract L
	 * twice where the result stays non-negative, selecting with masks.
	 */
	for (int i = 0; i < 13; i++)
		u[i] = s[i] + rvm_sc_l21[i];
	for (int round = 0; round < 2; round++) {
		int64_t keep;

		for (int i = 0; i < 13; i++)
			w[i] = u[i] - rvm_sc_l21[i];
		for (int i = 0; i < 12; i++) {
			int64_t c = w[i] >> 21;

			w[i] -= c * (INT64_C(1) << 21);
			w[i + 1] += c;
		}
		for (int i = 0; i < 12; i++) {
			int64_t c = u[i] >> 21;

			u[i] -= c * (INT64_C(1) << 21);
			u[i + 1] += c;
		}
		/* keep = all ones when w < 0 (its top limb negative). */
		keep = -(int64_t)((uint64_t)w[12] >> 63);
		for (int i = 0; i < 13; i++)
			u[i] = (u[i] & keep) | (w[i] & ~keep);
	}
	/* u < L < 2^253: pack 12 limbs of 21 bits plus the top bit(s) of u[12]. */
	{
		uint64_t acc = 0;
		int bits = 0, n = 0;

		for (int i = 0; i < 13; i++) {
			acc |= (uint64_t)u[i] << bits;
			bits += 21;
			while (bits >= 8 && n < 32) {
				out[n++] = (uint8_t)acc;
				acc >>= 8;
				bits -= 8;
			}
		}
		while (n < 32) {
			out[n++] = (uint8_t)acc;
			acc >>= 8;
		}
	}
	rvm_wipe(u, sizeof(u));
	rvm_wipe(w, sizeof(w));
}

void rvm_sc25519_reduce64(uint8_t out[32], const uint8_t in[64])
{
	int64_t s[SC_LIMBS];

	sc_unpack(s, in, 64);
	sc_reduce(out, s);
	rvm_wipe(s, sizeof(s));
}

void rvm_sc25519_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32],
			const uint8_t c[32])
{
	int64_t x[SC_LIMBS], y[SC_LIMBS], s[SC_LIMBS];

	sc_unpack(x, a, 32);
	sc_unpack(y, b, 32);
	sc_unpack(s, c, 32);
	/* 13 limbs each (x[12], y[12] < 2^4): columns are sums of <= 13 products < 2^42. */
	for (int i = 0; i < 13; i++)
		for (int j = 0; j < 13; j++)
			s[i + j] += x[i] * y[j];
	/* Bring every limb but the top back to [0, 2^21) as sc_reduce expects. */
	sc_carry(s, 0, SC_LIMBS - 1);
	sc_reduce(out, s);
	rvm_wipe(x, sizeof(x));
	rvm_wipe(y, sizeof(y));
	rvm_wipe(s, sizeof(s));
}

bool rvm_sc25519_is_canonical(const uint8_t s[32])
{
	/* L little-endian. */
	static const uint8_t l[32] = {
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
	};

	for (int i = 31; i >= 0; i--) {
		if (s[i] != l[i])
			return s[i] < l[i];
	}
	return false; /* s == L */
}
