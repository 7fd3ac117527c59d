/* tests/unit/test_bytes.c - freestanding memcpy & co against libc, and the constant-time compare. */
#include "support.h"

#include <string.h>

#include <rvm/bytes.h>

static void test_copy_matches_libc(void **state)
{
	uint8_t src[300], a[300], b[300];
	uint64_t seed = 1;

	(void)state;
	rvm_test_fill(&seed, src, sizeof(src));
	/* Every offset pair and length exercises the aligned and unaligned paths. */
	for (size_t so = 0; so < 9; so++)
		for (size_t dof = 0; dof < 9; dof++)
			for (size_t n = 0; n < 200; n += 7) {
				memset(a, 0xAA, sizeof(a));
				memset(b, 0xAA, sizeof(b));
				rvm_memcpy(a + dof, src + so, n);
				memcpy(b + dof, src + so, n);
				assert_memory_equal(a, b, sizeof(a));
			}
}

static void test_move_overlaps(void **state)
{
	uint8_t a[64], b[64];

	(void)state;
	for (int shift = -8; shift <= 8; shift++) {
		for (int i = 0; i < 64; i++)
			a[i] = b[i] = (uint8_t)i;
		rvm_memmove(a + 16 + shift, a + 16, 32);
		memmove(b + 16 + shift, b + 16, 32);
		assert_memory_equal(a, b, sizeof(a));
	}
}

/*
 * rvm_memmove against a reference (copy out, then copy in) for every source alignment, every
 * length up to 80 and a few longer ones (several 64-byte blocks), and every distance between the
 * ranges from "disjoint below" through every overlap to "disjoint above": both copy directions,
 * aligned and unaligned words, the block loops, the byte heads and tails. The whole buffer is
 * compared, so a stray store outside the range shows.
 */
static void test_move_every_offset(void **state)
{
	static _Alignas(64) uint8_t buf[1024], ref[1024], orig[1024], tmp[300];
	static const size_t longer[] = { 127, 128, 129, 200, 263 };
	uint64_t seed = 7;
	size_t cases = 0, want = 0;

	(void)state;
	rvm_test_fill(&seed, orig, sizeof(orig));
	for (size_t k = 0; k <= 80 + sizeof(longer) / sizeof(longer[0]); k++) {
		size_t n = k <= 80 ? k : longer[k - 81];

		want += 16 * (2 * n + 19);
		for (size_t so = 0; so < 16; so++)
			for (long delta = -(long)n - 9; delta <= (long)n + 9; delta++) {
				size_t s = 320 + so, d = (size_t)((long)s + delta);

				memcpy(buf, orig, sizeof(buf));
				memcpy(ref, orig, sizeof(ref));
				memcpy(tmp, orig + s, n);
				memcpy(ref + d, tmp, n);
				assert_ptr_equal(rvm_memmove(buf + d, buf + s, n), buf + d);
				if (memcmp(buf, ref, sizeof(buf)) != 0)
					fail_msg("memmove src+%zu dst%+ld len %zu", so, delta, n);
				cases++;
			}
	}
	assert_int_equal(cases, want);
}

/* rvm_memcpy for every pair of source and destination alignments and lengths to 80 and beyond. */
static void test_copy_every_alignment(void **state)
{
	static _Alignas(64) uint8_t src[400], a[400], b[400];
	static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 79, 80, 300 };
	uint64_t seed = 3;

	(void)state;
	rvm_test_fill(&seed, src, sizeof(src));
	for (size_t so = 0; so < 16; so++)
		for (size_t dof = 0; dof < 16; dof++)
			for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
				memset(a, 0xAA, sizeof(a));
				memset(b, 0xAA, sizeof(b));
				assert_ptr_equal(rvm_memcpy(a + dof, src + so, lens[i]), a + dof);
				memcpy(b + dof, src + so, lens[i]);
				if (memcmp(a, b, sizeof(a)) != 0)
					fail_msg("memcpy src+%zu dst+%zu len %zu", so, dof,
						 lens[i]);
			}
}

static void test_set_cmp_len(void **state)
{
	uint8_t a[40];

	(void)state;
	rvm_memset(a, 0x5c, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0x5c);
	assert_int_equal(rvm_memcmp("abc", "abd", 3), -1);
	assert_int_equal(rvm_memcmp("abd", "abc", 3), 1);
	assert_int_equal(rvm_memcmp("abc", "abc", 3), 0);
	assert_int_equal(rvm_memcmp("\x80", "\x01", 1), 1); /* unsigned compare */
	assert_int_equal(rvm_strlen(""), 0);
	assert_int_equal(rvm_strlen("witness"), 7);
}

/* Word-wise fill and wipe: every alignment and length against libc, nothing outside touched. */
static void test_set_wipe_words(void **state)
{
	uint8_t a[160], b[160];

	(void)state;
	for (size_t off = 0; off < 17; off++)
		for (size_t n = 0; n < 130; n++) {
			memset(a, 0xAA, sizeof(a));
			memset(b, 0xAA, sizeof(b));
			assert_ptr_equal(rvm_memset(a + off, 0x3c + (int)n, n), a + off);
			memset(b + off, 0x3c + (int)n, n);
			assert_memory_equal(a, b, sizeof(a));
			rvm_wipe(a + off, n);
			memset(b + off, 0, n);
			assert_memory_equal(a, b, sizeof(a));
		}
	/* Only the low byte of c counts, as for memset. */
	rvm_memset(a, 0x1ff, 40);
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(a[i], 0xff);
}

static void test_ct_equal(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	(void)state;
	assert_true(rvm_ct_equal(a, b, 32));
	assert_true(rvm_ct_equal(a, b, 0));
	/* Every single-bit difference at every position is seen. */
	for (int i = 0; i < 32; i++)
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_false(rvm_ct_equal(a, b, 32));
			b[i] ^= (uint8_t)(1u << bit);
		}
}

static void test_endian(void **state)
{
	uint8_t p[8];

	(void)state;
	rvm_store_le64(p, 0x0102030405060708ull);
	assert_int_equal(p[0], 0x08);
	assert_int_equal(p[7], 0x01);
	assert_true(rvm_load_le64(p) == 0x0102030405060708ull);
	rvm_store_be64(p, 0x0102030405060708ull);
	assert_int_equal(p[0], 0x01);
	assert_true(rvm_load_be64(p) == 0x0102030405060708ull);
	rvm_store_le16(p, 0xBEEF);
	assert_int_equal(rvm_load_le16(p), 0xBEEF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_matches_libc), cmocka_unit_test(test_move_overlaps),
		cmocka_unit_test(test_set_cmp_len),       cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_endian),            cmocka_unit_test(test_set_wipe_words),
		cmocka_unit_test(test_move_every_offset),
		cmocka_unit_test(test_copy_every_alignment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
