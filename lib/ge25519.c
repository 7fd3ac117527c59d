/* lib/ge25519.c - edwards25519 group law, fixed-base and double-scalar multiplication. */
#include <rvm/bytes.h>

#include "ge25519.h"

#define RVM_ED25519_TABLES_POINT
#include "ed25519_tables.h"

/*
 * Formulas: "Twisted Edwards Curves Revisited" (Hisil, Wong, Carter, Dawson
 * 2008) for a = -1. Representations besides p3:
 *   p2       (X:Y:Z), x = X/Z, y = Y/Z (enough to double);
 *   p1p1     the "completed" result of a doubling or addition: x = X/Z, y = Y/T;
 *   cached   (Y+X, Y-X, Z, 2dT) of a point that is added several times;
 *   precomp  (y+x, y-x, 2dxy) of an affine point (Z = 1), from the tables.
 */
struct ge_p2 {
	rvm_fe X, Y, Z;
};

struct ge_p1p1 {
	rvm_fe X, Y, Z, T;
};

struct ge_cached {
	rvm_fe YplusX, YminusX, Z, T2d;
};

/* precomp points are struct rvm_ge_niels, the type of the generated tables. */

static void p3_identity(struct rvm_ge_p3 *h)
{
	fe_0(&h->X);
	fe_1(&h->Y);
	fe_1(&h->Z);
	fe_0(&h->T);
}

static void p1p1_to_p2(struct ge_p2 *r, const struct ge_p1p1 *p)
{
	fe_mul(&r->X, &p->X, &p->T);
	fe_mul(&r->Y, &p->Y, &p->Z);
	fe_mul(&r->Z, &p->Z, &p->T);
}

static void p1p1_to_p3(struct rvm_ge_p3 *r, const struct ge_p1p1 *p)
{
	fe_mul(&r->X, &p->X, &p->T);
	fe_mul(&r->Y, &p->Y, &p->Z);
	fe_mul(&r->Z, &p->Z, &p->T);
	fe_mul(&r->T, &p->X, &p->Y);
}

static void p3_to_cached(struct ge_cached *r, const struct rvm_ge_p3 *p, const rvm_fe *d2)
{
	fe_add(&r->YplusX, &p->Y, &p->X);
	fe_sub(&r->YminusX, &p->Y, &p->X);
	r->Z = p->Z;
	fe_mul(&r->T2d, &p->T, d2);
}

/*
 * r = 2p. A = X^2, B = Y^2, C = 2Z^2; with H = A + B, G = B - A,
 * E = (X+Y)^2 - H, F = C - G the double is (E F : G H : F G : E H), which
 * is (X = E, Y = H, Z = G, T = F) in p1p1 form.
 */
static void ge_dbl(struct ge_p1p1 *r, const struct ge_p2 *p)
{
	rvm_fe a, b, c, t;

	fe_sq(&a, &p->X);
	fe_sq(&b, &p->Y);
	fe_sq(&c, &p->Z);
	fe_add(&c, &c, &c);
	fe_add(&t, &p->X, &p->Y);
	fe_sq(&t, &t);
	fe_add(&r->Y, &b, &a);
	fe_sub(&r->X, &t, &r->Y);
	fe_sub(&r->Z, &b, &a);
	fe_sub(&r->T, &c, &r->Z);
}

static void p3_dbl(struct ge_p1p1 *r, const struct rvm_ge_p3 *p)
{
	struct ge_p2 q = { p->X, p->Y, p->Z };

	ge_dbl(r, &q);
}

/*
 * r = p + q (or p - q when neg; variable time in neg, for public points). A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2),
 * C = T1 2d T2, D = 2 Z1 Z2; E = B - A, F = D - C, G = D + C, H = B + A;
 * the sum is (E F : G H : F G : E H). Subtracting q swaps Y2+X2 with Y2-X2
 * and negates C.
 */
