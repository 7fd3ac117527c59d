/* lib/lz4_compress.c - LZ4 block compressor: greedy matching through a table of 16-bit positions. */
#include <rvm/bytes.h>
#include <rvm/lz4.h>

#include "lz4_internal.h"

/* After 2^SKIP_TRIGGER misses in a row the search stride grows by one byte. */
#define LZ4_SKIP_TRIGGER 6u

_Static_assert(RVM_LZ4_MAX_INPUT - 1u <= UINT16_MAX, "positions must fit the 16-bit table");
_Static_assert(RVM_LZ4_HASH_LOG >= 8u && RVM_LZ4_HASH_LOG <= 16u, "hash table size");

/* Fibonacci hashing of the 4 bytes at a position: the top bits of v * 2^32/phi. */
static inline uint32_t lz4_hash(uint32_t v, unsigned shift)
{
	return (v * 2654435761u) >> shift;
}

/*
 * Table size for an input of n bytes: about one entry per two input bytes,
 * at most the whole table. Smaller inputs then clear less (a 4 KiB page uses
 * 2^11 entries, with the same ratio as liblz4's 2^13 on such pages).
 */
static inline unsigned lz4_hash_log(size_t n)
{
	unsigned log = 8u;

	while (log < RVM_LZ4_HASH_LOG && ((size_t)1 << (log + 1u)) < n)
		log++;
	return log;
}

/* Bytes a run of `lit` literals costs: token, length continuation bytes, the literals. */
static inline size_t lz4_lit_cost(size_t lit)
{
	return 1u + lit + (lit >= LZ4_RUN_MASK ? (lit - LZ4_RUN_MASK) / 255u + 1u : 0u);
}

/* Writes the continuation bytes of a length whose nibble was 15 (len = total - 15). */
static inline uint8_t *lz4_put_len(uint8_t *op, size_t len)
{
	while (len >= 255u) {
		*op++ = 255u;
		len -= 255u;
	}
	*op++ = (uint8_t)len;
	return op;
}

/*
 * Returns how many bytes p and q agree on, stopping at end (q < p < end).
 * Reads words while a whole word fits before end, then bytes.
 */
static inline size_t lz4_count(const uint8_t *p, const uint8_t *q, const uint8_t *end)
{
	const uint8_t *start = p;

	while ((size_t)(end - p) >= sizeof(size_t)) {
		size_t x = lz4_read_word(p) ^ lz4_read_word(q);

		if (x)
			return (size_t)(p - start) + lz4_first_diff(x);
		p += sizeof(size_t);
		q += sizeof(size_t);
	}
	while (p < end && *p == *q) {
		p++;
		q++;
	}
	return (size_t)(p - start);
}

/*
 * Emits one sequence: the literals [anchor, ip), then a match of ml + 4 bytes
 * at distance off. Returns the new output pointer, or NULL if it would not
 * fit before oend. Literals are copied in 8-byte steps when the output has
 * room for the overshoot (the input always does: literals end before the
 * last 12 input bytes).
 */
static uint8_t *lz4_put_sequence(uint8_t *op, uint8_t *oend, const uint8_t *anchor,
				 const uint8_t *ip, size_t off, size_t ml)
{
	size_t lit = (size_t)(ip - anchor);
	size_t need = lz4_lit_cost(lit) + 2u + (ml >= LZ4_RUN_MASK ? (ml - LZ4_RUN_MASK) / 255u + 1u : 0u);
	uint8_t *token;

	if (need > (size_t)(oend - op))
		return NULL;
	token = op++;
	if (lit >= LZ4_RUN_MASK) {
		*token = (uint8_t)(LZ4_RUN_MASK << 4);
		op = lz4_put_len(op, lit - LZ4_RUN_MASK);
	} else {
		*token = (uint8_t)(lit << 4);
	}
	if ((size_t)(oend - op) >= lit + 8u) {
		uint8_t *end = op + lit;
		uint8_t *d = op;

		while (d < end) {
			lz4_copy8(d, anchor);
			d += 8;
			anchor += 8;
		}
	} else {
		lz4_copy_exact(op, anchor, lit);
	}
	op += lit;
	rvm_store_le16(op, (uint16_t)off);
	op += 2;
	if (ml >= LZ4_RUN_MASK) {
		*token |= (uint8_t)LZ4_RUN_MASK;
		op = lz4_put_len(op, ml - LZ4_RUN_MASK);
	} else {
		*token |= (uint8_t)ml;
	}
	return op;
}

