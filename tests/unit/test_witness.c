/* tests/unit/test_witness.c - witness writer: layout, actions, chain, ring, sink, checkpoints, batches. */
#include "memplat.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <sodium.h>

#include <rvm/bytes.h>
#include <rvm/fnv.h>
#include <rvm/witness.h>
#include <rvm/witness_file.h>

/* The platform: memory sinks (tests/support/memplat.h), 10 ns per clock reading. */
static struct rvm_memplat mp;
static struct rvm_platform plat;
static struct rvm_witness_log wlog;
#define LOG_BUF (mp.buf[RVM_SINK_WITNESS])
#define LOG_LEN (mp.len[RVM_SINK_WITNESS])

/* A fresh platform; no_sink: one without a witness sink (the log stays in its ring). */
static void mp_reset(bool no_sink)
{
	rvm_memplat_reset(&mp, &plat, 10, 0);
	if (no_sink)
		mp.absent = 1u << RVM_SINK_WITNESS;
}

static struct rvm_witness_config cfg_plain(uint32_t every)
{
	struct rvm_witness_config c = { .chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE,
					.checkpoint_every = every };

	for (int i = 0; i < 16; i++)
		c.boot_nonce[i] = (uint8_t)(i + 1);
	return c;
}

static void test_layout_and_codec(void **state)
{
	struct rvm_witness_record r = { .seq = 0x0102030405060708ull, .time_ns = 9, .action = 0x0201,
					.flags = 1, .actor = 0xa1b2c3d4, .target = 77, .arg0 = 5,
					.arg1 = 6 }, back;
	uint8_t enc[64];

	(void)state;
	memcpy(r.prev8, "prevprev", 8);
	memcpy(r.self8, "selfself", 8);
	rvm_witness_encode(&r, enc);
	assert_int_equal(enc[0], 0x08); /* little-endian */
	assert_int_equal(enc[7], 0x01);
	assert_int_equal(rvm_load_le16(enc + 16), 0x0201);
	assert_int_equal(rvm_load_le32(enc + 20), 0xa1b2c3d4);
	assert_memory_equal(enc + 48, "prevprevselfself", 16);
	rvm_witness_decode(enc, &back);
	assert_memory_equal(&r, &back, sizeof(r));
	assert_int_equal(sizeof(struct rvm_witness_record), 64);
}

static void test_action_names(void **state)
{
	static const uint16_t all[] = {
#define V(name, value, text) value,
		RVM_ACTION_LIST(V)
#undef V
	};
	uint16_t a;

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = rvm_action_name(all[i]);

		assert_non_null(n);
		assert_int_equal(rvm_action_parse(n, &a), RVM_OK);
		assert_int_equal(a, all[i]);
		for (size_t j = 0; j < i; j++)
			assert_true(all[j] != all[i] && strcmp(rvm_action_name(all[j]), n) != 0);
	}
	assert_string_equal(rvm_action_name(RVM_ACT_CAP_GRANT), "cap.grant");
	assert_null(rvm_action_name(0xffff));
	assert_int_equal(rvm_action_parse("cap.gran", &a), RVM_E_NOTFOUND);
	assert_int_equal(rvm_action_parse("cap.grantx", &a), RVM_E_NOTFOUND);
	assert_int_equal(rvm_action_parse(NULL, &a), RVM_E_INVAL);
}

