/* tests/unit/test_sha512.c - SHA-512 against NIST CAVP, OpenSSL and libsodium. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <sodium.h>

#include <rvm/sha512.h>

#include "cavp_rsp.h"
#include "support.h"

/* Hashes in chunks of random sizes (0..max) through the streaming API. */
static void sha512_chunked(const uint8_t *m, size_t n, uint64_t *rng, size_t max, uint8_t out[64])
{
	struct rvm_sha512 ctx;
	size_t off = 0;

	rvm_sha512_init(&ctx);
	while (off < n) {
		size_t take = (size_t)(rvm_test_rand(rng) % (max + 1));

		if (take > n - off)
			take = n - off;
		rvm_sha512_update(&ctx, m + off, take);
		off += take;
	}
	rvm_sha512_final(&ctx, out);
}

struct msg_check {
	long checked;
	long failed;
};

static void check_msg(const struct cavp_rec *r, void *arg)
{
	struct msg_check *c = arg;
	uint64_t rng = (uint64_t)r->len_bits;
	uint8_t d[64];

	rvm_sha512(r->msg, (size_t)r->len_bits / 8, d);
	if (r->md_len != 64 || memcmp(d, r->md, 64) != 0) {
		printf("FAIL Len=%ld (one-shot)\n", r->len_bits);
		c->failed++;
	}
	sha512_chunked(r->msg, (size_t)r->len_bits / 8, &rng, 201, d);
	if (memcmp(d, r->md, 64) != 0) {
		printf("FAIL Len=%ld (streamed)\n", r->len_bits);
		c->failed++;
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
	printf("%s: %ld vectors (one-shot and streamed), %ld failures\n", rel, c.checked, c.failed);
	assert_int_equal(c.checked, expect);
	assert_int_equal(c.failed, 0);
}

static void test_cavp_short(void **state)
{
	(void)state;
	run_msg_file("crypto/nist-cavp/SHA512ShortMsg.rsp", 129);
}

static void test_cavp_long(void **state)
{
	(void)state;
	run_msg_file("crypto/nist-cavp/SHA512LongMsg.rsp", 128);
}

struct monte {
	uint8_t seed[64];
	long next;
	long failed;
};

static void check_monte(const struct cavp_rec *r, void *arg)
{
	struct monte *m = arg;
	uint8_t md[3][64], buf[192];

	if (m->next == 0) {
		assert_int_equal(r->msg_len, 64);
		memcpy(m->seed, r->msg, 64);
	}
	assert_int_equal(r->count, m->next);
	/* SHAVS Monte: MD0 = MD1 = MD2 = Seed; MDi = SHA(MDi-3 || MDi-2 || MDi-1), i = 3..1002. */
	memcpy(md[0], m->seed, 64);
	memcpy(md[1], m->seed, 64);
	memcpy(md[2], m->seed, 64);
	for (int i = 3; i < 1003; i++) {
		memcpy(buf, md[0], 192);
		memmove(md[0], md[1], 128);
		rvm_sha512(buf, sizeof(buf), md[2]);
	}
	if (memcmp(md[2], r->md, 64) != 0) {
		printf("FAIL Monte COUNT=%ld\n", r->count);
		m->failed++;
	}
	memcpy(m->seed, md[2], 64);
	m->next++;
}

static void test_cavp_monte(void **state)
{
	const char *path = rvm_test_data("crypto/nist-cavp/SHA512Monte.rsp");
	struct monte m = { .next = 0 };
	char *text;

	(void)state;
	if (!path) {
		skip();
		return;
	}
	text = rvm_test_read_file(path, NULL);
	assert_non_null(text);
	assert_int_equal(cavp_each(text, check_monte, &m), 100);
	printf("SHA512Monte: 100 checkpoints, %ld failures\n", m.failed);
	assert_int_equal(m.next, 100);
	assert_int_equal(m.failed, 0);
	free(text);
}

/* Every length 0..1024 of random bytes: ours (one-shot and streamed) = OpenSSL = libsodium. */
static void test_differential(void **state)
{
	static uint8_t m[1025 + 7];
	uint64_t rng = 0x5eed512;

	(void)state;
	assert_int_equal(sodium_init() < 0, 0);
	for (size_t n = 0; n <= 1024; n++) {
		uint8_t ossl[64], sod[64], d[64];
		uint8_t *p = m + n % 8; /* unaligned inputs too */

		rvm_test_fill(&rng, p, n);
		SHA512(p, n, ossl);
		crypto_hash_sha512(sod, p, n);
		assert_memory_equal(ossl, sod, 64);
		rvm_sha512(p, n, d);
		assert_memory_equal(d, ossl, 64);
		sha512_chunked(p, n, &rng, 1 + n % 300, d);
		assert_memory_equal(d, ossl, 64);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cavp_short),
		cmocka_unit_test(test_cavp_long),
		cmocka_unit_test(test_cavp_monte),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
