/* tests/unit/test_lz4.c - our LZ4 block codec against liblz4, both ways, and against hostile blocks. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include <rvm/lz4.h>

enum page_kind { PAGE_ZERO, PAGE_TEXT, PAGE_RANDOM, PAGE_MIXED, PAGE_RUNS, PAGE_KINDS };

static const char *const words[] = {
	"partition", "capability", "witness", "region", "the", "of", "and", "agent", "epoch",
	"coherence", "{\"id\":", "\"seq\":", "0x", "\n", "  ", "return", "int", ";", "memory",
};

/* Text-like data: words from a small vocabulary, numbers and punctuation. */
static void fill_text(uint64_t *rs, uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint64_t r = rvm_test_rand(rs);
		char tmp[32];
		int len;

		if (r % 5 == 0)
			len = snprintf(tmp, sizeof(tmp), "%u ", (unsigned)(r >> 20) % 100000u);
		else
			len = snprintf(tmp, sizeof(tmp), "%s ", words[(r >> 8) % (sizeof(words) / sizeof(words[0]))]);
		for (int k = 0; k < len && i < n; k++)
			p[i++] = (uint8_t)tmp[k];
	}
}

static void fill_page(uint64_t *rs, enum page_kind kind, uint8_t *p, size_t n)
{
	size_t i = 0;

	switch (kind) {
	case PAGE_ZERO:
		memset(p, 0, n);
		break;
	case PAGE_TEXT:
		fill_text(rs, p, n);
		break;
	case PAGE_RANDOM:
		rvm_test_fill(rs, p, n);
		break;
	case PAGE_MIXED:
		/* Segments of zeros, text and noise. */
		while (i < n) {
			size_t seg = 1 + rvm_test_rand(rs) % 700;

			if (seg > n - i)
				seg = n - i;
			fill_page(rs, (enum page_kind)(rvm_test_rand(rs) % 3), p + i, seg);
			i += seg;
		}
		break;
	default:
		/* Short runs with small periods: exercises offsets 1..7 and overlap copies. */
		while (i < n) {
			size_t period = 1 + rvm_test_rand(rs) % 9, len = 1 + rvm_test_rand(rs) % 300;
			uint8_t pat[16];

			rvm_test_fill(rs, pat, sizeof(pat));
			for (size_t k = 0; k < len && i < n; k++)
				p[i++] = pat[k % period];
		}
		break;
	}
}