/*
 * The matching loop for n >= 13. On return *opp is past the last sequence and
 * *anchorp is the start of the literals still to emit. Invariants: every match
 * starts at or before src + n - 12 and ends at or before src + n - 5 (the
 * format's end-of-block rules); table entries are positions already passed.
 */
static enum rvm_err lz4_compress_body(uint16_t *table, const uint8_t *src, size_t n, uint8_t **opp,
				      uint8_t *oend, const uint8_t **anchorp)
{
	const uint8_t *const base = src;
	const uint8_t *const limit = src + n - LZ4_MFLIMIT;
	const uint8_t *const mend = src + n - LZ4_LASTLITERALS;
	const uint8_t *ip = src, *anchor = src, *ref;
	uint8_t *op = *opp;
	const unsigned log = lz4_hash_log(n), shift = 32u - log;

	for (uint32_t i = 0; i < (1u << log); i++)
		table[i] = 0;
	table[lz4_hash(lz4_read32(ip), shift)] = 0;
	ip++;
	for (;;) {
		/* Find a 4-byte match; the stride grows on long runs of misses. */
		const uint8_t *next = ip;
		uint32_t attempts = 1u << LZ4_SKIP_TRIGGER;
		size_t ml;

		for (;;) {
			uint32_t seq, h;

			ip = next;
			next = ip + (attempts++ >> LZ4_SKIP_TRIGGER);
			if (next > limit + 1)
				goto done;
			seq = lz4_read32(ip);
			h = lz4_hash(seq, shift);
			ref = base + table[h];
			table[h] = (uint16_t)(ip - base);
			if (lz4_read32(ref) == seq && ref < ip)
				break;
		}
		/* Grow the match backwards over literals that also agree. */
		while (ip > anchor && ref > base && ip[-1] == ref[-1]) {
			ip--;
			ref--;
		}
		for (;;) {
			uint32_t seq, h;

			ml = lz4_count(ip + LZ4_MINMATCH, ref + LZ4_MINMATCH, mend);
			op = lz4_put_sequence(op, oend, anchor, ip, (size_t)(ip - ref), ml);
			if (!op)
				return RVM_E_RANGE;
			ip += ml + LZ4_MINMATCH;
			anchor = ip;
			if (ip > limit)
				goto done;
			table[lz4_hash(lz4_read32(ip - 2), shift)] = (uint16_t)(ip - 2 - base);
			/* A match right here needs no literals: emit it at once. */
			seq = lz4_read32(ip);
			h = lz4_hash(seq, shift);
			ref = base + table[h];
			table[h] = (uint16_t)(ip - base);
			if (lz4_read32(ref) != seq || ref >= ip)
				break;
		}
		ip++;
	}
done:
	*opp = op;
	*anchorp = anchor;
	return RVM_OK;
}

enum rvm_err rvm_lz4_compress(struct rvm_lz4_work *work, const uint8_t *src, size_t n,
			      uint8_t *dst, size_t cap, size_t *out_len)
{
	const uint8_t *anchor = src;
	uint8_t *op = dst, *oend;
	size_t lit;

	if (!work || !src || !dst || !out_len)
		return RVM_E_INVAL;
	*out_len = 0;
	if (n > RVM_LZ4_MAX_INPUT)
		return RVM_E_RANGE;
	oend = dst + cap;
	/* Shorter inputs cannot hold a match that respects the end-of-block rules. */
	if (n > LZ4_MFLIMIT) {
		enum rvm_err err = lz4_compress_body(work->table, src, n, &op, oend, &anchor);

		if (err != RVM_OK)
			return err;
	}
	lit = (size_t)(src + n - anchor);
	if (lz4_lit_cost(lit) > (size_t)(oend - op))
		return RVM_E_RANGE;
	if (lit >= LZ4_RUN_MASK) {
		*op++ = (uint8_t)(LZ4_RUN_MASK << 4);
		op = lz4_put_len(op, lit - LZ4_RUN_MASK);
	} else {
		*op++ = (uint8_t)(lit << 4);
	}
	lz4_copy_exact(op, anchor, lit);
	op += lit;
	*out_len = (size_t)(op - dst);
	return RVM_OK;
}
