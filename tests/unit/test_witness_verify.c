/* tests/unit/test_witness_verify.c - the streaming log verifier: clean logs, tampering, torn tails, bad input. */
#include "memplat.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <rvm/bytes.h>
#include <rvm/witness.h>
#include <rvm/witness_file.h>
#include <rvm/witness_sign.h>

/* The platform: memory sinks (tests/support/memplat.h), 1 us per clock reading. */
static struct rvm_memplat ms;
static struct rvm_platform plat;
#define LOG_BUF (ms.buf[RVM_SINK_WITNESS])
#define LOG_LEN (ms.len[RVM_SINK_WITNESS])
static struct rvm_witness_log wlog;
static const uint8_t hkey[32] = "0123456789abcdef0123456789abcdef";
static uint8_t ed_pk[32], ed_sk[64]; /* made by libsodium: an independent key pair */

/* Writes a closed log of n user records into ms (checkpoint every `every`). */
static void make_log(enum rvm_witness_chain chain, enum rvm_witness_sig sig, uint32_t every, int n)
{
	struct rvm_witness_config c = { .chain = chain, .sig = sig, .checkpoint_every = every };

	rvm_memplat_reset(&ms, &plat, 1000, 0);
	memset(c.boot_nonce, 7, 16);
	if (sig == RVM_SIG_ED25519)
		memcpy(c.key, ed_sk, 64);
	else
		memcpy(c.key, hkey, 32);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	for (int i = 0; i < n; i++)
		assert_int_equal(rvm_witness_emit(&wlog, (uint16_t)(i % 3 ? RVM_ACT_IPC_SEND
								  : RVM_ACT_CAP_GRANT),
						  0, (uint32_t)(i % 4), 100 + (uint64_t)i, (uint64_t)i, 0,
						  NULL),
				 RVM_OK);
	assert_int_equal(rvm_witness_close(&wlog), RVM_OK);
}

static struct rvm_witness_reader rd;

static const struct rvm_witness_verdict *verify(const uint8_t *buf, size_t len, const uint8_t *key)
{
	rvm_witness_reader_init(&rd, NULL, key, NULL, NULL);
	rvm_witness_reader_feed(&rd, buf, len);
	return rvm_witness_reader_finish(&rd);
}

/* Byte offset of unit u (0 = first after the header). */
#define UNIT(u) (RVM_WFILE_HEADER_SIZE + (size_t)(u)*64)

static void test_clean_log_verifies(void **state)
{
	const struct rvm_witness_verdict *v;

	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_HMAC_SHA256, 8, 30);
	v = verify(LOG_BUF, LOG_LEN, hkey);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->records == wlog.next_seq);
	assert_true(v->checkpoints == 4 && v->signatures_ok == 4); /* 3 periodic + shutdown */
	assert_true(v->sig_checked && v->key_trusted && v->pinned && v->clean);
	assert_true(v->last_pinned_seq == wlog.next_seq - 1);
	assert_true(v->torn_bytes == 0 && !v->torn_checkpoint);
	assert_true(v->last_time_ns > v->first_time_ns);
	/* Fed in random pieces, the verdict is the same. */
	for (uint64_t seed = 1; seed < 20; seed++) {
		size_t off = 0;

		rvm_witness_reader_init(&rd, NULL, hkey, NULL, NULL);
		while (off < LOG_LEN) {
			size_t k = 1 + rvm_test_rand(&seed) % 150;

			if (k > LOG_LEN - off)
				k = LOG_LEN - off;
			assert_int_equal(rvm_witness_reader_feed(&rd, LOG_BUF + off, k), RVM_OK);
			off += k;
		}
		v = rvm_witness_reader_finish(&rd);
		assert_int_equal(v->err, RVM_OK);
		assert_true(v->records == wlog.next_seq && v->clean);
	}
}

/* Maps each unit of the file to the seq it carries and whether it is a signature block. */
static void unit_map(uint64_t *seq_of, bool *is_sig, size_t nunits)
{
	uint64_t seq = 0;

	for (size_t u = 0; u < nunits; u++) {
		struct rvm_witness_record r;

		rvm_witness_decode(LOG_BUF + UNIT(u), &r);
		seq_of[u] = seq;
		is_sig[u] = false;
		if (r.flags & RVM_WF_SIGNATURE) {
			seq_of[u + 1] = seq;
			is_sig[++u] = true;
		}
		seq++;
	}
}