/* Copy into an exactly sized heap block so ASan sees any read past its end. */
static uint8_t *exact_copy(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static struct rvm_lz4_work work;

/*
 * One input through both directions: ours -> liblz4 and liblz4 -> ours, plus
 * our own round trip. Buffers are exactly sized. Adds the sizes to the totals.
 */
static void check_both_ways(const uint8_t *in, size_t n, size_t *ours_total, size_t *peer_total)
{
	size_t bound = rvm_lz4_bound(n), clen = 0, dlen = 0;
	uint8_t *cbuf = malloc(bound), *ours_block, *dec = malloc(n ? n : 1), *src = exact_copy(in, n);
	char *pbuf = malloc((size_t)LZ4_compressBound((int)n));
	int plen, r;

	assert_non_null(cbuf);
	assert_non_null(dec);
	assert_non_null(pbuf);
	assert_true(bound >= (size_t)LZ4_compressBound((int)n));
	assert_int_equal(rvm_lz4_compress(&work, src, n, cbuf, bound, &clen), RVM_OK);
	assert_true(clen >= 1 && clen <= bound);
	ours_block = exact_copy(cbuf, clen);
	/* Ours -> liblz4. */
	r = LZ4_decompress_safe((const char *)ours_block, (char *)dec, (int)clen, (int)n);
	if (r != (int)n || memcmp(dec, in, n) != 0)
		fail_msg("liblz4 cannot decode our block of %zu bytes (got %d)", n, r);
	/* Ours -> ours. */
	memset(dec, 0xA5, n);
	assert_int_equal(rvm_lz4_decompress(ours_block, clen, dec, n, &dlen), RVM_OK);
	assert_int_equal(dlen, n);
	assert_memory_equal(dec, in, n);
	/* liblz4 -> ours. */
	plen = LZ4_compress_default((const char *)src, pbuf, (int)n, LZ4_compressBound((int)n));
	assert_true(plen > 0);
	free(ours_block);
	ours_block = exact_copy(pbuf, (size_t)plen);
	memset(dec, 0x5A, n);
	dlen = 0;
	if (rvm_lz4_decompress(ours_block, (size_t)plen, dec, n, &dlen) != RVM_OK || dlen != n ||
	    memcmp(dec, in, n) != 0)
		fail_msg("we cannot decode liblz4's block of %zu bytes", n);
	*ours_total += clen;
	*peer_total += (size_t)plen;
	free(ours_block);
	free(cbuf);
	free(dec);
	free(pbuf);
	free(src);
}

static void test_differential_pages(void **state)
{
	static uint8_t page[65536];
	static const char *const names[] = { "zero", "text", "random", "mixed", "runs" };
	uint64_t rs = 0x1234;
	size_t ours[PAGE_KINDS] = { 0 }, peer[PAGE_KINDS] = { 0 };
	int count = 0;

	(void)state;
	/* 4 KiB pages: 600 of each kind. */
	for (int k = 0; k < PAGE_KINDS; k++)
		for (int i = 0; i < 600; i++, count++) {
			fill_page(&rs, (enum page_kind)k, page, 4096);
			check_both_ways(page, 4096, &ours[k], &peer[k]);
		}
	/* Every size 0..300, then random sizes, then 64 KiB. */
	for (size_t n = 0; n <= 300; n++, count++) {
		fill_page(&rs, (enum page_kind)(n % PAGE_KINDS), page, n);
		check_both_ways(page, n, &ours[0], &peer[0]);
	}
	for (int i = 0; i < 400; i++, count++) {
		size_t n = rvm_test_rand(&rs) % 65537;

		fill_page(&rs, (enum page_kind)(i % PAGE_KINDS), page, n);
		check_both_ways(page, n, &ours[0], &peer[0]);
	}
	for (int k = 0; k < PAGE_KINDS; k++, count++) {
		fill_page(&rs, (enum page_kind)k, page, sizeof(page));
		check_both_ways(page, sizeof(page), &ours[k], &peer[k]);
	}
	for (int k = 1; k < PAGE_KINDS; k++) {
		print_message("lz4 %-6s 4 KiB pages: ours %zu bytes, liblz4 %zu bytes (%.3f)\n",
			      names[k], ours[k], peer[k], (double)ours[k] / (double)peer[k]);
		/* Comparable ratio: within 10% of liblz4 on every kind of data. */
		assert_true(ours[k] * 100 <= peer[k] * 110);
	}
	print_message("lz4: %d inputs checked both ways\n", count);
}

static void test_edge_sizes(void **state)
{
	uint8_t in[32] = { 0 }, block[64], out[32];
	size_t clen, dlen;

	(void)state;
	/* n = 0 gives the single byte 0x00, which both decoders accept. */
	assert_int_equal(rvm_lz4_compress(&work, in, 0, block, sizeof(block), &clen), RVM_OK);
	assert_int_equal(clen, 1);
	assert_int_equal(block[0], 0);
	assert_int_equal(rvm_lz4_decompress(block, 1, out, 0, &dlen), RVM_OK);
	assert_int_equal(dlen, 0);
	assert_int_equal(LZ4_decompress_safe((const char *)block, (char *)out, 1, 0), 0);
	/* Up to 12 bytes: literals only, even when they repeat. */
	memset(in, 7, sizeof(in));
	for (size_t n = 1; n <= 12; n++) {
		assert_int_equal(rvm_lz4_compress(&work, in, n, block, sizeof(block), &clen), RVM_OK);
		assert_int_equal(clen, n + 1);
	}
	/* 13 equal bytes: the first with a match is possible. */
	assert_int_equal(rvm_lz4_compress(&work, in, 13, block, sizeof(block), &clen), RVM_OK);
	assert_true(clen < 14);
	assert_int_equal(rvm_lz4_decompress(block, clen, out, 13, &dlen), RVM_OK);
	assert_int_equal(dlen, 13);
	assert_memory_equal(out, in, 13);
}

static void test_bad_arguments(void **state)
{
	static uint8_t big[RVM_LZ4_MAX_INPUT + 1];
	uint8_t block[16], out[16];
	size_t len = 99;

	(void)state;
	assert_int_equal(rvm_lz4_compress(NULL, big, 1, block, sizeof(block), &len), RVM_E_INVAL);
	assert_int_equal(rvm_lz4_compress(&work, NULL, 1, block, sizeof(block), &len), RVM_E_INVAL);
	assert_int_equal(rvm_lz4_compress(&work, big, 1, NULL, sizeof(block), &len), RVM_E_INVAL);
	assert_int_equal(rvm_lz4_compress(&work, big, 1, block, sizeof(block), NULL), RVM_E_INVAL);
	assert_int_equal(rvm_lz4_compress(&work, big, sizeof(big), block, sizeof(block), &len),
			 RVM_E_RANGE);
	assert_int_equal(rvm_lz4_decompress(NULL, 1, out, sizeof(out), &len), RVM_E_INVAL);
	assert_int_equal(rvm_lz4_decompress(block, 1, NULL, sizeof(out), &len), RVM_E_INVAL);
	assert_int_equal(rvm_lz4_decompress(block, 1, out, sizeof(out), NULL), RVM_E_INVAL);
	assert_int_equal(rvm_lz4_decompress(block, 0, out, sizeof(out), &len), RVM_E_CORRUPT);
	assert_int_equal(len, 0);
}

/* Compression into a too-small buffer fails with RANGE and never writes past it. */
static void test_output_too_small(void **state)
{
	static uint8_t page[4096], dec[4096];
	uint64_t rs = 99;
	uint8_t *block = malloc(rvm_lz4_bound(4096));
	size_t clen, full, dlen;

	(void)state;
	assert_non_null(block);
	for (int k = 0; k < PAGE_KINDS; k++) {
		fill_page(&rs, (enum page_kind)k, page, sizeof(page));
		assert_int_equal(rvm_lz4_compress(&work, page, sizeof(page), block,
						  rvm_lz4_bound(4096), &full),
				 RVM_OK);
		for (size_t cap = 0; cap < full; cap += 1 + cap / 8) {
			uint8_t *exact = malloc(cap ? cap : 1);

			assert_int_equal(rvm_lz4_compress(&work, page, sizeof(page), exact, cap, &clen),
					 RVM_E_RANGE);
			free(exact);
		}
		/* Decoding into less than the page: RANGE, never an overrun (ASan checks). */
		for (size_t cap = 0; cap < sizeof(page); cap += 1 + cap / 4) {
			uint8_t *exact = malloc(cap ? cap : 1);
			enum rvm_err err = rvm_lz4_decompress(block, full, exact, cap, &dlen);

			assert_true(err == RVM_E_RANGE);
			free(exact);
		}
		assert_int_equal(rvm_lz4_decompress(block, full, dec, sizeof(dec), &dlen), RVM_OK);
		assert_memory_equal(dec, page, sizeof(page));
	}
	free(block);
}

/* Same input, same block, whatever the work buffer held before. */
static void test_deterministic(void **state)
{
	static uint8_t page[4096], a[5000], b[5000];
	uint64_t rs = 5;
	size_t la, lb;

	(void)state;
	fill_page(&rs, PAGE_MIXED, page, sizeof(page));
	memset(&work, 0x00, sizeof(work));
	assert_int_equal(rvm_lz4_compress(&work, page, sizeof(page), a, sizeof(a), &la), RVM_OK);
	rvm_test_fill(&rs, &work, sizeof(work));
	assert_int_equal(rvm_lz4_compress(&work, page, sizeof(page), b, sizeof(b), &lb), RVM_OK);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
}

/*
 * Decodes a possibly hostile block with ours and liblz4 (exactly sized
 * buffers); whenever ours accepts, liblz4 must accept with the same bytes.
 * Returns our verdict.
 */
static enum rvm_err decode_and_compare_len(const uint8_t *blk, size_t n, size_t cap, size_t *lenp)
{
	uint8_t *in = exact_copy(blk, n), *ours = malloc(cap ? cap : 1), *peer = malloc(cap ? cap : 1);
	size_t len = 0;
	enum rvm_err err = rvm_lz4_decompress(in, n, ours, cap, &len);

	assert_true(err == RVM_OK || err == RVM_E_CORRUPT || err == RVM_E_RANGE);
	if (err == RVM_OK) {
		int r = LZ4_decompress_safe((const char *)in, (char *)peer, (int)n, (int)cap);

		if (r != (int)len || memcmp(ours, peer, len) != 0)
			fail_msg("we accepted a block liblz4 decodes differently (%d vs %zu)", r, len);
	}
	free(in);
	free(ours);
	free(peer);
	*lenp = len;
	return err;
}

static enum rvm_err decode_and_compare(const uint8_t *blk, size_t n, size_t cap)
{
	size_t len;

	return decode_and_compare_len(blk, n, cap, &len);
}

static void test_hostile_blocks(void **state)
{
	static uint8_t page[4096];
	uint8_t block[8192];
	uint64_t rs = 77;
	size_t clen, accepted = 0, total = 0;

	(void)state;
	/* Hand-made: offset 0, offset before the start, run past the end, endless lengths. */
	{
		static const uint8_t off0[] = { 0x14, 'a', 0x00, 0x00, 0x50, 1, 2, 3, 4, 5 };
		static const uint8_t back[] = { 0x14, 'a', 0x02, 0x00, 0x50, 1, 2, 3, 4, 5 };
		static const uint8_t ok[] = { 0x14, 'a', 0x01, 0x00, 0x50, 1, 2, 3, 4, 5 };
		static const uint8_t past[] = { 0x50, 1, 2, 3 };
		uint8_t ff[64];

		assert_int_equal(decode_and_compare(off0, sizeof(off0), 64), RVM_E_CORRUPT);
		assert_int_equal(decode_and_compare(back, sizeof(back), 64), RVM_E_CORRUPT);
		assert_int_equal(decode_and_compare(ok, sizeof(ok), 64), RVM_OK);
		assert_int_equal(decode_and_compare(ok, sizeof(ok), 13), RVM_E_RANGE);
		assert_int_equal(decode_and_compare(ok, sizeof(ok), 14), RVM_OK);
		assert_int_equal(decode_and_compare(past, sizeof(past), 64), RVM_E_CORRUPT);
		/* Into no room only the block 0x00 is valid (liblz4 agrees). */
		assert_int_equal(decode_and_compare((const uint8_t *)"\0", 1, 0), RVM_OK);
		assert_int_equal(decode_and_compare((const uint8_t *)"\x0a", 1, 0), RVM_E_CORRUPT);
		assert_int_equal(decode_and_compare((const uint8_t *)"\x0a", 1, 1), RVM_OK);
		memset(ff, 0xFF, sizeof(ff));
		assert_int_equal(decode_and_compare(ff, sizeof(ff), 1 << 20), RVM_E_CORRUPT);
		ff[0] = 0x1F;
		assert_int_equal(decode_and_compare(ff, sizeof(ff), 1 << 20), RVM_E_CORRUPT);
	}
	for (int i = 0; i < 3000; i++) {
		fill_page(&rs, (enum page_kind)(i % PAGE_KINDS), page, sizeof(page));
		assert_int_equal(rvm_lz4_compress(&work, page, sizeof(page), block, sizeof(block), &clen),
				 RVM_OK);
		switch (i % 4) {
		case 0: { /* truncation: rejected, or a shorter prefix of the page */
			size_t len;

			if (decode_and_compare_len(block, rvm_test_rand(&rs) % clen, 4096, &len) == RVM_OK) {
				assert_true(len < 4096);
				accepted++;
			}
			break;
		}
		case 1: /* a few flipped bytes */
			for (int f = 0; f < 1 + i % 3; f++)
				block[rvm_test_rand(&rs) % clen] ^= (uint8_t)(1 + rvm_test_rand(&rs) % 255);
			accepted += decode_and_compare(block, clen, 4096) == RVM_OK;
			break;
		case 2: /* random bytes inserted over a stretch */
			rvm_test_fill(&rs, block + rvm_test_rand(&rs) % clen, 1 + rvm_test_rand(&rs) % 8);
			accepted += decode_and_compare(block, clen, 1 + rvm_test_rand(&rs) % 8192) == RVM_OK;
			break;
		default: /* pure noise */
			rvm_test_fill(&rs, block, 1 + i % 200);
			accepted += decode_and_compare(block, 1 + i % 200, 1 + rvm_test_rand(&rs) % 8192) ==
				    RVM_OK;
			break;
		}
		total++;
	}
	print_message("lz4 hostile: %zu of %zu mutated blocks decoded (and matched liblz4)\n",
		      accepted, total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_sizes),         cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_differential_pages), cmocka_unit_test(test_output_too_small),
		cmocka_unit_test(test_deterministic),      cmocka_unit_test(test_hostile_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
