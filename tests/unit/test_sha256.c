/* tests/unit/test_sha256.c - SHA-256 against NIST CAVP, OpenSSL and libsodium, every implementation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <sodium.h>

#include <rvm/sha256.h>

#include "cavp_rsp.h"
#include "support.h"

static const struct rvm_sha256_impl *impls[8];
static size_t nimpls;

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	nimpls = rvm_sha256_available(impls, 8);
	for (size_t i = 0; i < nimpls; i++)
		printf("sha256 implementation available: %s\n", impls[i]->name);
	return 0;
}

/* Hashes in chunks of random sizes (0..max) through the streaming API. */
static void sha256_chunked(const struct rvm_sha256_impl *impl, const uint8_t *m, size_t n,
			   uint64_t *rng, size_t max, uint8_t out[32])
{
	struct rvm_sha256 ctx;
	size_t off = 0;

	rvm_sha256_init(&ctx, impl);
	while (off < n) {
		size_t take = (size_t)(rvm_test_rand(rng) % (max + 1));

		if (take > n - off)
			take = n - off;
		rvm_sha256_update(&ctx, m + off, take);
		off += take;
	}
	rvm_sha256_final(&ctx, out);
}

struct msg_check {
	long checked;
	long failed;
};

static void check_msg(const struct cavp_rec *r, void *arg)
{
	struct msg_check *c = arg;
	uint64_t rng = (uint64_t)r->len_bits;

	for (size_t i = 0; i < nimpls; i++) {
		uint8_t d[32];

		rvm_sha256(impls[i], r->msg, (size_t)r->len_bits / 8, d);
		if (r->md_len != 32 || memcmp(d, r->md, 32) != 0) {
			printf("FAIL %s Len=%ld (one-shot)\n", impls[i]->name, r->len_bits);
			c->failed++;
		}
		sha256_chunked(impls[i], r->msg, (size_t)r->len_bits / 8, &rng, 97, d);
		if (memcmp(d, r->md, 32) != 0) {
			printf("FAIL %s Len=%ld (streamed)\n", impls[i]->name, r->len_bits);
			c->failed++;
		}
	}
	c->checked++;
}

static void run_msg_file(const char *rel, long expect)
{
	const char *path = rvm_test_data(rel);
	struct msg_check c = { 0, 0 };
	char *text;

	if (!path) {
		skip();
		return;
	}
	text = rvm_test_read_file(path, NULL);
	assert_non_null(text);
	assert_int_equal(cavp_each(text, check_msg, &c), expect);
	free(text);
	printf("%s: %ld vectors x %zu implementations (one-shot and streamed), %ld failures\n", rel,
	       c.checked, nimpls, c.failed);
	assert_int_equal(c.checked, expect);
	assert_int_equal(c.failed, 0);
}

static void test_cavp_short(void **state)
{
	(void)state;
	run_msg_file("crypto/nist-cavp/SHA256ShortMsg.rsp", 65);
}

static void test_cavp_long(void **state)
{
	(void)state;
	run_msg_file("crypto/nist-cavp/SHA256LongMsg.rsp", 64);
}

struct monte {
	const struct rvm_sha256_impl *impl;
	uint8_t seed[32];
	long next;
	long failed;
};

static void check_monte(const struct cavp_rec *r, void *arg)
{
	struct monte *m = arg;
	uint8_t md[3][32], buf[96];

	if (m->next == 0) {
		assert_int_equal(r->msg_len, 32);
		memcpy(m->seed, r->msg, 32);
	}
	assert_int_equal(r->count, m->next);
	/* SHAVS Monte: MD0 = MD1 = MD2 = Seed; MDi = SHA(MDi-3 || MDi-2 || MDi-1), i = 3..1002. */
	memcpy(md[0], m->seed, 32);
	memcpy(md[1], m->seed, 32);
	memcpy(md[2], m->seed, 32);
	for (int i = 3; i < 1003; i++) {
		memcpy(buf, md[0], 32);
		memcpy(buf + 32, md[1], 32);
		memcpy(buf + 64, md[2], 32);
		memmove(md[0], md[1], 64);
		rvm_sha256(m->impl, buf, sizeof(buf), md[2]);
	}
	if (memcmp(md[2], r->md, 32) != 0) {
		printf("FAIL Monte %s COUNT=%ld\n", m->impl->name, r->count);
		m->failed++;
	}
	memcpy(m->seed, md[2], 32);
	m->next++;
}

static void test_cavp_monte(void **state)
{
	const char *path = rvm_test_data("crypto/nist-cavp/SHA256Monte.rsp");
	char *text;

	(void)state;
	if (!path) {
		skip();
		return;
	}
	text = rvm_test_read_file(path, NULL);
	assert_non_null(text);
	for (size_t i = 0; i < nimpls; i++) {
		struct monte m = { .impl = impls[i] };

		assert_int_equal(cavp_each(text, check_monte, &m), 100);
		printf("SHA256Monte %s: 100 checkpoints, %ld failures\n", impls[i]->name, m.failed);
		assert_int_equal(m.next, 100);
		assert_int_equal(m.failed, 0);
	}
	free(text);
}

