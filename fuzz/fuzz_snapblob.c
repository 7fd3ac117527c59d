/* fuzz/fuzz_snapblob.c - libFuzzer: agent snapshot blobs (swarm checkpoints) decoded from arbitrary
 * bytes, and whatever decodes re-encodes to a blob that decodes to the same snapshot. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/kernel_recover.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAW_CAP (256u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rvm_lz4_work work;
	static uint8_t raw[RAW_CAP], again[RAW_CAP];
	struct rvm_snapblob_info info, info2;
	uint8_t *blob = malloc(size ? size : 1), *out;
	size_t cap, len = 0;
	enum rvm_err err;

	if (!blob)
		abort();
	/* An exactly sized copy: ASan flags any read past it. */
	memcpy(blob, data, size);
	err = rvm_snapblob_decode(NULL, blob, size, raw, RAW_CAP, &info);
	free(blob);
	if (err != RVM_OK) {
		if (err != RVM_E_TRUNCATED && err != RVM_E_FORMAT && err != RVM_E_CORRUPT &&
		    err != RVM_E_NOMEM)
			abort();
		return 0;
	}
	if (info.raw_len > RAW_CAP)
		abort();
	cap = rvm_snapblob_bound((size_t)info.raw_len);
	out = malloc(cap);
	if (!out ||
	    rvm_snapblob_encode(&work, NULL, raw, (size_t)info.raw_len, info.flags, info.last_edge,
				out, cap, &len) != RVM_OK ||
	    rvm_snapblob_decode(NULL, out, len, again, RAW_CAP, &info2) != RVM_OK ||
	    info2.raw_len != info.raw_len || memcmp(raw, again, (size_t)info.raw_len) != 0 ||
	    info2.flags != info.flags || info2.last_edge != info.last_edge)
		abort();
	free(out);
	return 0;
}