static void test_fnv_vectors(void **state)
{
	(void)state;
	assert_true(rvm_fnv1a64("", 0) == 0xcbf29ce484222325ull);
	assert_true(rvm_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(rvm_fnv1a64("foobar", 6) == 0x85944171f73967e8ull);
	assert_true(rvm_fnv1a64_update(rvm_fnv1a64("foo", 3), "bar", 3) == 0x85944171f73967e8ull);
}

/* Recomputes the chain with OpenSSL over the encoded records: an independent reference. */
static void check_chain_openssl(const struct rvm_witness_log *l, uint64_t from, uint64_t to,
				uint8_t d[32])
{
	for (uint64_t s = from; s < to; s++) {
		const struct rvm_witness_record *r = rvm_witness_get(l, s);
		uint8_t in[96];

		assert_non_null(r);
		assert_true(r->seq == s);
		assert_memory_equal(r->prev8, d, 8);
		memcpy(in, d, 32);
		rvm_witness_encode(r, in + 32);
		memset(in + 32 + 56, 0, 8);
		SHA256(in, sizeof(in), d);
		assert_memory_equal(r->self8, d, 8);
	}
}

static void test_chain_matches_openssl(void **state)
{
	struct rvm_witness_config c = cfg_plain(0);
	uint8_t d[32], in[30];
	uint64_t seq = 99;

	(void)state;
	mp_reset(true);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	assert_false(wlog.has_sink);
	memcpy(in, "RVM-WITNESS-v1", 14);
	memcpy(in + 14, c.boot_nonce, 16);
	SHA256(in, sizeof(in), d);
	assert_memory_equal(wlog.genesis, d, 32);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(rvm_witness_emit(&wlog, RVM_ACT_CAP_GRANT, 0, (uint32_t)i, 1000 + i,
						  (uint64_t)i * 3, ~(uint64_t)i, &seq),
				 RVM_OK);
		assert_true(seq == (uint64_t)i);
	}
	check_chain_openssl(&wlog, 0, 100, d);
	assert_memory_equal(wlog.digest, d, 32);
	assert_true(rvm_witness_get(&wlog, 99)->time_ns > rvm_witness_get(&wlog, 0)->time_ns);
	assert_int_equal(rvm_witness_sync(&wlog), RVM_E_UNSUPPORTED);
}

static void test_fnv_chain(void **state)
{
	struct rvm_witness_config c = cfg_plain(0);
	uint8_t enc[64], d[32];

	(void)state;
	c.chain = RVM_CHAIN_FNV1A;
	mp_reset(true);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	memcpy(d, wlog.genesis, 32);
	assert_true(rvm_load_le64(d) == rvm_fnv1a64_update(rvm_fnv1a64("RVM-WITNESS-v1", 14),
							    c.boot_nonce, 16));
	for (int i = 0; i < 10; i++)
		assert_int_equal(rvm_witness_emit(&wlog, RVM_ACT_IPC_SEND, 0, 1, 2, 3, 4, NULL), RVM_OK);
	for (uint64_t s = 0; s < 10; s++) {
		const struct rvm_witness_record *r = rvm_witness_get(&wlog, s);
		uint64_t h;

		rvm_witness_encode(r, enc);
		memset(enc + 56, 0, 8);
		h = rvm_fnv1a64_update(rvm_fnv1a64(d, 8), enc, 64);
		assert_memory_equal(r->prev8, d, 8);
		rvm_store_le64(d, h);
		assert_memory_equal(r->self8, d, 8);
	}
}

static void test_ring_window(void **state)
{
	struct rvm_witness_config c = cfg_plain(0);
	uint64_t n = 3 * RVM_WITNESS_RING_RECORDS + 5;

	(void)state;
	mp_reset(true);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(rvm_witness_emit(&wlog, RVM_ACT_IPC_SEND, 0, 1, i, 0, 0, NULL), RVM_OK);
	assert_null(rvm_witness_get(&wlog, n));
	assert_null(rvm_witness_get(&wlog, n - RVM_WITNESS_RING_RECORDS - 1));
	for (uint64_t s = n - RVM_WITNESS_RING_RECORDS; s < n; s++)
		assert_true(rvm_witness_get(&wlog, s)->target == s);
	assert_true(rvm_witness_can_emit(&wlog, 10));
	assert_false(rvm_witness_can_emit(&wlog, RVM_WITNESS_RING_RECORDS + 1));
	assert_int_equal(rvm_witness_emit(&wlog, 1, RVM_WF_SIGNATURE, 0, 0, 0, 0, NULL), RVM_E_INVAL);
	assert_int_equal(rvm_witness_emit(&wlog, 1, RVM_WF_BATCH, 0, 0, 0, 0, NULL), RVM_E_INVAL);
	assert_int_equal(rvm_witness_emit(&wlog, 1, RVM_WF_WORDFOLD, 0, 0, 0, 0, NULL),
			 RVM_E_INVAL);
}

