/* tests/qemu/twin_cmp.h - compares two witness logs of the same deterministic scenario (the
 * image's and its hosted twin's): every field of every record, apart from what is time. */
#ifndef RVM_TWIN_CMP_H
#define RVM_TWIN_CMP_H

#include <stddef.h>
#include <stdint.h>

#include <rvm/witness.h>
#include <rvm/witness_file.h>

/*
 * The first difference found: index of the record (or of the header byte) and the name of the
 * field that differs; field is NULL when the two are the same apart from time.
 * What counts as time, and only that, is skipped: each record's time_ns; prev8 and self8, the
 * chain digests, which hash time_ns; arg0 of boot.complete (boot duration) and of
 * kernel.shutdown (uptime); and in the header boot_clock_ns and the checksum over it.
 */
struct rvm_twin_diff {
	const char *field;
	size_t index;
};

/* Compares the 128-byte headers a and b; 0 when equal apart from time, else 1 and *d. */
int rvm_twin_cmp_header(const uint8_t a[RVM_WFILE_HEADER_SIZE],
			const uint8_t b[RVM_WFILE_HEADER_SIZE], struct rvm_twin_diff *d);
/* Compares records a[0..na) with b[0..nb) in order; 0 when equal apart from time, else 1 and
 * *d (a shorter sequence differs at its end: field "record count"). */
int rvm_twin_cmp_records(const struct rvm_witness_record *a, size_t na,
			 const struct rvm_witness_record *b, size_t nb, struct rvm_twin_diff *d);

#endif