static void test_every_bit_flip_is_found_exactly(void **state)
{
	size_t nunits;
	uint64_t seq_of[64];
	bool is_sig[64];

	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_HMAC_SHA256, 6, 14);
	nunits = (LOG_LEN - RVM_WFILE_HEADER_SIZE) / 64;
	assert_true(nunits < 64);
	unit_map(seq_of, is_sig, nunits);
	for (size_t bit = 0; bit < LOG_LEN * 8; bit++) {
		const struct rvm_witness_verdict *v;
		size_t byte = bit / 8;

		LOG_BUF[byte] ^= (uint8_t)(1u << (bit % 8));
		v = verify(LOG_BUF, LOG_LEN, hkey);
		LOG_BUF[byte] ^= (uint8_t)(1u << (bit % 8));
		if (byte < RVM_WFILE_HEADER_SIZE) {
			assert_int_equal(v->err, RVM_E_CORRUPT);
			assert_int_equal(v->where, RVM_WHERE_HEADER);
			continue;
		}
		size_t u = (byte - RVM_WFILE_HEADER_SIZE) / 64;

		assert_true(v->bad_seq == seq_of[u]);
		assert_true(v->bad_offset == UNIT(u));
		if (is_sig[u]) {
			assert_int_equal(v->err, RVM_E_BADSIG);
			assert_int_equal(v->where, RVM_WHERE_SIGNATURE);
		} else {
			assert_int_equal(v->err, RVM_E_TAMPER);
			assert_int_equal(v->where, RVM_WHERE_RECORD);
		}
	}
}

static void test_reorder_drop_insert(void **state)
{
	const struct rvm_witness_verdict *v;
	uint8_t *t = malloc(4096);
	size_t n;

	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_HMAC_SHA256, 0, 10); /* units = seqs 0..10 + sig */
	/* Swap records 3 and 4. */
	memcpy(t, LOG_BUF, LOG_LEN);
	memcpy(t + UNIT(3), LOG_BUF + UNIT(4), 64);
	memcpy(t + UNIT(4), LOG_BUF + UNIT(3), 64);
	v = verify(t, LOG_LEN, hkey);
	assert_int_equal(v->err, RVM_E_TAMPER);
	assert_true(v->bad_seq == 3 && v->records == 3);
	/* Drop record 5. */
	memcpy(t, LOG_BUF, UNIT(5));
	memcpy(t + UNIT(5), LOG_BUF + UNIT(6), LOG_LEN - UNIT(6));
	v = verify(t, LOG_LEN - 64, hkey);
	assert_int_equal(v->err, RVM_E_TAMPER);
	assert_true(v->bad_seq == 5);
	/* Insert a copy of record 2 after itself. */
	memcpy(t, LOG_BUF, UNIT(3));
	memcpy(t + UNIT(3), LOG_BUF + UNIT(2), 64);
	memcpy(t + UNIT(4), LOG_BUF + UNIT(3), LOG_LEN - UNIT(3));
	v = verify(t, LOG_LEN + 64, hkey);
	assert_int_equal(v->err, RVM_E_TAMPER);
	assert_true(v->bad_seq == 3);
	/* Drop the last record before the shutdown checkpoint. */
	n = 0;
	memcpy(t, LOG_BUF, UNIT(9));
	n = UNIT(9);
	memcpy(t + n, LOG_BUF + UNIT(10), LOG_LEN - UNIT(10));
	v = verify(t, LOG_LEN - 64, hkey);
	assert_int_equal(v->err, RVM_E_TAMPER);
	assert_true(v->bad_seq == 9);
	free(t);
}

/* Re-chains everything after record k as a forger without the key would. */
static void rechain_from(uint8_t *buf, size_t len, uint64_t k)
{
	struct rvm_witness_file_header h;
	uint8_t d[32];
	uint64_t seq = 0;

	assert_int_equal(rvm_witness_header_decode(buf, len, &h), RVM_OK);
	memcpy(d, h.genesis, 32);
	for (size_t off = RVM_WFILE_HEADER_SIZE; off + 64 <= len; off += 64, seq++) {
		struct rvm_witness_record r;

		rvm_witness_decode(buf + off, &r);
		if (seq >= k)
			memcpy(buf + off + 48, d, 8);
		memset(buf + off + 56, 0, 8);
		rvm_witness_chain_next(RVM_CHAIN_SHA256, NULL, d, buf + off, d);
		memcpy(buf + off + 56, d, 8);
		if (r.flags & RVM_WF_SIGNATURE)
			off += 64;
	}
}