static void test_sink_file_and_checkpoints(void **state)
{
	struct rvm_witness_config c = cfg_plain(10);
	struct rvm_witness_file_header h;
	struct rvm_witness_record r;
	uint64_t total;

	(void)state;
	mp_reset(false);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	assert_true(wlog.has_sink);
	assert_int_equal(LOG_LEN, RVM_WFILE_HEADER_SIZE);
	assert_int_equal(mp.syncs, 1);
	assert_int_equal(rvm_witness_header_decode(LOG_BUF, LOG_LEN, &h), RVM_OK);
	assert_memory_equal(h.genesis, wlog.genesis, 32);
	assert_int_equal(h.checkpoint_every, 10);
	for (int i = 0; i < 25; i++)
		assert_int_equal(rvm_witness_emit(&wlog, RVM_ACT_REGION_MAP, 0, 2, i, 0, 0, NULL), RVM_OK);
	/* 25 records + periodic checkpoints at seq 10 and 21. */
	assert_true(wlog.next_seq == 27);
	assert_true(wlog.durable_seq == 0);
	assert_int_equal(rvm_witness_close(&wlog), RVM_OK);
	total = wlog.next_seq;
	assert_true(total == 28);
	assert_true(wlog.durable_seq == total && wlog.flushed_seq == total);
	assert_int_equal(LOG_LEN, RVM_WFILE_HEADER_SIZE + total * 64);
	rvm_witness_decode(LOG_BUF + 128 + 10 * 64, &r);
	assert_int_equal(r.action, RVM_ACT_CHAIN_CHECKPOINT);
	assert_true(r.target == UINT64_MAX && r.arg0 == RVM_CKPT_PERIODIC && r.arg1 == 10);
	rvm_witness_decode(LOG_BUF + 128 + 21 * 64, &r);
	assert_true(r.target == 10 && r.arg1 == 10);
	rvm_witness_decode(LOG_BUF + 128 + 27 * 64, &r);
	assert_true(r.seq == 27 && r.target == 21 && r.arg0 == RVM_CKPT_SHUTDOWN && r.arg1 == 5);
	/* The file's records are the ring's, byte for byte. */
	for (uint64_t s = 0; s < total; s++) {
		uint8_t enc[64];

		rvm_witness_encode(rvm_witness_get(&wlog, s), enc);
		assert_memory_equal(LOG_BUF + 128 + s * 64, enc, 64);
	}
}

static void test_sink_failure_reports_full(void **state)
{
	struct rvm_witness_config c = cfg_plain(0);
	enum rvm_err err = RVM_OK;
	uint64_t i;

	(void)state;
	mp_reset(false);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	mp.fail_after = 0;
	for (i = 0; i < 2 * RVM_WITNESS_RING_RECORDS && err == RVM_OK; i++)
		err = rvm_witness_emit(&wlog, RVM_ACT_IPC_SEND, 0, 1, i, 0, 0, NULL);
	assert_int_equal(err, RVM_E_FULL);
	assert_true(i == RVM_WITNESS_RING_RECORDS + 1);
	assert_false(rvm_witness_can_emit(&wlog, 1));
	assert_int_equal(rvm_witness_sync(&wlog), RVM_E_IO);
	/* The sink recovers: everything the ring held reaches it, in order. */
	mp.fail_after = -1;
	assert_true(rvm_witness_can_emit(&wlog, 1) || wlog.sink_err != RVM_OK);
	assert_int_equal(rvm_witness_sync(&wlog), RVM_OK);
	assert_int_equal(LOG_LEN, 128 + RVM_WITNESS_RING_RECORDS * 64);
	assert_int_equal(rvm_witness_emit(&wlog, RVM_ACT_IPC_SEND, 0, 1, 0, 0, 0, NULL), RVM_OK);
}

/* The word fold of one event, written from docs/witness-format.md (section 3). */
static uint64_t doc_word_fold(uint64_t h, uint16_t action, uint32_t actor, uint64_t target,
			      uint64_t arg0)
{
	const uint64_t w[3] = {action | (uint64_t)actor << 16, target, arg0};

	for (int i = 0; i < 3; i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 32;
	}
	return h;
}

static void test_batch(void **state)
{
	struct rvm_witness_config c = cfg_plain(0);
	const struct rvm_witness_record *r;
	uint64_t fold = RVM_FNV1A64_OFFSET;

	(void)state;
	mp_reset(true);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	assert_int_equal(rvm_witness_batch_flush(&wlog), RVM_OK);
	assert_true(wlog.next_seq == 0);
	for (uint64_t i = 0; i < 5; i++) {
		fold = doc_word_fold(fold, RVM_ACT_IPC_SEND, 7, 100 + i, i * 10);
		assert_int_equal(rvm_witness_batch_add(&wlog, RVM_ACT_IPC_SEND, 7, 100 + i, i * 10),
				 RVM_OK);
	}
	assert_true(wlog.next_seq == 0);
	/* Another actor closes the first batch. */
	assert_int_equal(rvm_witness_batch_add(&wlog, RVM_ACT_IPC_SEND, 8, 1, 1), RVM_OK);
	assert_true(wlog.next_seq == 1);
	r = rvm_witness_get(&wlog, 0);
	assert_int_equal(r->flags, RVM_WF_BATCH | RVM_WF_WORDFOLD);
	assert_int_equal(r->action, RVM_ACT_IPC_SEND);
	assert_int_equal(r->actor, 7);
	assert_true(r->target == 5 && r->arg0 == 100 && r->arg1 == fold);
	assert_int_equal(rvm_witness_close(&wlog), RVM_OK);
	assert_true(wlog.next_seq == 3);
	assert_int_equal(rvm_witness_get(&wlog, 1)->actor, 8);
	assert_int_equal(rvm_witness_get(&wlog, 2)->action, RVM_ACT_CHAIN_CHECKPOINT);
}

