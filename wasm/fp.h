/* wasm/fp.h - bit-exact WebAssembly float operations without libm (rounding, min/max, sqrt). */
#ifndef RVM_WASM_FP_H
#define RVM_WASM_FP_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the wasm engine assumes a little-endian host (linear memory is little-endian)"
#endif

union wasm_f32 {
	float f;
	uint32_t u;
};

union wasm_f64 {
	double f;
	uint64_t u;
};

static inline float f32_from(uint32_t u)
{
	union wasm_f32 x = { .u = u };

	return x.f;
}

static inline uint32_t f32_bits(float f)
{
	union wasm_f32 x = { .f = f };

	return x.u;
}

static inline double f64_from(uint64_t u)
{
	union wasm_f64 x = { .u = u };

	return x.f;
}

static inline uint64_t f64_bits(double f)
{
	union wasm_f64 x = { .f = f };

	return x.u;
}

#define F32_SIGN 0x80000000u
#define F64_SIGN 0x8000000000000000ull
#define F32_QUIET 0x00400000u
#define F64_QUIET 0x0008000000000000ull

static inline int f32_isnan(uint32_t u)
{
	return (u & 0x7fffffffu) > 0x7f800000u;
}

static inline int f64_isnan(uint64_t u)
{
	return (u & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
}

/* trunc: clear the fraction bits below the binary point. NaN is quieted. */
static inline uint32_t f32_trunc(uint32_t u)
{
	int e = (int)((u >> 23) & 0xff) - 127;

	if (f32_isnan(u))
		return u | F32_QUIET;
	if (e >= 23)
		return u;
	if (e < 0)
		return u & F32_SIGN;
	return u & ~((1u << (23 - e)) - 1);
}

static inline uint64_t f64_trunc(uint64_t u)
{
	int e = (int)((u >> 52) & 0x7ff) - 1023;

	if (f64_isnan(u))
		return u | F64_QUIET;
	if (e >= 52)
		return u;
	if (e < 0)
		return u & F64_SIGN;
	return u & ~((1ull << (52 - e)) - 1);
}

/* floor/ceil from trunc: the adjustment by one is exact below 2^23 (2^52). */
static inline uint32_t f32_floor(uint32_t u)
{
	uint32_t t = f32_trunc(u);

	if (t != u && !f32_isnan(u) && (u & F32_SIGN))
		return f32_bits(f32_from(t) - 1.0f);
	return t;
}

static inline uint32_t f32_ceil(uint32_t u)
{
	uint32_t t = f32_trunc(u);

	if (t != u && !f32_isnan(u) && !(u & F32_SIGN))
		return f32_bits(f32_from(t) + 1.0f);
	return t;
}

static inline uint64_t f64_floor(uint64_t u)
{
	uint64_t t = f64_trunc(u);

	if (t != u && !f64_isnan(u) && (u & F64_SIGN))
		return f64_bits(f64_from(t) - 1.0);
	return t;
}

static inline uint64_t f64_ceil(uint64_t u)
{
	uint64_t t = f64_trunc(u);

	if (t != u && !f64_isnan(u) && !(u & F64_SIGN))
		return f64_bits(f64_from(t) + 1.0);
	return t;
}

/* nearest (ties to even): adding and removing 2^23 (2^52) rounds in the default mode. */
static inline uint32_t f32_nearest(uint32_t u)
{
	uint32_t a = u & ~F32_SIGN;

	if (f32_isnan(u))
		return u | F32_QUIET;
	if (a >= 0x4b000000u) /* |x| >= 2^23: already integral (or inf) */
		return u;
	volatile float big = 8388608.0f;
	float r = (f32_from(a) + big) - big;

	return f32_bits(r) | (u & F32_SIGN);
}

static inline uint64_t f64_nearest(uint64_t u)
{
	uint64_t a = u & ~F64_SIGN;

	if (f64_isnan(u))
		return u | F64_QUIET;
	if (a >= 0x4330000000000000ull)
		return u;
	volatile double big = 4503599627370496.0;
	double r = (f64_from(a) + big) - big;

	return f64_bits(r) | (u & F64_SIGN);
}

static inline uint32_t f32_min(uint32_t a, uint32_t b)
{
	float x = f32_from(a), y = f32_from(b);

	if (f32_isnan(a) || f32_isnan(b))
		return f32_bits(x + y);
	if (x == y)
		return a | b; /* -0 wins */
	return x < y ? a : b;
}

static inline uint32_t f32_max(uint32_t a, uint32_t b)
{
	float x = f32_from(a), y = f32_from(b);

	if (f32_isnan(a) || f32_isnan(b))
		return f32_bits(x + y);
	if (x == y)
		return a & b; /* +0 wins */
	return x > y ? a : b;
}

static inline uint64_t f64_min(uint64_t a, uint64_t b)
{
	double x = f64_from(a), y = f64_from(b);

	if (f64_isnan(a) || f64_isnan(b))
		return f64_bits(x + y);
	if (x == y)
		return a | b;
	return x < y ? a : b;
}

static inline uint64_t f64_max(uint64_t a, uint64_t b)
{
	double x = f64_from(a), y = f64_from(b);

	if (f64_isnan(a) || f64_isnan(b))
		return f64_bits(x + y);
	if (x == y)
		return a & b;
	return x > y ? a : b;
}

#if defined(__arm__) && !defined(__ARM_FP)
/*
 * No FPU (Cortex-M3): a correctly rounded square root by the digit-by-digit method on
 * integers, so no libm is needed. f32 goes through f64: 53 >= 2*24 + 2 bits makes the
 * double rounding exact for sqrt.
 */
static inline uint64_t f64_sqrt(uint64_t u)
{
	uint64_t m = u & 0x000fffffffffffffull, q = 0, rem = 0;
	int e = (int)((u >> 52) & 0x7ff);

	if (f64_isnan(u))
		return u | F64_QUIET;
	if ((u & ~F64_SIGN) == 0)
		return u;
	if (u & F64_SIGN)
		return 0x7ff8000000000000ull;
	if (e == 0x7ff)
		return u;
	if (e == 0) {
		e = 1;
		while (!(m & (1ull << 52)))
			m <<= 1, e--;
	} else {
		m |= 1ull << 52;
	}
	e -= 1023;
	if (e & 1)
		m <<= 1, e--;
	/* q = floor(sqrt(m * 2^54)): 54 bits, the last one the rounding bit. */
	for (int i = 53; i >= 0; i--) {
		int sh = 2 * i - 54;
		uint64_t two = sh >= 0 ? (m >> sh) & 3 : 0;
		uint64_t trial;

		rem = rem << 2 | two;
		trial = q << 2 | 1;
		if (rem >= trial) {
			rem -= trial;
			q = q << 1 | 1;
		} else {
			q <<= 1;
		}
	}
	uint64_t mant = q >> 1;

	if ((q & 1) && (rem != 0 || (mant & 1)))
		mant++;
	if (mant >> 53)
		mant >>= 1, e += 2;
	return (uint64_t)(e / 2 + 1023) << 52 | (mant & 0x000fffffffffffffull);
}

static inline uint32_t f32_sqrt(uint32_t u)
{
	if (f32_isnan(u))
		return u | F32_QUIET;
	return f32_bits((float)f64_from(f64_sqrt(f64_bits((double)f32_from(u)))));
}
#else
/* Hardware square root (sqrtss/sqrtsd, fsqrt): correctly rounded; -fno-math-errno keeps it
 * a single instruction with no libm fallback. */
static inline uint32_t f32_sqrt(uint32_t u)
{
	return f32_bits(__builtin_sqrtf(f32_from(u)));
}

static inline uint64_t f64_sqrt(uint64_t u)
{
	return f64_bits(__builtin_sqrt(f64_from(u)));
}
#endif

#endif