static void test_forged_chain_fails_at_next_signature(void **state)
{
	const struct rvm_witness_verdict *v;

	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_HMAC_SHA256, 5, 12); /* checkpoints at seq 5, 11 */
	LOG_BUF[UNIT(8) + 24] ^= 1; /* record 7 (after checkpoint 5 and its block) */
	rechain_from(LOG_BUF, LOG_LEN, 7);
	v = verify(LOG_BUF, LOG_LEN, hkey);
	assert_int_equal(v->err, RVM_E_BADSIG);
	assert_int_equal(v->where, RVM_WHERE_SIGNATURE);
	assert_true(v->bad_seq == 11); /* the first checkpoint after the forgery */
}

static void test_torn_tails(void **state)
{
	const struct rvm_witness_verdict *v;
	size_t full;

	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_HMAC_SHA256, 4, 10);
	full = LOG_LEN;
	/* Mid-record: the partial unit is ignored, everything before verifies. */
	v = verify(LOG_BUF, UNIT(7) + 20, hkey);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->torn_bytes == 20 && v->records == 6 && !v->clean);
	assert_true(v->pinned && v->last_pinned_seq == 4);
	/* At a unit boundary without the shutdown checkpoint: not clean, unpinned tail. */
	v = verify(LOG_BUF, UNIT(8), hkey);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->torn_bytes == 0 && v->records == 7 && !v->clean && v->last_pinned_seq == 4);
	/* A checkpoint record whose signature block never arrived. */
	v = verify(LOG_BUF, UNIT(5), hkey);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->torn_checkpoint && v->records == 5 && !v->pinned);
	v = verify(LOG_BUF, UNIT(5) + 30, hkey);
	assert_true(v->torn_checkpoint && v->torn_bytes == 30);
	/* The whole file is clean. */
	v = verify(LOG_BUF, full, hkey);
	assert_true(v->clean && v->torn_bytes == 0);
}

static void test_keys(void **state)
{
	const struct rvm_witness_verdict *v;
	uint8_t other[32];

	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_HMAC_SHA256, 4, 10);
	memcpy(other, hkey, 32);
	other[0] ^= 1;
	v = verify(LOG_BUF, LOG_LEN, other);
	assert_int_equal(v->err, RVM_E_BADSIG);
	assert_int_equal(v->where, RVM_WHERE_HEADER);
	/* Without the HMAC key the chain still verifies; signatures are unchecked. */
	v = verify(LOG_BUF, LOG_LEN, NULL);
	assert_int_equal(v->err, RVM_OK);
	assert_false(v->sig_checked);
	assert_false(v->pinned);
	assert_true(v->clean);
}

static void test_unsigned_and_fnv_logs(void **state)
{
	const struct rvm_witness_verdict *v;

	(void)state;
	make_log(RVM_CHAIN_FNV1A, RVM_SIG_NONE, 4, 20);
	v = verify(LOG_BUF, LOG_LEN, NULL);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->records == wlog.next_seq && v->clean && !v->sig_checked);
	/* Expecting signatures from an unsigned log is a downgrade, not a pass. */
	v = verify(LOG_BUF, LOG_LEN, hkey);
	assert_int_equal(v->err, RVM_E_BADSIG);
	assert_int_equal(v->where, RVM_WHERE_HEADER);
	LOG_BUF[UNIT(9) + 33] ^= 0x10;
	v = verify(LOG_BUF, LOG_LEN, NULL);
	assert_int_equal(v->err, RVM_E_TAMPER);
	assert_true(v->bad_seq == 9);
	make_log(RVM_CHAIN_FNV1A, RVM_SIG_HMAC_SHA256, 4, 20);
	v = verify(LOG_BUF, LOG_LEN, hkey);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->pinned && v->clean && v->signatures_ok == v->checkpoints);
}

/* Unit index of the first record flagged BATCH in ms (an unsigned log: no signature blocks). */
static size_t first_batch_unit(void)
{
	for (size_t u = 0; UNIT(u) + 64 <= LOG_LEN; u++)
		if (rvm_load_le16(LOG_BUF + UNIT(u) + 18) & RVM_WF_BATCH)
			return u;
	fail();
	return 0;
}

/*
 * Epoch batches: a log's BATCH | WORDFOLD records verify; a batch record without WORDFOLD (as
 * logs written before the flag carry) still verifies; WORDFOLD without BATCH is corrupt.
 */
