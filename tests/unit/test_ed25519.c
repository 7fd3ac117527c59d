/*
 * tests/unit/test_ed25519.c - Ed25519 (and its field, scalar and table code) against RFC 8032,
 * Wycheproof, libsodium and OpenSSL bignums. Built twice: with the native field code and with
 * RVM_FE25519_FORCE_32 (the 32-bit radix-2^25.5 code of the Cortex-M3 build).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <sodium.h>

#include <rvm/ed25519.h>

#include "../../lib/fe25519.h"
#include "../../lib/sc25519.h"
#define RVM_ED25519_TABLES_POINT
#include "../../lib/ed25519_tables.h"

#include "support.h"

/*
 * The 32-bit field build (5-10x slower) and sanitizer builds run the slow randomized
 * parts fewer times; the plain native build runs them all.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ROUNDS_SANITIZER 4
#else
#define ROUNDS_SANITIZER 1
#endif
#if defined(RVM_FE25519_FORCE_32)
#define ROUNDS_SCALE (5 * ROUNDS_SANITIZER)
#else
#define ROUNDS_SCALE ROUNDS_SANITIZER
#endif

static BN_CTX *bn_ctx;
static BIGNUM *bn_p, *bn_l, *bn_d;

static BIGNUM *bn_from_le(const uint8_t *s, int n)
{
	BIGNUM *b = BN_lebin2bn(s, n, NULL);

	assert_non_null(b);
	return b;
}

static void bn_to_le32(uint8_t out[32], const BIGNUM *b)
{
	assert_int_equal(BN_bn2lebinpad(b, out, 32), 32);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	bn_ctx = BN_CTX_new();
	bn_p = BN_new();
	bn_l = BN_new();
	bn_d = BN_new();
	BN_set_bit(bn_p, 255);
	BN_sub_word(bn_p, 19);
	BN_hex2bn(&bn_l, "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed");
	/* d = -121665 / 121666 mod p */
	{
		BIGNUM *a = BN_new(), *b = BN_new();

		BN_set_word(a, 121665);
		BN_set_word(b, 121666);
		BN_mod_inverse(b, b, bn_p, bn_ctx);
		BN_mod_mul(bn_d, a, b, bn_p, bn_ctx);
		BN_sub(bn_d, bn_p, bn_d);
		BN_free(a);
		BN_free(b);
	}
	printf("field code: %s\n", RVM_FE25519_RADIX51 ? "radix 2^51 (64-bit limbs)"
						    : "radix 2^25.5 (32-bit limbs)");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	BN_free(bn_p);
	BN_free(bn_l);
	BN_free(bn_d);
	BN_CTX_free(bn_ctx);
	return 0;
}

/* ---- field ---------------------------------------------------------------------------------- */

