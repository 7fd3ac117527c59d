/* rvm/lz4.h - LZ4 block format: a freestanding compressor and a bounds-checked decompressor. */
#ifndef RVM_LZ4_H
#define RVM_LZ4_H

#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/profile.h>

/*
 * The block format (no frame, no checksum, no dictionary) as liblz4 writes it:
 * blocks we write decode with LZ4_decompress_safe and blocks LZ4_compress_default
 * writes decode here. docs/memory.md lists the subset of rules we keep.
 */

/* Largest input the compressor takes: match positions are 16-bit (one LZ4 window). */
#define RVM_LZ4_MAX_INPUT 65536u

/*
 * Largest hash table (log2 entries): 2^13 x 2 bytes = 16 KiB matches liblz4
 * on 64 KiB inputs; 4 KiB pages use 2^11 of it. The seed profile's 64 KB of
 * RAM gets 2 KiB and a slightly worse ratio on large inputs.
 */
#ifndef RVM_LZ4_HASH_LOG
#if defined(RVM_PROFILE_SEED)
#define RVM_LZ4_HASH_LOG 10u
#else
#define RVM_LZ4_HASH_LOG 13u
#endif
#endif

/*
 * Scratch space of the compressor: a table of recent input positions keyed by
 * a hash of the 4 bytes there. Caller-owned (kernel stacks are small); its
 * contents need no initialisation and carry nothing between calls.
 */
struct rvm_lz4_work {
	uint16_t table[1u << RVM_LZ4_HASH_LOG];
};

/* Worst-case compressed size of n input bytes (incompressible data grows by n/255 + 16). */
static inline size_t rvm_lz4_bound(size_t n)
{
	return n + n / 255u + 16u;
}

/*
 * Compresses src[0..n) into dst[0..cap) as one LZ4 block; *out_len receives
 * its size. n may be 0 (the block is one zero byte). Deterministic: the same
 * input always gives the same block.
 * Errors: RVM_E_RANGE if n > RVM_LZ4_MAX_INPUT or the block does not fit in
 * cap (a cap of rvm_lz4_bound(n) always suffices); RVM_E_INVAL for NULL pointers.
 */
enum rvm_err rvm_lz4_compress(struct rvm_lz4_work *work, const uint8_t *src, size_t n,
			      uint8_t *dst, size_t cap, size_t *out_len);

/*
 * Decodes the block src[0..n) into dst[0..cap); *out_len receives the number
 * of bytes produced. Every read stays inside src and every write inside dst,
 * whatever src holds. Accepts only blocks liblz4's LZ4_decompress_safe would
 * accept with the same capacity, and produces the same bytes; additionally
 * rejects offset 0 (it would copy bytes never written).
 * Errors: RVM_E_CORRUPT for a malformed block, RVM_E_RANGE when the block
 * decodes to more than cap bytes, RVM_E_INVAL for NULL pointers.
 * dst may hold partial output after an error.
 */
enum rvm_err rvm_lz4_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
				size_t *out_len);

#endif