static void test_batch_fold_flags(void **state)
{
	struct rvm_witness_config c = {.chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE};
	const struct rvm_witness_verdict *v;
	size_t u;

	(void)state;
	rvm_memplat_reset(&ms, &plat, 1000, 0);
	memset(c.boot_nonce, 7, 16);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(rvm_witness_batch_add(&wlog, RVM_ACT_IPC_SEND, 3, 9, i), RVM_OK);
	assert_int_equal(rvm_witness_close(&wlog), RVM_OK);
	v = verify(LOG_BUF, LOG_LEN, NULL);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->clean);
	u = first_batch_unit();
	assert_int_equal(rvm_load_le16(LOG_BUF + UNIT(u) + 18), RVM_WF_BATCH | RVM_WF_WORDFOLD);
	/* The flag is covered by the chain: dropping it alone is tampering. */
	LOG_BUF[UNIT(u) + 18] &= (uint8_t)~RVM_WF_WORDFOLD;
	v = verify(LOG_BUF, LOG_LEN, NULL);
	assert_int_equal(v->err, RVM_E_TAMPER);
	assert_true(v->bad_seq == u);
	/* A batch record as a log from before the flag has it, chained as written: verifies. */
	rechain_from(LOG_BUF, LOG_LEN, u);
	v = verify(LOG_BUF, LOG_LEN, NULL);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->clean);
	/* WORDFOLD on a record that is not a batch: corrupt, even when chained as written. */
	rvm_store_le16(LOG_BUF + UNIT(u) + 18, RVM_WF_WORDFOLD);
	rechain_from(LOG_BUF, LOG_LEN, u);
	v = verify(LOG_BUF, LOG_LEN, NULL);
	assert_int_equal(v->err, RVM_E_CORRUPT);
	assert_true(v->bad_seq == u);
}

static void test_bad_input(void **state)
{
	const struct rvm_witness_verdict *v;
	uint8_t junk[4096] = { 0 };
	uint64_t seed = 42;

	(void)state;
	v = verify(junk, 0, NULL);
	assert_int_equal(v->err, RVM_E_TRUNCATED);
	assert_string_equal(v->why, "empty file");
	rvm_test_fill(&seed, junk, sizeof(junk));
	v = verify(junk, sizeof(junk), NULL);
	assert_int_equal(v->err, RVM_E_FORMAT);
	v = verify(junk, 5, NULL);
	assert_int_equal(v->err, RVM_E_FORMAT);
	make_log(RVM_CHAIN_SHA256, RVM_SIG_NONE, 0, 3);
	v = verify(LOG_BUF, 100, NULL);
	assert_int_equal(v->err, RVM_E_TRUNCATED);
	/* A record region of pure garbage after a good header: tamper at seq 0. */
	memcpy(junk, LOG_BUF, RVM_WFILE_HEADER_SIZE);
	v = verify(junk, sizeof(junk), NULL);
	assert_int_equal(v->err, RVM_E_TAMPER);
	assert_true(v->bad_seq == 0);
	/* Whatever happens, later feeds after a finding change nothing. */
	assert_int_equal(rvm_witness_reader_feed(&rd, junk, 64), RVM_E_TAMPER);
}