/* Random 255-bit values, with the awkward ones (0, 1, p-1, p, p+1, 2^255-1) mixed in. */
static void fe_sample(uint64_t *rng, int i, uint8_t s[32])
{
	static const uint8_t special[6][32] = {
		{ 0 },
		{ 1 },
		{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
		{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
		{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	};

	if (i < 6) {
		memcpy(s, special[i], 32);
	} else {
		rvm_test_fill(rng, s, 32);
		s[31] &= 0x7f;
	}
}

/* value of s (255 bits) mod p as canonical bytes, computed with OpenSSL */
static void bn_check(const BIGNUM *expect, const rvm_fe *got, const char *what)
{
	uint8_t a[32], b[32];
	BIGNUM *e = BN_dup(expect);

	BN_nnmod(e, e, bn_p, bn_ctx);
	bn_to_le32(a, e);
	fe_tobytes(b, got);
	if (memcmp(a, b, 32) != 0)
		fail_msg("field %s differs from OpenSSL", what);
	BN_free(e);
}

static void test_field(void **state)
{
	uint64_t rng = 0xfe25519;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		uint8_t sa[32], sb[32];
		rvm_fe a, b, c, t;
		BIGNUM *x, *y, *r = BN_new();

		fe_sample(&rng, i % 40 < 6 ? i % 40 : 6 + i, sa);
		fe_sample(&rng, (i / 6) % 40 < 6 ? (i / 6) % 40 : 6 + i, sb);
		x = bn_from_le(sa, 32);
		y = bn_from_le(sb, 32);
		fe_frombytes(&a, sa);
		fe_frombytes(&b, sb);
		bn_check(x, &a, "frombytes/tobytes");
		BN_mod_mul(r, x, y, bn_p, bn_ctx);
		fe_mul(&c, &a, &b);
		bn_check(r, &c, "mul");
		BN_mod_sqr(r, x, bn_p, bn_ctx);
		fe_sq(&c, &a);
		bn_check(r, &c, "sq");
		BN_mod_add(r, x, y, bn_p, bn_ctx);
		fe_add(&c, &a, &b);
		bn_check(r, &c, "add");
		/* sums of sums feed fe_mul in the point formulas */
		fe_add(&t, &c, &c);
		fe_mul(&t, &t, &t);
		BN_mod_add(r, r, r, bn_p, bn_ctx);
		BN_mod_sqr(r, r, bn_p, bn_ctx);
		bn_check(r, &t, "mul of add(add)");
		BN_mod_sub(r, x, y, bn_p, bn_ctx);
		fe_sub(&c, &a, &b);
		bn_check(r, &c, "sub");
		fe_neg(&c, &a);
		BN_mod_sub(r, bn_p, x, bn_p, bn_ctx);
		bn_check(r, &c, "neg");
		if (i % 10 == 0) {
			BIGNUM *ex = BN_new();

			fe_invert(&c, &a);
			BN_copy(ex, bn_p);
			BN_sub_word(ex, 2);
			BN_mod_exp(r, x, ex, bn_p, bn_ctx);
			bn_check(r, &c, "invert");
			fe_pow22523(&c, &a);
			BN_zero(ex);
			BN_set_bit(ex, 252);
			BN_sub_word(ex, 3);
			BN_mod_exp(r, x, ex, bn_p, bn_ctx);
			bn_check(r, &c, "pow22523");
			BN_free(ex);
		}
		/* cmov and the predicates */
		t = a;
		fe_cmov(&t, &b, 0);
		bn_check(x, &t, "cmov 0");
		fe_cmov(&t, &b, 1);
		bn_check(y, &t, "cmov 1");
		BN_nnmod(r, x, bn_p, bn_ctx);
		assert_int_equal(fe_iszero(&a), BN_is_zero(r));
		assert_int_equal(fe_isnegative(&a), BN_is_odd(r));
		BN_free(x);
		BN_free(y);
		BN_free(r);
	}
}

/* ---- scalars -------------------------------------------------------------------------------- */

static void test_scalar(void **state)
{
	uint64_t rng = 0x5c;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		uint8_t in[64], a[32], b[32], c[32], out[32], want[32];
		BIGNUM *x, *y, *z, *r = BN_new();

		rvm_test_fill(&rng, in, 64);
		if (i < 64)
			memset(in, i < 32 ? 0xff : 0, 64); /* extremes: 2^512 - 1 and 0 */
		rvm_test_fill(&rng, a, 32);
		rvm_test_fill(&rng, b, 32);
		rvm_test_fill(&rng, c, 32);
		if (i % 7 == 0)
			memset(a, 0xff, 32);
		x = bn_from_le(in, 64);
		BN_nnmod(r, x, bn_l, bn_ctx);
		bn_to_le32(want, r);
		rvm_sc25519_reduce64(out, in);
		assert_memory_equal(out, want, 32);
		assert_true(rvm_sc25519_is_canonical(out));
		BN_free(x);
		x = bn_from_le(a, 32);
		y = bn_from_le(b, 32);
		z = bn_from_le(c, 32);
		BN_mul(r, x, y, bn_ctx);
		BN_add(r, r, z);
		BN_nnmod(r, r, bn_l, bn_ctx);
		bn_to_le32(want, r);
		rvm_sc25519_muladd(out, a, b, c);
		assert_memory_equal(out, want, 32);
		BN_free(x);
		BN_free(y);
		BN_free(z);
		BN_free(r);
	}
	/* is_canonical: L - 1 yes; L, L + 1, 2^256 - 1 no. */
	{
		uint8_t s[32];
		BIGNUM *v = BN_dup(bn_l);

		BN_sub_word(v, 1);
		bn_to_le32(s, v);
		assert_true(rvm_sc25519_is_canonical(s));
		BN_add_word(v, 1);
		bn_to_le32(s, v);
		assert_false(rvm_sc25519_is_canonical(s));
		BN_add_word(v, 1);
		bn_to_le32(s, v);
		assert_false(rvm_sc25519_is_canonical(s));
		memset(s, 0xff, 32);
		assert_false(rvm_sc25519_is_canonical(s));
		BN_free(v);
	}
}

/* ---- generated tables ----------------------------------------------------------------------- */

/* Checks one table entry (y+x, y-x, 2dxy) against the point libsodium computes as [k]B. */
static void check_entry(const struct rvm_ge_niels *e, const BIGNUM *k)
{
	uint8_t ks[32], enc[32], got[32], want[32];
	BIGNUM *x, *y, *u, *v, *t;
	int sign;

	bn_to_le32(ks, k);
	assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(enc, ks), 0);
	sign = enc[31] >> 7;
	enc[31] &= 0x7f;
	y = bn_from_le(enc, 32);
	/* x^2 = (y^2 - 1) / (d y^2 + 1) */
	u = BN_new();
	v = BN_new();
	t = BN_new();
	x = BN_new();
	BN_mod_sqr(u, y, bn_p, bn_ctx);
	BN_mod_mul(v, u, bn_d, bn_p, bn_ctx);
	BN_sub_word(u, 1);
	BN_add_word(v, 1);
	BN_mod_inverse(v, v, bn_p, bn_ctx);
	BN_mod_mul(t, u, v, bn_p, bn_ctx);
	assert_non_null(BN_mod_sqrt(x, t, bn_p, bn_ctx));
	if (BN_is_odd(x) != sign)
		BN_sub(x, bn_p, x);
	for (int part = 0; part < 3; part++) {
		if (part == 0)
			BN_mod_add(t, y, x, bn_p, bn_ctx);
		else if (part == 1)
			BN_mod_sub(t, y, x, bn_p, bn_ctx);
		else {
			BN_mod_mul(t, x, y, bn_p, bn_ctx);
			BN_mod_mul(t, t, bn_d, bn_p, bn_ctx);
			BN_mod_add(t, t, t, bn_p, bn_ctx);
		}
		bn_to_le32(want, t);
		fe_tobytes(got, part == 0 ? &e->yplusx : part == 1 ? &e->yminusx : &e->xy2d);
		assert_memory_equal(got, want, 32);
	}
	BN_free(x);
	BN_free(y);
	BN_free(u);
	BN_free(v);
	BN_free(t);
}