static void ge_add(struct ge_p1p1 *r, const struct rvm_ge_p3 *p, const struct ge_cached *q,
		   bool neg)
{
	rvm_fe a, b, c, d, t;

	fe_sub(&t, &p->Y, &p->X);
	fe_mul(&a, &t, neg ? &q->YplusX : &q->YminusX);
	fe_add(&t, &p->Y, &p->X);
	fe_mul(&b, &t, neg ? &q->YminusX : &q->YplusX);
	fe_mul(&c, &p->T, &q->T2d);
	fe_mul(&d, &p->Z, &q->Z);
	fe_add(&d, &d, &d);
	fe_sub(&r->X, &b, &a);
	fe_add(&r->Y, &b, &a);
	if (neg) {
		fe_add(&r->T, &d, &c);
		fe_sub(&r->Z, &d, &c);
	} else {
		fe_sub(&r->T, &d, &c);
		fe_add(&r->Z, &d, &c);
	}
}

/* r = p + q for an affine q (Z2 = 1); constant time (q is selected beforehand). */
static void ge_madd(struct ge_p1p1 *r, const struct rvm_ge_p3 *p, const struct rvm_ge_niels *q)
{
	rvm_fe a, b, c, d, t;

	fe_sub(&t, &p->Y, &p->X);
	fe_mul(&a, &t, &q->yminusx);
	fe_add(&t, &p->Y, &p->X);
	fe_mul(&b, &t, &q->yplusx);
	fe_mul(&c, &p->T, &q->xy2d);
	fe_add(&d, &p->Z, &p->Z);
	fe_sub(&r->X, &b, &a);
	fe_add(&r->Y, &b, &a);
	fe_sub(&r->T, &d, &c);
	fe_add(&r->Z, &d, &c);
}

/* r = -r for a precomputed point: swap y+x and y-x, negate 2dxy, when neg is 1. */
static void precomp_cneg(struct rvm_ge_niels *r, unsigned neg)
{
	rvm_fe t = r->yplusx;

	fe_cmov(&r->yplusx, &r->yminusx, neg);
	fe_cmov(&r->yminusx, &t, neg);
	fe_cneg(&r->xy2d, neg);
}

/* 1 when a == b (both < 2^31), else 0, without a branch. */
static inline uint64_t ct_eq(uint32_t a, uint32_t b)
{
	return ((uint64_t)(a ^ b) - 1) >> 63;
}

/*
 * r = e * 256^pos * B for a digit e in [-8, 8]: reads all eight entries of
 * the row and keeps the wanted one with masks, so neither the time nor the
 * memory accessed depends on e.
 */
static void comb_select(struct rvm_ge_niels *r, int pos, int8_t e)
{
	uint32_t neg = (uint32_t)(uint8_t)e >> 7;
	uint32_t abs = (uint32_t)(uint8_t)((e ^ -(int8_t)neg) + (int8_t)neg);
	struct rvm_ge_niels t; /* a local, so the compiler need not fear it aliases the table */

	fe_1(&t.yplusx); /* the identity (1, 1, 0) */
	fe_1(&t.yminusx);
	fe_0(&t.xy2d);
	for (uint32_t k = 0; k < 8; k++) {
		unsigned hit = (unsigned)ct_eq(abs, k + 1);

		fe_cmov(&t.yplusx, &rvm_ed25519_base_comb[pos][k].yplusx, hit);
		fe_cmov(&t.yminusx, &rvm_ed25519_base_comb[pos][k].yminusx, hit);
		fe_cmov(&t.xy2d, &rvm_ed25519_base_comb[pos][k].xy2d, hit);
	}
	precomp_cneg(&t, neg);
	*r = t;
}