/* Ed25519 logs: libsodium verifies every signature block; flips and foreign keys are found. */
static void test_ed25519_log(void **state)
{
	const struct rvm_witness_verdict *v;
	struct rvm_witness_file_header h;
	uint64_t seq = 0;
	uint8_t other_pk[32], other_sk[64], d[32];
	size_t off;
	int blocks = 0;

	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_ED25519, 5, 17);
	assert_int_equal(rvm_witness_header_decode(LOG_BUF, LOG_LEN, &h), RVM_OK);
	assert_memory_equal(h.key, ed_pk, 32);
	/* Walk the chain with libsodium's SHA-256 and check every block with its Ed25519. */
	memcpy(d, h.genesis, 32);
	for (off = RVM_WFILE_HEADER_SIZE; off + 64 <= LOG_LEN; off += 64, seq++) {
		uint8_t in[96], msg[RVM_WITNESS_CKPT_MSG];

		memcpy(in, d, 32);
		memcpy(in + 32, LOG_BUF + off, 64);
		memset(in + 88, 0, 8);
		crypto_hash_sha256(d, in, sizeof(in));
		assert_memory_equal(LOG_BUF + off + 56, d, 8);
		if (!(rvm_load_le16(LOG_BUF + off + 18) & RVM_WF_SIGNATURE))
			continue;
		off += 64;
		rvm_witness_ckpt_message(seq, d, msg);
		assert_int_equal(crypto_sign_verify_detached(LOG_BUF + off, msg, sizeof(msg), ed_pk),
				 0);
		blocks++;
	}
	assert_int_equal(blocks, 4);
	v = verify(LOG_BUF, LOG_LEN, ed_pk);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->key_trusted && v->pinned && v->clean && v->signatures_ok == v->checkpoints);
	assert_true(v->checkpoints == 4);
	/* Without a trusted key the header's key is used, and the verdict says so. */
	v = verify(LOG_BUF, LOG_LEN, NULL);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->sig_checked && !v->key_trusted);
	/* Another trusted key: refused at the header. */
	crypto_sign_keypair(other_pk, other_sk);
	v = verify(LOG_BUF, LOG_LEN, other_pk);
	assert_int_equal(v->err, RVM_E_BADSIG);
	assert_int_equal(v->where, RVM_WHERE_HEADER);
	/* Each byte of the last signature block matters. */
	for (size_t i = 0; i < 64; i++) {
		LOG_BUF[LOG_LEN - 64 + i] ^= 0x20;
		v = verify(LOG_BUF, LOG_LEN, ed_pk);
		LOG_BUF[LOG_LEN - 64 + i] ^= 0x20;
		assert_int_equal(v->err, RVM_E_BADSIG);
		assert_int_equal(v->where, RVM_WHERE_SIGNATURE);
		assert_true(v->bad_seq == wlog.next_seq - 1);
	}
}

/* A log re-signed end to end with another key verifies only against that key. */
static void test_resigned_log_fails_against_expected_key(void **state)
{
	uint8_t pk1[32];
	const struct rvm_witness_verdict *v;

	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_ED25519, 4, 9);
	memcpy(pk1, ed_pk, 32);
	crypto_sign_keypair(ed_pk, ed_sk);
	make_log(RVM_CHAIN_SHA256, RVM_SIG_ED25519, 4, 9); /* same content, new key */
	v = verify(LOG_BUF, LOG_LEN, ed_pk);
	assert_int_equal(v->err, RVM_OK);
	v = verify(LOG_BUF, LOG_LEN, pk1);
	assert_int_equal(v->err, RVM_E_BADSIG);
	/* Swap in the expected key's id in the header (re-sealing it): signatures then fail. */
	memcpy(LOG_BUF + 80, pk1, 32);
	{
		uint8_t d[32];

		rvm_sha256(NULL, LOG_BUF, 120, d);
		memcpy(LOG_BUF + 120, d, 8);
	}
	v = verify(LOG_BUF, LOG_LEN, pk1);
	assert_int_equal(v->err, RVM_E_BADSIG);
	assert_int_equal(v->where, RVM_WHERE_SIGNATURE);
	assert_true(v->bad_seq == 4);
}

static void test_callback_sees_records_in_order(void **state);

static uint64_t cb_next;

static void count_cb(void *ctx, const struct rvm_witness_record *r)
{
	(void)ctx;
	assert_true(r->seq == cb_next);
	cb_next++;
}

static void test_callback_sees_records_in_order(void **state)
{
	(void)state;
	make_log(RVM_CHAIN_SHA256, RVM_SIG_HMAC_SHA256, 7, 40);
	cb_next = 0;
	rvm_witness_reader_init(&rd, NULL, hkey, count_cb, NULL);
	assert_int_equal(rvm_witness_reader_feed(&rd, LOG_BUF, LOG_LEN), RVM_OK);
	assert_int_equal(rvm_witness_reader_finish(&rd)->err, RVM_OK);
	assert_true(cb_next == wlog.next_seq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_log_verifies),
		cmocka_unit_test(test_every_bit_flip_is_found_exactly),
		cmocka_unit_test(test_reorder_drop_insert),
		cmocka_unit_test(test_forged_chain_fails_at_next_signature),
		cmocka_unit_test(test_torn_tails),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_unsigned_and_fnv_logs),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_callback_sees_records_in_order),
		cmocka_unit_test(test_ed25519_log),
		cmocka_unit_test(test_resigned_log_fails_against_expected_key),
		cmocka_unit_test(test_batch_fold_flags),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(ed_pk, ed_sk);
	rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_memplat_free(&ms);
	return rc;
}