static void test_tables(void **state)
{
	BIGNUM *k = BN_new();
	int n = 0;

	(void)state;
	for (int j = 0; j < 32; j++)
		for (int i = 0; i < 8; i++) {
			BN_set_word(k, (BN_ULONG)(i + 1));
			BN_lshift(k, k, 8 * j);
			check_entry(&rvm_ed25519_base_comb[j][i], k);
			n++;
		}
	for (int i = 0; i < 64; i++) {
		BN_set_word(k, (BN_ULONG)(2 * i + 1));
		check_entry(&rvm_ed25519_base_odd[i], k);
		n++;
	}
	/* The small-order y list: libsodium rejects each as a public key, with either sign. */
	for (int i = 0; i < 5; i++) {
		uint8_t pk[32], sig[64] = { 0 };

		memcpy(pk, rvm_ed25519_small_order_y[i], 32);
		assert_int_equal(crypto_core_ed25519_is_valid_point(pk), 0);
		sig[0] = 1;
		pk[31] |= 0x80;
		assert_int_equal(crypto_core_ed25519_is_valid_point(pk), 0);
		assert_false(rvm_ed25519_verify(sig, pk, "", 0));
	}
	printf("tables: %d points recomputed with libsodium and OpenSSL, all equal\n", n);
	BN_free(k);
}

/* ---- published vectors ---------------------------------------------------------------------- */

