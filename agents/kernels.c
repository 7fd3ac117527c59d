/* agents/kernels.c - compute kernels compiled to wasm32: RVM's engine tests and benchmarks. */
#include <stddef.h>
#include <stdint.h>

/*
 * Built twice by agents/CMakeLists.txt: as kernels.wasm exporting every kernel with its
 * parameters, and once per kernel with -DBENCH_<NAME> as bench_<name>.wasm exporting only
 * `run` (fixed arguments: wabt's wasm-interp cannot pass any).
 */
#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(name), visibility("default")))
#else /* also compiled natively by tests/unit/test_wasm_agents.c as the reference */
#define EXPORT(name)
#endif

int k_fib(int n);
int k_sieve(int n, int rounds);
uint32_t k_sha256(int len, int rounds);
int64_t k_matmul(int n, int rounds);
uint32_t k_mix(int iters);
int run(void);

#ifdef __wasm__
/* The compiler may emit calls to these for loops it recognises. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);

void *memset(void *d, int c, size_t n)
{
	volatile unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	volatile unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}
#endif

static int fib(int n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static unsigned char sieve_buf[1 << 20];

/* Primes below n (n <= 2^20), counted `rounds` times. */
static int sieve(int n, int rounds)
{
	int count = 0;

	if (n > (int)sizeof(sieve_buf))
		n = sizeof(sieve_buf);
	for (int r = 0; r < rounds; r++) {
		count = 0;
		for (int i = 0; i < n; i++)
			sieve_buf[i] = 1;
		for (int i = 2; i < n; i++) {
			if (!sieve_buf[i])
				continue;
			count++;
			for (int k = 2 * i; k < n; k += i)
				sieve_buf[k] = 0;
		}
	}
	return count;
}

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
			      K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static unsigned char sha_buf[1 << 16];
static uint32_t sha_out[8];

/* SHA-256 of len bytes (i & 0xff pattern), `rounds` times; returns the first digest word. */
static uint32_t sha256(int len, int rounds)
{
	unsigned char tail[128];

	if (len > (int)sizeof(sha_buf))
		len = sizeof(sha_buf);
	for (int i = 0; i < len; i++)
		sha_buf[i] = (unsigned char)i;
	for (int r = 0; r < rounds; r++) {
		uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
		int full = len / 64, rest = len % 64, tl;
		uint64_t bits = (uint64_t)len * 8;

		for (int b = 0; b < full; b++)
			sha256_block(h, sha_buf + 64 * b);
		for (int i = 0; i < 128; i++)
			tail[i] = 0;
		for (int i = 0; i < rest; i++)
			tail[i] = sha_buf[64 * full + i];
		tail[rest] = 0x80;
		tl = rest < 56 ? 64 : 128;
		for (int i = 0; i < 8; i++)
			tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
		for (int b = 0; b < tl; b += 64)
			sha256_block(h, tail + b);
		for (int i = 0; i < 8; i++)
			sha_out[i] = h[i];
		sha_buf[0] ^= (unsigned char)h[0];
	}
	return sha_out[0];
}

#define MAXN 96
static double ma[MAXN * MAXN], mb[MAXN * MAXN], mc[MAXN * MAXN];

/* n x n double matrix product, `rounds` times; returns a checksum scaled to an integer. */
static int64_t matmul(int n, int rounds)
{
	double sum = 0;

	if (n > MAXN)
		n = MAXN;
	for (int i = 0; i < n * n; i++) {
		ma[i] = (double)(i % 7) * 0.5 - 1.0;
		mb[i] = (double)(i % 5) * 0.25 + 0.125;
	}
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++) {
				double acc = 0;

				for (int k = 0; k < n; k++)
					acc += ma[i * n + k] * mb[k * n + j];
				mc[i * n + j] = acc;
			}
		ma[r % (n * n)] += mc[(r * 7) % (n * n)] * 1e-3;
	}
	for (int i = 0; i < n * n; i++)
		sum += mc[i];
	return (int64_t)(sum * 1000.0);
}

/* A CoreMark-style mix: list walking and reversal, integer matrix, state machine, CRC-16. */
struct node {
	int32_t next, value;
};

static struct node list[512];
static int16_t imat[32 * 32], imat2[32 * 32];
static int32_t iout[32 * 32];
static char text[256];