/* Every length 0..1024 of random bytes: ours (each impl, one-shot and streamed) = OpenSSL = libsodium. */
static void test_differential(void **state)
{
	static uint8_t m[1025];
	uint64_t rng = 0x5eed5eed;

	(void)state;
	for (size_t n = 0; n <= 1024; n++) {
		uint8_t ossl[32], sod[32], d[32];

		rvm_test_fill(&rng, m, n);
		SHA256(m, n, ossl);
		crypto_hash_sha256(sod, m, n);
		assert_memory_equal(ossl, sod, 32);
		for (size_t i = 0; i < nimpls; i++) {
			rvm_sha256(impls[i], m, n, d);
			assert_memory_equal(d, ossl, 32);
			sha256_chunked(impls[i], m, n, &rng, 1 + n % 150, d);
			assert_memory_equal(d, ossl, 32);
		}
	}
}

/* A block function must handle many blocks per call and any input alignment. */
static void test_multiblock_unaligned(void **state)
{
	static uint8_t m[64 * 40 + 8];
	uint64_t rng = 42;

	(void)state;
	rvm_test_fill(&rng, m, sizeof(m));
	for (size_t off = 0; off < 8; off++) {
		uint8_t ref[32], d[32];

		SHA256(m + off, 64 * 40, ref);
		for (size_t i = 0; i < nimpls; i++) {
			rvm_sha256(impls[i], m + off, 64 * 40, d);
			assert_memory_equal(d, ref, 32);
		}
	}
}

/*
 * update2 = two updates, = OpenSSL: for each impl, two messages with prefixes
 * of equal and of different lengths (in step, and not), then lengths that
 * end mid-block; a and b both absorb every split.
 */
static void test_update2(void **state)
{
	static uint8_t ma[64 * 70 + 200], mb[64 * 70 + 200];
	uint64_t rng = 0x2222;

	(void)state;
	rvm_test_fill(&rng, ma, sizeof(ma));
	rvm_test_fill(&rng, mb, sizeof(mb));
	for (size_t i = 0; i < nimpls; i++) {
		for (int trial = 0; trial < 300; trial++) {
			size_t pa = (size_t)(rvm_test_rand(&rng) % 130);
			size_t pb = trial % 3 ? pa : (size_t)(rvm_test_rand(&rng) % 130);
			size_t n = (size_t)(rvm_test_rand(&rng) % (64 * 70));
			size_t ta = (size_t)(rvm_test_rand(&rng) % 70);
			struct rvm_sha256 a, b;
			uint8_t da[32], db[32], ra[32], rb[32];

			rvm_sha256_init(&a, impls[i]);
			rvm_sha256_init(&b, impls[i]);
			rvm_sha256_update(&a, ma, pa);
			rvm_sha256_update(&b, mb, pb);
			rvm_sha256_update2(&a, ma + pa, &b, mb + pb, n);
			rvm_sha256_update(&a, ma + pa + n, ta);
			rvm_sha256_final(&a, da);
			rvm_sha256_final(&b, db);
			SHA256(ma, pa + n + ta, ra);
			SHA256(mb, pb + n, rb);
			assert_memory_equal(da, ra, 32);
			assert_memory_equal(db, rb, 32);
		}
	}
}

/* A two-message block function = its one-message function run twice, at any alignment. */
static void test_blocks2(void **state)
{
	static uint8_t m[64 * 33 + 16];
	uint64_t rng = 77;
	size_t with2 = 0;

	(void)state;
	rvm_test_fill(&rng, m, sizeof(m));
	for (size_t i = 0; i < nimpls; i++) {
		if (!impls[i]->blocks2)
			continue;
		with2++;
		for (size_t nb = 0; nb <= 16; nb++) {
			uint32_t sa[8], sb[8], ra[8], rb[8];

			for (int k = 0; k < 8; k++)
				sa[k] = ra[k] = (uint32_t)rvm_test_rand(&rng);
			for (int k = 0; k < 8; k++)
				sb[k] = rb[k] = (uint32_t)rvm_test_rand(&rng);
			impls[i]->blocks2(sa, m + nb % 7, sb, m + 64 * 17 + nb % 5, nb);
			impls[i]->blocks(ra, m + nb % 7, nb);
			impls[i]->blocks(rb, m + 64 * 17 + nb % 5, nb);
			assert_memory_equal(sa, ra, sizeof(ra));
			assert_memory_equal(sb, rb, sizeof(rb));
		}
	}
	printf("implementations with a two-message function: %zu\n", with2);
}

/* detect() returns one of the available implementations, the fastest (last) one. */
static void test_detect(void **state)
{
	(void)state;
	assert_true(nimpls >= 1);
	assert_ptr_equal(impls[0], rvm_sha256_portable());
	assert_ptr_equal(rvm_sha256_detect(), impls[nimpls - 1]);
	assert_int_equal(rvm_sha256_available(impls, 1), 1);
}

/* A NULL impl means portable; an empty update with a NULL pointer is harmless. */
static void test_null_impl_and_empty(void **state)
{
	struct rvm_sha256 ctx;
	uint8_t d[32], ref[32];

	(void)state;
	rvm_sha256_init(&ctx, NULL);
	rvm_sha256_update(&ctx, NULL, 0);
	rvm_sha256_final(&ctx, d);
	SHA256((const unsigned char *)"", 0, ref);
	assert_memory_equal(d, ref, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_null_impl_and_empty),
		cmocka_unit_test(test_cavp_short),
		cmocka_unit_test(test_cavp_long),
		cmocka_unit_test(test_cavp_monte),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_multiblock_unaligned),
		cmocka_unit_test(test_update2),
		cmocka_unit_test(test_blocks2),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