static cJSON *load_json(const char *rel)
{
	const char *path = rvm_test_data(rel);
	cJSON *root;
	char *text;

	if (!path)
		return NULL;
	text = rvm_test_read_file(path, NULL);
	assert_non_null(text);
	root = cJSON_Parse(text);
	free(text);
	assert_non_null(root);
	return root;
}

static uint8_t *hex_field(const cJSON *obj, const char *name, size_t *len)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, name);
	size_t cap;
	uint8_t *buf;
	long n;

	assert_true(cJSON_IsString(f));
	cap = strlen(f->valuestring) / 2 + 1;
	buf = malloc(cap);
	assert_non_null(buf);
	n = rvm_test_unhex(f->valuestring, buf, cap);
	assert_true(n >= 0);
	*len = (size_t)n;
	return buf;
}

static void test_rfc8032(void **state)
{
	cJSON *root = load_json("crypto/rfc/rfc8032_ed25519.json");
	const cJSON *t;
	int count = 0;

	(void)state;
	if (!root) {
		skip();
		return;
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "tests"))
	{
		size_t sl, pl, ml, gl;
		uint8_t *seed = hex_field(t, "secretKey", &sl), *pk = hex_field(t, "publicKey", &pl);
		uint8_t *msg = hex_field(t, "message", &ml), *sig = hex_field(t, "signature", &gl);
		uint8_t mypk[32], mysk[64], mysig[64];

		assert_int_equal(sl, 32);
		assert_int_equal(pl, 32);
		assert_int_equal(gl, 64);
		rvm_ed25519_keypair(mypk, mysk, seed);
		assert_memory_equal(mypk, pk, 32);
		assert_memory_equal(mysk, seed, 32);
		assert_memory_equal(mysk + 32, pk, 32);
		rvm_ed25519_sign(mysig, mysk, msg, ml);
		assert_memory_equal(mysig, sig, 64);
		assert_true(rvm_ed25519_verify(sig, pk, msg, ml));
		free(seed);
		free(pk);
		free(msg);
		free(sig);
		count++;
	}
	printf("RFC 8032: %d vectors: keys derived, signatures reproduced and verified\n", count);
	assert_int_equal(count, 5);
	cJSON_Delete(root);
}

static void test_wycheproof(void **state)
{
	cJSON *root = load_json("crypto/wycheproof/ed25519_test.json");
	const cJSON *g, *t;
	int valid_ok = 0, valid = 0, invalid_ok = 0, invalid = 0, sodium_agrees = 0;

	(void)state;
	if (!root) {
		skip();
		return;
	}
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(root, "testGroups"))
	{
		size_t pl;
		uint8_t *pk = hex_field(cJSON_GetObjectItemCaseSensitive(g, "publicKey"), "pk", &pl);

		assert_int_equal(pl, 32);
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))
		{
			size_t ml, gl;
			uint8_t *msg = hex_field(t, "msg", &ml), *sig = hex_field(t, "sig", &gl);
			bool expect = strcmp(cJSON_GetObjectItemCaseSensitive(t, "result")->valuestring,
					     "valid") == 0;
			bool ours = rvm_ed25519_verify_sig(sig, gl, pk, msg, ml);
			bool sod = gl == 64 && crypto_sign_verify_detached(sig, msg, ml, pk) == 0;

			if (ours != expect)
				printf("FAIL tcId %d: expected %s\n",
				       cJSON_GetObjectItemCaseSensitive(t, "tcId")->valueint,
				       expect ? "valid" : "invalid");
			sodium_agrees += sod == ours;
			if (expect) {
				valid++;
				valid_ok += ours;
			} else {
				invalid++;
				invalid_ok += !ours;
			}
			free(msg);
			free(sig);
		}
		free(pk);
	}
	printf("Wycheproof Ed25519: %d/%d valid accepted, %d/%d invalid rejected; libsodium agrees "
	       "on %d\n",
	       valid_ok, valid, invalid_ok, invalid, sodium_agrees);
	assert_int_equal(valid, 88);
	assert_int_equal(invalid, 63);
	assert_int_equal(valid_ok, 88);
	assert_int_equal(invalid_ok, 63);
	assert_int_equal(sodium_agrees, 151);
	cJSON_Delete(root);
}

/* ---- differential against libsodium -------------------------------------------------------- */