void rvm_ge25519_scalarmult_base(struct rvm_ge_p3 *h, const uint8_t a[32])
{
	int8_t e[64];
	int8_t carry = 0;
	struct ge_p1p1 r;
	struct ge_p2 s;
	struct rvm_ge_niels t;

	/* Signed radix 16: a = sum e[i] 16^i with e[i] in [-8, 8) (e[63] in [-8, 8]). */
	for (int i = 0; i < 32; i++) {
		e[2 * i] = (int8_t)(a[i] & 15);
		e[2 * i + 1] = (int8_t)(a[i] >> 4);
	}
	for (int i = 0; i < 63; i++) {
		e[i] = (int8_t)(e[i] + carry);
		carry = (int8_t)((e[i] + 8) >> 4);
		e[i] = (int8_t)(e[i] - carry * 16);
	}
	e[63] = (int8_t)(e[63] + carry);

	/* Odd digits: sum e[i] 256^((i-1)/2) B, times 16 below; then the even digits. */
	p3_identity(h);
	for (int i = 1; i < 64; i += 2) {
		comb_select(&t, i / 2, e[i]);
		ge_madd(&r, h, &t);
		p1p1_to_p3(h, &r);
	}
	p3_dbl(&r, h);
	p1p1_to_p2(&s, &r);
	ge_dbl(&r, &s);
	p1p1_to_p2(&s, &r);
	ge_dbl(&r, &s);
	p1p1_to_p2(&s, &r);
	ge_dbl(&r, &s);
	p1p1_to_p3(h, &r);
	for (int i = 0; i < 64; i += 2) {
		comb_select(&t, i / 2, e[i]);
		ge_madd(&r, h, &t);
		p1p1_to_p3(h, &r);
	}
	rvm_wipe(e, sizeof(e));
	rvm_wipe(&t, sizeof(t));
}

/* Encodes (X:Y:Z): y = Y/Z with the parity of x = X/Z in bit 255. */
static void p2_tobytes(uint8_t s[32], const rvm_fe *X, const rvm_fe *Y, const rvm_fe *Z)
{
	rvm_fe recip, x, y;

	fe_invert(&recip, Z);
	fe_mul(&x, X, &recip);
	fe_mul(&y, Y, &recip);
	fe_tobytes(s, &y);
	s[31] ^= (uint8_t)(fe_isnegative(&x) << 7);
}

void rvm_ge25519_tobytes(uint8_t s[32], const struct rvm_ge_p3 *h)
{
	p2_tobytes(s, &h->X, &h->Y, &h->Z);
}

bool rvm_ge25519_frombytes_negate_vartime(struct rvm_ge_p3 *h, const uint8_t s[32])
{
	static const rvm_fe d = RVM_FE_D, sqrtm1 = RVM_FE_SQRTM1;
	rvm_fe u, v, v3, vxx, check;
	uint8_t canon[32];
	unsigned sign = s[31] >> 7;

	fe_frombytes(&h->Y, s);
	/* Only the canonical encoding of y (< p) is accepted. */
	fe_tobytes(canon, &h->Y);
	canon[31] |= (uint8_t)(sign << 7);
	if (rvm_memcmp(canon, s, 32) != 0)
		return false;
	fe_1(&h->Z);
	/* x^2 = u / v with u = y^2 - 1, v = d y^2 + 1; x = u v^3 (u v^7)^((p-5)/8). */
	fe_sq(&u, &h->Y);
	fe_mul(&v, &u, &d);
	fe_sub(&u, &u, &h->Z);
	fe_add(&v, &v, &h->Z);
	fe_sq(&v3, &v);
	fe_mul(&v3, &v3, &v);
	fe_sq(&h->X, &v3);
	fe_mul(&h->X, &h->X, &v);
	fe_mul(&h->X, &h->X, &u);
	fe_pow22523(&h->X, &h->X);
	fe_mul(&h->X, &h->X, &v3);
	fe_mul(&h->X, &h->X, &u);
	/* v x^2 is u (x is a root), -u (sqrt(-1) x is), or neither (no point). */
	fe_sq(&vxx, &h->X);
	fe_mul(&vxx, &vxx, &v);
	fe_sub(&check, &vxx, &u);
	if (!fe_iszero(&check)) {
		fe_add(&check, &vxx, &u);
		if (!fe_iszero(&check))
			return false;
		fe_mul(&h->X, &h->X, &sqrtm1);
	}
	if (fe_iszero(&h->X) && sign)
		return false;
	/* Negated point: x gets the parity opposite to the encoded sign. */
	if (fe_isnegative(&h->X) == sign)
		fe_neg(&h->X, &h->X);
	fe_mul(&h->T, &h->X, &h->Y);
	return true;
}

