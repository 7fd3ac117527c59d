/* tests/unit/test_hmac.c - HMAC-SHA-256 against RFC 4231, Wycheproof, OpenSSL and libsodium. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <rvm/hmac.h>

#include "support.h"

static const struct rvm_sha256_impl *impls[8];
static size_t nimpls;

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	nimpls = rvm_sha256_available(impls, 8);
	return 0;
}

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

/* Hex field of a JSON object into a fresh malloc'd buffer (at least 1 byte). */
static uint8_t *hex_field(const cJSON *obj, const char *name, size_t *len)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, name);
	uint8_t *buf;
	long n;

	assert_true(cJSON_IsString(f));
	buf = malloc(strlen(f->valuestring) / 2 + 1);
	assert_non_null(buf);
	n = rvm_test_unhex(f->valuestring, buf, strlen(f->valuestring) / 2 + 1);
	assert_true(n >= 0);
	*len = (size_t)n;
	return buf;
}

static void test_rfc4231(void **state)
{
	cJSON *root = load_json("crypto/rfc/rfc4231_hmac_sha256.json");
	const cJSON *t;
	int count = 0;

	(void)state;
	if (!root) {
		skip();
		return;
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "tests"))
	{
		size_t kl, dl, ml;
		uint8_t *k = hex_field(t, "key", &kl), *d = hex_field(t, "data", &dl);
		uint8_t *m = hex_field(t, "mac", &ml);
		int bits = cJSON_GetObjectItemCaseSensitive(t, "macBits")->valueint;

		assert_int_equal(ml * 8, (size_t)bits);
		for (size_t i = 0; i < nimpls; i++) {
			uint8_t out[32];

			rvm_hmac_sha256(impls[i], k, kl, d, dl, out);
			assert_memory_equal(out, m, ml);
			assert_true(rvm_hmac_sha256_verify(impls[i], k, kl, d, dl, m, ml));
		}
		free(k);
		free(d);
		free(m);
		count++;
	}
	printf("RFC 4231: %d test cases x %zu implementations passed\n", count, nimpls);
	assert_int_equal(count, 7);
	cJSON_Delete(root);
}

static void test_wycheproof(void **state)
{
	cJSON *root = load_json("crypto/wycheproof/hmac_sha256_test.json");
	const cJSON *g, *t;
	int valid = 0, invalid = 0, wrong = 0;

	(void)state;
	if (!root) {
		skip();
		return;
	}
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(root, "testGroups"))
	{
		size_t tagbytes = (size_t)cJSON_GetObjectItemCaseSensitive(g, "tagSize")->valueint / 8;

		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))
		{
			size_t kl, ml, tl;
			uint8_t *k = hex_field(t, "key", &kl), *m = hex_field(t, "msg", &ml);
			uint8_t *tag = hex_field(t, "tag", &tl);
			const char *res = cJSON_GetObjectItemCaseSensitive(t, "result")->valuestring;
			bool expect = strcmp(res, "valid") == 0;

			assert_int_equal(tl, tagbytes);
			for (size_t i = 0; i < nimpls; i++) {
				bool ok = rvm_hmac_sha256_verify(impls[i], k, kl, m, ml, tag, tl);

				if (ok != expect) {
					printf("FAIL tcId %d (%s)\n",
					       cJSON_GetObjectItemCaseSensitive(t, "tcId")->valueint,
					       impls[i]->name);
					wrong++;
				}
			}
			expect ? valid++ : invalid++;
			free(k);
			free(m);
			free(tag);
		}
	}
	printf("Wycheproof HMAC-SHA-256: %d valid accepted, %d invalid rejected, %d wrong\n",
	       valid, invalid, wrong);
	assert_int_equal(valid + invalid, 174);
	assert_int_equal(wrong, 0);
	cJSON_Delete(root);
}

/* libsodium's streaming HMAC takes any key length. */
static void sodium_hmac(const uint8_t *k, size_t kl, const uint8_t *m, size_t n, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, k, kl);
	crypto_auth_hmacsha256_update(&st, m, n);
	crypto_auth_hmacsha256_final(&st, out);
}

/* Every message length 0..1024 with random keys of 0..200 bytes, one-shot and streamed. */
static void test_differential(void **state)
{
	static uint8_t m[1025], k[201];
	uint64_t rng = 0x4a4d4143;

	(void)state;
	for (size_t n = 0; n <= 1024; n++) {
		size_t kl = (size_t)(rvm_test_rand(&rng) % 201);
		uint8_t ossl[32], sod[32], d[32];
		unsigned olen = 0;

		rvm_test_fill(&rng, m, n);
		rvm_test_fill(&rng, k, kl);
		assert_non_null(HMAC(EVP_sha256(), k, (int)kl, m, n, ossl, &olen));
		assert_int_equal(olen, 32);
		sodium_hmac(k, kl, m, n, sod);
		assert_memory_equal(ossl, sod, 32);
		for (size_t i = 0; i < nimpls; i++) {
			struct rvm_hmac_sha256 ctx;
			size_t off = 0;

			rvm_hmac_sha256(impls[i], k, kl, m, n, d);
			assert_memory_equal(d, ossl, 32);
			rvm_hmac_sha256_init(&ctx, impls[i], k, kl);
			while (off < n) {
				size_t take = (size_t)(rvm_test_rand(&rng) % 130);

				if (take > n - off)
					take = n - off;
				rvm_hmac_sha256_update(&ctx, m + off, take);
				off += take;
			}
			rvm_hmac_sha256_final(&ctx, d);
			assert_memory_equal(d, ossl, 32);
		}
	}
}

/* verify: bad tag lengths and every single-bit flip are rejected. */
static void test_verify_rejects(void **state)
{
	const uint8_t key[] = "key", msg[] = "message";
	uint8_t tag[33];

	(void)state;
	rvm_hmac_sha256(NULL, key, 3, msg, 7, tag);
	tag[32] = 0;
	assert_true(rvm_hmac_sha256_verify(NULL, key, 3, msg, 7, tag, 32));
	assert_true(rvm_hmac_sha256_verify(NULL, key, 3, msg, 7, tag, 1));
	assert_false(rvm_hmac_sha256_verify(NULL, key, 3, msg, 7, tag, 0));
	assert_false(rvm_hmac_sha256_verify(NULL, key, 3, msg, 7, tag, 33));
	for (int bit = 0; bit < 256; bit++) {
		tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(rvm_hmac_sha256_verify(NULL, key, 3, msg, 7, tag, 32));
		tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_false(rvm_hmac_sha256_verify(NULL, key, 2, msg, 7, tag, 32));
	assert_false(rvm_hmac_sha256_verify(NULL, key, 3, msg, 6, tag, 32));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_wycheproof),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_verify_rejects),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