static void test_differential(void **state)
{
	static uint8_t msg[300];
	uint64_t rng = 0xed25519;
	int rounds = 2000 / ROUNDS_SCALE, rejected_flips = 0;

	(void)state;
	for (int i = 0; i < rounds; i++) {
		uint8_t seed[32], pk[32], sk[64], spk[32], ssk[64], sig[64], ssig[64];
		size_t n = (size_t)(rvm_test_rand(&rng) % sizeof(msg));
		size_t bit;

		rvm_test_fill(&rng, seed, 32);
		rvm_test_fill(&rng, msg, n);
		rvm_ed25519_keypair(pk, sk, seed);
		assert_int_equal(crypto_sign_seed_keypair(spk, ssk, seed), 0);
		assert_memory_equal(pk, spk, 32);
		assert_memory_equal(sk, ssk, 64);
		rvm_ed25519_sign(sig, sk, msg, n);
		assert_int_equal(crypto_sign_detached(ssig, NULL, msg, n, ssk), 0);
		assert_memory_equal(sig, ssig, 64);
		assert_true(rvm_ed25519_verify(ssig, pk, msg, n));
		assert_int_equal(crypto_sign_verify_detached(sig, msg, n, spk), 0);
		/* one flipped bit in the signature, the message or the key: both reject */
		bit = (size_t)(rvm_test_rand(&rng) % 512);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(rvm_ed25519_verify(sig, pk, msg, n));
		assert_int_not_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (n) {
			bit = (size_t)(rvm_test_rand(&rng) % (8 * n));
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_false(rvm_ed25519_verify(sig, pk, msg, n));
			assert_int_not_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		bit = (size_t)(rvm_test_rand(&rng) % 256);
		pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(rvm_ed25519_verify(sig, pk, msg, n));
		assert_int_not_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
		rejected_flips += 3;
	}
	printf("differential: %d key pairs and signatures equal to libsodium's, cross-verified; "
	       "%d bit flips rejected by both\n",
	       rounds, rejected_flips);
}

/* k = SHA-512(R || A || M) mod L, as signer and verifier compute it. */
static void challenge(uint8_t k[32], const uint8_t R[32], const uint8_t A[32], const void *m, size_t n)
{
	crypto_hash_sha512_state st;
	uint8_t h[64];

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, R, 32);
	crypto_hash_sha512_update(&st, A, 32);
	crypto_hash_sha512_update(&st, m, n);
	crypto_hash_sha512_final(&st, h);
	rvm_sc25519_reduce64(k, h);
}

/*
 * Signatures for which the cofactorless equation [S]B = R + [k]A holds but A
 * or R has small order: only the small-order checks reject them (libsodium too).
 */
static void test_small_order_forgeries(void **state)
{
	static const uint8_t zero[32];
	uint64_t rng = 0x50;
	int forged = 0;

	(void)state;
	for (int i = 0; i < 64; i++) {
		uint8_t A[32] = { 0 }, sig[64], k[32], seed[32], pk[32], sk[64], h[64];
		const char m[] = "forged";

		/* A = identity (y = 1) or the point of order 2 (y = -1): R = [S]B with k even. */
		if (i % 2 == 0) {
			A[0] = 1;
		} else {
			memcpy(A, rvm_ed25519_small_order_y[2], 32);
		}
		do {
			rvm_test_fill(&rng, sig + 32, 32);
			sig[63] &= 0x0f;
			assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(sig, sig + 32), 0);
			challenge(k, sig, A, m, sizeof(m));
		} while (i % 2 == 1 && (k[0] & 1));
		assert_false(rvm_ed25519_verify(sig, A, m, sizeof(m)));
		assert_int_not_equal(crypto_sign_verify_detached(sig, (const uint8_t *)m, sizeof(m), A), 0);

		/* R = identity with an honest key: S = k a mod L satisfies the equation. */
		rvm_test_fill(&rng, seed, 32);
		rvm_ed25519_keypair(pk, sk, seed);
		crypto_hash_sha512(h, seed, 32);
		h[0] &= 248;
		h[31] &= 127;
		h[31] |= 64;
		memset(sig, 0, 32);
		sig[0] = 1;
		challenge(k, sig, pk, m, sizeof(m));
		rvm_sc25519_muladd(sig + 32, k, h, zero);
		assert_false(rvm_ed25519_verify(sig, pk, m, sizeof(m)));
		assert_int_not_equal(crypto_sign_verify_detached(sig, (const uint8_t *)m, sizeof(m), pk), 0);
		forged += 2;
	}
	printf("small-order forgeries (equation holds): %d rejected by both\n", forged);
}