bool rvm_ge25519_has_small_order(const uint8_t s[32])
{
	rvm_fe y;
	uint8_t canon[32];

	fe_frombytes(&y, s);
	fe_tobytes(canon, &y);
	for (int i = 0; i < 5; i++)
		if (rvm_memcmp(canon, rvm_ed25519_small_order_y[i], 32) == 0)
			return true;
	return false;
}

/*
 * Width-w non-adjacent form of s < 2^253: digits are 0 or odd in
 * (-2^(w-1), 2^(w-1)), at most one nonzero in any w consecutive positions.
 */
static void wnaf(int8_t naf[256], const uint8_t s[32], int w)
{
	uint32_t carry = 0;

	for (int i = 0; i < 256; i++)
		naf[i] = 0;
	for (int i = 0; i < 256;) {
		uint32_t bit = (s[i / 8] >> (i % 8)) & 1, window = 0;

		if (bit == carry) {
			i++;
			continue;
		}
		for (int k = 0; k < w && i + k < 256; k++)
			window |= (uint32_t)((s[(i + k) / 8] >> ((i + k) % 8)) & 1) << k;
		window += carry;
		if (window & (1u << (w - 1))) {
			naf[i] = (int8_t)((int32_t)window - (1 << w));
			carry = 1;
		} else {
			naf[i] = (int8_t)window;
			carry = 0;
		}
		i += w;
	}
}

void rvm_ge25519_double_scalarmult_vartime(uint8_t out[32], const uint8_t a[32],
					   const struct rvm_ge_p3 *A, const uint8_t b[32])
{
	static const rvm_fe d2 = RVM_FE_D2;
	int8_t anaf[256], bnaf[256];
	struct ge_cached ai[8]; /* A, 3A, 5A, ..., 15A */
	struct ge_p1p1 t;
	struct rvm_ge_p3 u, a2;
	struct ge_p2 r;
	struct rvm_ge_niels bp;
	int i;

	wnaf(anaf, a, 5);
	wnaf(bnaf, b, 8);
	p3_to_cached(&ai[0], A, &d2);
	p3_dbl(&t, A);
	p1p1_to_p3(&a2, &t);
	for (int k = 1; k < 8; k++) {
		ge_add(&t, &a2, &ai[k - 1], false);
		p1p1_to_p3(&u, &t);
		p3_to_cached(&ai[k], &u, &d2);
	}

	fe_0(&r.X);
	fe_1(&r.Y);
	fe_1(&r.Z);
	for (i = 255; i >= 0 && anaf[i] == 0 && bnaf[i] == 0; i--)
		;
	for (; i >= 0; i--) {
		ge_dbl(&t, &r);
		if (anaf[i]) {
			p1p1_to_p3(&u, &t);
			ge_add(&t, &u, &ai[(anaf[i] < 0 ? -anaf[i] : anaf[i]) / 2], anaf[i] < 0);
		}
		if (bnaf[i]) {
			p1p1_to_p3(&u, &t);
			bp = rvm_ed25519_base_odd[(bnaf[i] < 0 ? -bnaf[i] : bnaf[i]) / 2];
			if (bnaf[i] < 0) {
				rvm_fe tmp = bp.yplusx;

				bp.yplusx = bp.yminusx;
				bp.yminusx = tmp;
				fe_neg(&bp.xy2d, &bp.xy2d);
			}
			ge_madd(&t, &u, &bp);
		}
		p1p1_to_p2(&r, &t);
	}
	p2_tobytes(out, &r.X, &r.Y, &r.Z);
}
