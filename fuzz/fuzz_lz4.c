/* fuzz/fuzz_lz4.c - libFuzzer: our LZ4 decoder on arbitrary bytes, and our encoder round-tripped through liblz4. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include <rvm/lz4.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rvm_lz4_work work;
	size_t cap, len = 0, clen = 0;
	uint8_t *in, *ours, *peer, *block;
	enum rvm_err err;

	if (size < 2)
		return 0;
	/* The first two bytes choose the output capacity; the rest is the block. */
	cap = (size_t)data[0] | (size_t)data[1] << 8;
	data += 2;
	size -= 2;
	/* Exactly sized heap copies: ASan flags any read or write past them. */
	in = malloc(size ? size : 1);
	ours = malloc(cap ? cap : 1);
	peer = malloc(cap ? cap : 1);
	if (!in || !ours || !peer)
		abort();
	memcpy(in, data, size);
	err = rvm_lz4_decompress(in, size, ours, cap, &len);
	if (err != RVM_OK && err != RVM_E_CORRUPT && err != RVM_E_RANGE)
		abort();
	if (err == RVM_OK) {
		/* Whatever we accept, liblz4 accepts with the same bytes. */
		int r = LZ4_decompress_safe((const char *)in, (char *)peer, (int)size, (int)cap);

		if (r < 0 || (size_t)r != len || memcmp(ours, peer, len) != 0)
			abort();
	}
	/* The same bytes as plain data: ours -> liblz4 and back must round-trip. */
	if (size <= RVM_LZ4_MAX_INPUT) {
		size_t bound = rvm_lz4_bound(size);

		block = malloc(bound);
		if (!block)
			abort();
		if (rvm_lz4_compress(&work, in, size, block, bound, &clen) != RVM_OK)
			abort();
		free(peer);
		peer = malloc(size ? size : 1);
		if (!peer || LZ4_decompress_safe((const char *)block, (char *)peer, (int)clen,
						 (int)size) != (int)size ||
		    memcmp(peer, in, size) != 0)
			abort();
		free(block);
	}
	free(in);
	free(ours);
	free(peer);
	return 0;
}