/*
 * Hostile inputs: random, non-canonical and small-order R, S and A. Ours must
 * decide exactly as libsodium 1.0.18 does, and never crash.
 */
static void test_hostile(void **state)
{
	uint64_t rng = 0xbadc0de;
	uint8_t seed[32] = { 7 }, pk[32], sk[64], sig[64], good[64];
	const char msg[] = "hostile";
	int cases = 0;

	(void)state;
	rvm_ed25519_keypair(pk, sk, seed);
	rvm_ed25519_sign(good, sk, msg, sizeof(msg));
	for (int i = 0; i < 4000 / ROUNDS_SCALE; i++) {
		uint8_t p[32];
		int kind = i % 8;

		memcpy(sig, good, 64);
		memcpy(p, pk, 32);
		switch (kind) {
		case 0: /* random everything */
			rvm_test_fill(&rng, sig, 64);
			rvm_test_fill(&rng, p, 32);
			break;
		case 1: /* random public key */
			rvm_test_fill(&rng, p, 32);
			break;
		case 2: /* S + k L for small k (non-canonical S) */
		{
			BIGNUM *s = bn_from_le(sig + 32, 32), *k = BN_new();

			BN_set_word(k, (BN_ULONG)(1 + rvm_test_rand(&rng) % 15));
			BN_mul(k, k, bn_l, bn_ctx);
			BN_add(s, s, k);
			if (BN_num_bits(s) <= 256)
				bn_to_le32(sig + 32, s);
			BN_free(s);
			BN_free(k);
			break;
		}
		case 3: /* small-order or non-canonical R, either sign */
			memcpy(sig, rvm_ed25519_small_order_y[rvm_test_rand(&rng) % 5], 32);
			sig[31] |= (uint8_t)((rvm_test_rand(&rng) & 1) << 7);
			break;
		case 4: /* small-order A */
			memcpy(p, rvm_ed25519_small_order_y[rvm_test_rand(&rng) % 5], 32);
			p[31] |= (uint8_t)((rvm_test_rand(&rng) & 1) << 7);
			break;
		case 5: /* non-canonical y in A or R: y + p for y < 19 */
		{
			uint8_t *t = (rvm_test_rand(&rng) & 1) ? p : sig;

			memset(t, 0xff, 32);
			t[0] = (uint8_t)(0xed + rvm_test_rand(&rng) % 19);
			t[31] = (uint8_t)(0x7f | ((rvm_test_rand(&rng) & 1) << 7));
			break;
		}
		case 6: /* random R */
			rvm_test_fill(&rng, sig, 32);
			break;
		default: /* top bits of S set */
			sig[63] |= (uint8_t)(0x10 << (rvm_test_rand(&rng) % 4));
			break;
		}
		{
			bool ours = rvm_ed25519_verify(sig, p, msg, sizeof(msg));
			bool sod = crypto_sign_verify_detached(sig, (const unsigned char *)msg,
							      sizeof(msg), p) == 0;

			if (ours != sod)
				fail_msg("case kind %d: ours %d, libsodium %d", kind, ours, sod);
		}
		cases++;
	}
	/* wrong signature lengths are refused by the length-checking entry point */
	assert_true(rvm_ed25519_verify_sig(good, 64, pk, msg, sizeof(msg)));
	assert_false(rvm_ed25519_verify_sig(good, 63, pk, msg, sizeof(msg)));
	assert_false(rvm_ed25519_verify_sig(good, 0, pk, msg, sizeof(msg)));
	assert_false(rvm_ed25519_verify_sig(NULL, 0, pk, msg, sizeof(msg)));
	printf("hostile inputs: %d cases decided as libsodium decides\n", cases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_scalar),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_rfc8032),
		cmocka_unit_test(test_wycheproof),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_small_order_forgeries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
