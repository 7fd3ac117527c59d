/* fuzz/fuzz_witness_reader.c - libFuzzer target: the witness log header decoder and streaming verifier. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rvm/witness_file.h>

/* The HMAC key the seed logs in fuzz/seeds/fuzz_witness_reader/ were signed with. */
static const uint8_t fuzz_hmac_key[32] = "rvm-fuzz-witness-hmac-key-000001";

static void on_record(void *ctx, const struct rvm_witness_record *r)
{
	uint64_t *n = ctx;

	*n += r->seq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rvm_witness_reader rd;
	struct rvm_witness_file_header h;
	const struct rvm_witness_verdict *v;
	uint64_t sum = 0;
	size_t off = 0, step;

	rvm_witness_header_decode(data, size, &h);
	/* Feed in pieces whose size depends on the input, so unit boundaries move around;
	 * about half the inputs are checked with the HMAC key, the others without. */
	step = size ? 1 + data[size - 1] % 97 : 1;
	rvm_witness_reader_init(&rd, NULL, size && data[size / 2] & 1 ? fuzz_hmac_key : NULL,
				on_record, &sum);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		rvm_witness_reader_feed(&rd, data + off, n);
		off += n;
	}
	v = rvm_witness_reader_finish(&rd);
	/* Invariants that hold for any input. */
	if (v->err == RVM_OK && (v->torn_bytes >= 64 || v->bytes != size))
		__builtin_trap();
	if (v->signatures_ok > v->checkpoints || v->records > size / 64)
		__builtin_trap();
	return 0;
}
