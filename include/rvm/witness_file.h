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

/* Where a verifier's finding is. */
enum rvm_witness_where {
	RVM_WHERE_NONE = 0,
	RVM_WHERE_HEADER,
	RVM_WHERE_RECORD,    /* the record expected to carry bad_seq */
	RVM_WHERE_SIGNATURE, /* the signature block of checkpoint bad_seq */
};

/*
 * What a verifier found. err is RVM_OK when every whole unit verified (a torn
 * tail is not a finding: see torn_bytes), a finding (RVM_E_TAMPER,
 * RVM_E_BADSIG, RVM_E_CORRUPT) or bad input (RVM_E_FORMAT, RVM_E_VERSION,
 * RVM_E_TRUNCATED for a file shorter than its header).
 */
struct rvm_witness_verdict {
	enum rvm_err err;
	enum rvm_witness_where where;
	const char *why;     /* one line naming the check that failed, or NULL */
	uint64_t bad_seq;    /* meaningful for RECORD and SIGNATURE */
	uint64_t bad_offset; /* byte offset of the bad unit */
	uint64_t records;    /* whole records whose chain verified */
	uint64_t checkpoints;
	uint64_t signatures_ok; /* checkpoint signatures verified against the trusted key */
	bool sig_checked;       /* signatures were checked (false: unsigned, or HMAC without key) */
	bool key_trusted;       /* ... with the caller's key, not the one the header names */
	bool pinned;            /* some signed checkpoint verified */
	uint64_t last_pinned_seq;
	bool clean; /* the last unit closes a shutdown checkpoint */
	uint64_t torn_bytes; /* bytes after the last whole unit, ignored */
	bool torn_checkpoint; /* the file ends after a checkpoint record, before its signature */
	uint64_t first_time_ns, last_time_ns;
	uint64_t bytes; /* bytes fed */
};

/* Called for each record once its chain link verified, in file order. */
typedef void rvm_witness_record_fn(void *ctx, const struct rvm_witness_record *r);

/*
 * A streaming verifier: feed the file in pieces of any size, then finish.
 * Freestanding and allocation-free, so the same code checks logs on the host,
 * on the board that wrote them, or in a fuzzer.
 */
struct rvm_witness_reader {
	const struct rvm_sha256_impl *sha;
	rvm_witness_record_fn *on_record;
	void *ctx;
	uint8_t key[32]; /* trusted key: Ed25519 public key or HMAC key */
	bool have_key;
	struct rvm_witness_file_header hdr;
	uint8_t unit[RVM_WFILE_HEADER_SIZE];
	uint32_t have; /* bytes of the current unit in unit[] */
	uint32_t state;
	uint64_t next_seq;
	uint8_t digest[RVM_SHA256_DIGEST]; /* D(next_seq - 1) */
	struct rvm_witness_record ckpt;    /* checkpoint waiting for its signature block */
	uint8_t ckpt_digest[RVM_SHA256_DIGEST];
	struct rvm_witness_verdict v;
};

/*
 * key (NULL: none) is the key the caller trusts: an Ed25519 public key must
 * equal the one the header names (else RVM_E_BADSIG at the header); an HMAC
 * key must match the header's key id. With no key, Ed25519 signatures are
 * checked against the header's own key (sig_checked stays false) and HMAC
 * signatures cannot be checked.
 */
void rvm_witness_reader_init(struct rvm_witness_reader *r, const struct rvm_sha256_impl *sha,
			     const uint8_t *key, rvm_witness_record_fn *on_record, void *ctx);
/* Consumes n bytes; returns RVM_OK or the first finding (later input is ignored). */
enum rvm_err rvm_witness_reader_feed(struct rvm_witness_reader *r, const void *data, size_t n);
/* End of input: classifies the tail and returns the verdict (valid while r lives). */
const struct rvm_witness_verdict *rvm_witness_reader_finish(struct rvm_witness_reader *r);

#endif
