/* rvm/witness_file.h - the witness log file: header codec and a streaming, freestanding verifier. */
#ifndef RVM_WITNESS_FILE_H
#define RVM_WITNESS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/witness.h>

/* docs/witness-format.md is the normative description of everything below. */
#define RVM_WFILE_MAGIC "RVMWITNS"
#define RVM_WFILE_VERSION 1u
#define RVM_WFILE_HEADER_SIZE 128u
#define RVM_WFILE_UNIT 64u

/* The decoded header. Every field is covered by the header checksum. */
struct rvm_witness_file_header {
	uint16_t version;
	uint16_t header_size;
	uint16_t unit_size;
	uint8_t chain; /* enum rvm_witness_chain */
	uint8_t sig;   /* enum rvm_witness_sig */
	uint32_t checkpoint_every;
	uint64_t boot_clock_ns;
	uint8_t nonce[16];
	uint8_t genesis[32]; /* D0 */
	uint8_t key[32];     /* Ed25519 public key, HMAC key id, or zero */
};

/* Writes the 128-byte header, checksum included. */
void rvm_witness_header_encode(const struct rvm_witness_file_header *h,
			       uint8_t out[RVM_WFILE_HEADER_SIZE]);
/*
 * Parses a header from the first n bytes of a file. Errors, in the order checked:
 * RVM_E_TRUNCATED (n < 128, after a matching magic), RVM_E_FORMAT (magic far
 * from ours: not a witness log), RVM_E_CORRUPT (checksum mismatch: the header
 * was altered), RVM_E_VERSION (newer format), RVM_E_FORMAT (lengths,
 * algorithms or reserved bytes we do not know, D0 not derived from the nonce).
 */
enum rvm_err rvm_witness_header_decode(const uint8_t *in, size_t n,
				       struct rvm_witness_file_header *h);

/* HMAC key id: SHA-256("RVM-WITNESS-HMAC-KEY-ID" || key[0..32)). */
void rvm_witness_hmac_key_id(const uint8_t key[32], uint8_t id[32]);

#endif