static uint16_t crc16(uint16_t crc, uint8_t b)
{
	crc ^= b;
	for (int i = 0; i < 8; i++)
		crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xa001) : (uint16_t)(crc >> 1);
	return crc;
}

static int list_pass(int n, uint16_t *crc)
{
	int head = 0, prev = -1, found = 0;

	for (int i = 0; i < n; i++) {
		list[i].next = i + 1 < n ? i + 1 : -1;
		list[i].value = (i * 37 + *crc) & 0x7fff;
	}
	for (int v = 0; v < 64; v += 7)
		for (int p = head; p >= 0; p = list[p].next)
			if ((list[p].value & 63) == v) {
				found++;
				break;
			}
	while (head >= 0) { /* reverse */
		int next = list[head].next;

		list[head].next = prev;
		prev = head;
		head = next;
	}
	for (int p = prev; p >= 0; p = list[p].next)
		*crc = crc16(*crc, (uint8_t)list[p].value);
	return found;
}

static int32_t matrix_pass(int n, int16_t seed)
{
	int32_t acc = 0;

	for (int i = 0; i < n * n; i++) {
		imat[i] = (int16_t)((i * seed) & 0xff);
		imat2[i] = (int16_t)((i + seed) & 0x7f);
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			int32_t s = 0;

			for (int k = 0; k < n; k++)
				s += imat[i * n + k] * imat2[k * n + j];
			iout[i * n + j] = s;
			acc += s >> 4;
		}
	return acc;
}

static int state_pass(uint32_t seed)
{
	int ints = 0, floats = 0, bad = 0, state;

	for (int i = 0; i < (int)sizeof(text) - 1; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t r = (seed >> 16) % 16;

		text[i] = r < 10 ? (char)('0' + r) : r == 10 ? '.' : r == 11 ? '-' : r == 12 ? 'e' : ',';
	}
	text[sizeof(text) - 1] = 0;
	state = 0;
	for (int i = 0; text[i]; i++) {
		char c = text[i];

		if (c == ',') {
			ints += state == 1;
			floats += state == 2 || state == 4;
			bad += state == 3;
			state = 0;
			continue;
		}
		switch (state) {
		case 0: state = (c >= '0' && c <= '9') ? 1 : c == '-' ? 1 : 3; break;
		case 1: state = (c >= '0' && c <= '9') ? 1 : c == '.' ? 2 : c == 'e' ? 4 : 3; break;
		case 2: state = (c >= '0' && c <= '9') ? 2 : c == 'e' ? 4 : 3; break;
		case 4: state = (c >= '0' && c <= '9') || c == '-' ? 4 : 3; break;
		default: break;
		}
	}
	return ints * 3 + floats * 5 + bad;
}

static uint32_t mix(int iters)
{
	uint16_t crc = 0;
	uint32_t acc = 0;

	for (int it = 0; it < iters; it++) {
		acc += (uint32_t)list_pass(400, &crc);
		acc += (uint32_t)matrix_pass(24, (int16_t)(it + crc));
		acc += (uint32_t)state_pass(acc + crc);
		crc = crc16(crc, (uint8_t)acc);
	}
	return acc ^ ((uint32_t)crc << 16);
}

#if defined(BENCH_FIB)
EXPORT("run") int run(void) { return fib(28); }
#elif defined(BENCH_SIEVE)
EXPORT("run") int run(void) { return sieve(1 << 19, 1); }
#elif defined(BENCH_SHA256)
EXPORT("run") int run(void) { return (int)sha256(1 << 16, 4); }
#elif defined(BENCH_MATMUL)
EXPORT("run") int run(void) { return (int)matmul(64, 8); }
#elif defined(BENCH_MIX)
EXPORT("run") int run(void) { return (int)mix(80); }
#elif defined(BENCH_EMPTY)
EXPORT("run") int run(void) { return 0; }
#else
EXPORT("fib") int k_fib(int n) { return fib(n); }
EXPORT("sieve") int k_sieve(int n, int rounds) { return sieve(n, rounds); }
EXPORT("sha256") uint32_t k_sha256(int len, int rounds) { return sha256(len, rounds); }
EXPORT("matmul") int64_t k_matmul(int n, int rounds) { return matmul(n, rounds); }
EXPORT("mix") uint32_t k_mix(int iters) { return mix(iters); }
#endif