static void test_header_errors(void **state)
{
	struct rvm_witness_file_header h = { .version = 1, .header_size = 128, .unit_size = 64,
					     .chain = RVM_CHAIN_SHA256 }, out;
	uint8_t b[128], t[128];

	(void)state;
	rvm_witness_genesis(RVM_CHAIN_SHA256, NULL, h.nonce, h.genesis);
	rvm_witness_header_encode(&h, b);
	assert_int_equal(rvm_witness_header_decode(b, 128, &out), RVM_OK);
	assert_int_equal(rvm_witness_header_decode(b, 0, &out), RVM_E_TRUNCATED);
	assert_int_equal(rvm_witness_header_decode(b, 127, &out), RVM_E_TRUNCATED);
	for (int bit = 0; bit < 128 * 8; bit++) {
		memcpy(t, b, 128);
		t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(rvm_witness_header_decode(t, 128, &out), RVM_E_CORRUPT);
	}
	memcpy(t, "GARBAGE!", 8);
	memcpy(t + 8, b + 8, 120);
	assert_int_equal(rvm_witness_header_decode(t, 128, &out), RVM_E_FORMAT);
	h.version = 2;
	rvm_witness_header_encode(&h, t);
	assert_int_equal(rvm_witness_header_decode(t, 128, &out), RVM_E_VERSION);
	h.version = 1;
	h.header_size = 0xffff;
	rvm_witness_header_encode(&h, t);
	assert_int_equal(rvm_witness_header_decode(t, 128, &out), RVM_E_FORMAT);
	h.header_size = 128;
	h.chain = 9;
	rvm_witness_header_encode(&h, t);
	assert_int_equal(rvm_witness_header_decode(t, 128, &out), RVM_E_FORMAT);
	h.chain = RVM_CHAIN_FNV1A; /* D0 no longer derives from the nonce */
	rvm_witness_header_encode(&h, t);
	assert_int_equal(rvm_witness_header_decode(t, 128, &out), RVM_E_FORMAT);
}

static void test_bad_config(void **state)
{
	struct rvm_witness_config c = cfg_plain(0);
	uint8_t pk[32];

	(void)state;
	mp_reset(true);
	c.chain = 0;
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_E_INVAL);
	c.chain = RVM_CHAIN_SHA256;
	c.sig = 7;
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_E_INVAL);
	assert_int_equal(rvm_witness_init(NULL, &plat, &c), RVM_E_INVAL);
	/* An Ed25519 secret key must hold its own public key. */
	c.sig = RVM_SIG_ED25519;
	assert_int_equal(crypto_sign_keypair(pk, c.key), 0);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	assert_memory_equal(wlog.public_key, pk, 32);
	c.key[40] ^= 1;
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_E_INVAL);
	/* A caller that just derived the pair vouches for it: its half is taken, not derived. */
	c.key_pair_fresh = true;
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	assert_memory_equal(wlog.public_key, c.key + 32, 32);
	assert_int_equal(wlog.public_key[8], pk[8] ^ 1);
	c.key_pair_fresh = false;
	/* A zero nonce is drawn from the platform. */
	c = cfg_plain(0);
	memset(c.boot_nonce, 0, 16);
	assert_int_equal(rvm_witness_init(&wlog, &plat, &c), RVM_OK);
	assert_int_equal(wlog.cfg.boot_nonce[0], 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_codec),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_fnv_vectors),
		cmocka_unit_test(test_chain_matches_openssl),
		cmocka_unit_test(test_fnv_chain),
		cmocka_unit_test(test_ring_window),
		cmocka_unit_test(test_sink_file_and_checkpoints),
		cmocka_unit_test(test_sink_failure_reports_full),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_bad_config),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_memplat_free(&mp);
	return rc;
}
