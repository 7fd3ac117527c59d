/* tests/unit/test_journal.c - the journal: entries round-trip, bind by hash, torn tails and corruption caught. */
#include "memplat.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <rvm/bytes.h>
#include <rvm/journal.h>

/* The platform: memory sinks (tests/support/memplat.h); the journal is one stream of it. */
static struct rvm_memplat sink;
static struct rvm_platform plat;
static struct rvm_journal j;
#define JBUF (sink.buf[RVM_SINK_JOURNAL])
#define JLEN (sink.len[RVM_SINK_JOURNAL])

static void reset(void)
{
	rvm_memplat_reset(&sink, &plat, 1000, 0);
	assert_int_equal(rvm_journal_init(&j, &plat), RVM_OK);
}

static uint64_t sha8(const void *p, size_t n)
{
	uint8_t d[32];

	SHA256(p, n, d);
	return rvm_load_le64(d);
}

static void test_roundtrip(void **state)
{
	uint8_t msg[300], t[8];
	struct rvm_journal_entry e;
	size_t off = RVM_JOURNAL_HEADER;

	(void)state;
	reset();
	for (int i = 0; i < 300; i++)
		msg[i] = (uint8_t)(i * 7);
	rvm_store_le64(t, 123456789);
	assert_int_equal(rvm_journal_append(&j, 10, 3, RVM_JK_RECV, 2, msg, 300), RVM_OK);
	assert_int_equal(rvm_journal_append(&j, 11, 4, RVM_JK_NOW, 0, t, 8), RVM_OK);
	assert_int_equal(rvm_journal_append(&j, 12, 4, RVM_JK_SPAWN, 1, NULL, 0), RVM_OK);
	/* Nothing reaches the sink before a flush, except the header. */
	assert_int_equal(JLEN, RVM_JOURNAL_HEADER);
	assert_int_equal(rvm_journal_sync(&j), RVM_OK);
	assert_int_equal(j.entries, 3);
	assert_int_equal(j.bytes, JLEN);
	assert_int_equal(rvm_journal_check_header(JBUF, JLEN), RVM_OK);
	assert_int_equal(rvm_journal_next(JBUF, JLEN, &off, &e), RVM_OK);
	assert_true(e.seq == 10 && e.agent == 3 && e.kind == RVM_JK_RECV && e.aux == 2 &&
		    e.len == 300 && memcmp(e.payload, msg, 300) == 0);
	/* The binding hash is SHA-256's first 8 bytes, as OpenSSL computes them. */
	assert_true(rvm_load_le64(e.hash8) == sha8(msg, 300));
	assert_true(rvm_journal_hash8(&plat, msg, 300) == sha8(msg, 300));
	assert_int_equal(off % 8, 0);
	assert_int_equal(rvm_journal_next(JBUF, JLEN, &off, &e), RVM_OK);
	assert_true(e.kind == RVM_JK_NOW && rvm_load_le64(e.payload) == 123456789);
	assert_int_equal(rvm_journal_next(JBUF, JLEN, &off, &e), RVM_OK);
	assert_true(e.kind == RVM_JK_SPAWN && e.len == 0 && rvm_load_le64(e.hash8) == sha8("", 0));
	assert_int_equal(rvm_journal_next(JBUF, JLEN, &off, &e), RVM_E_EMPTY);
}

static void test_bad_appends(void **state)
{
	uint8_t big[RVM_JOURNAL_MAX_PAYLOAD + 1] = { 0 };

	(void)state;
	reset();
	assert_int_equal(rvm_journal_append(&j, 1, 0, RVM_JK_RECV, 0, big, sizeof(big)),
			 RVM_E_RANGE);
	assert_int_equal(rvm_journal_append(&j, 1, 0, 0, 0, big, 1), RVM_E_INVAL);
	assert_int_equal(rvm_journal_append(&j, 1, 0, RVM_JK_COUNT, 0, big, 1), RVM_E_INVAL);
	assert_int_equal(rvm_journal_append(&j, 1, 0, RVM_JK_RECV, 0, NULL, 1), RVM_E_INVAL);
	assert_int_equal(j.entries, 0);
	/* A failing sink: the flush reports it and the journal remembers. */
	assert_int_equal(rvm_journal_append(&j, 1, 0, RVM_JK_RECV, 0, big, 10), RVM_OK);
	sink.fail = true;
	assert_int_equal(rvm_journal_flush(&j), RVM_E_IO);
	assert_int_equal(j.sink_err, RVM_E_IO);
}

/* More than the buffer holds: flushed along the way, every entry readable in order. */
static void test_many_entries(void **state)
{
	uint8_t msg[200];
	struct rvm_journal_entry e;
	size_t off = RVM_JOURNAL_HEADER;
	uint64_t n = 0;
	enum rvm_err err;

	(void)state;
	reset();
	for (uint32_t i = 0; i < 2000; i++) {
		memset(msg, (int)i, sizeof(msg));
		assert_int_equal(rvm_journal_append(&j, i, i % 7, RVM_JK_RECV, 0, msg, 1 + i % 200),
				 RVM_OK);
	}
	assert_true(sink.appends > 3);
	assert_int_equal(rvm_journal_sync(&j), RVM_OK);
	while ((err = rvm_journal_next(JBUF, JLEN, &off, &e)) == RVM_OK) {
		assert_int_equal(e.seq, n);
		assert_int_equal(e.len, 1 + n % 200);
		assert_int_equal(e.payload[0], (uint8_t)n);
		n++;
	}
	assert_int_equal(err, RVM_E_EMPTY);
	assert_int_equal(n, 2000);
}

static void test_torn_and_corrupt(void **state)
{
	uint8_t msg[20] = { 1, 2, 3 };
	struct rvm_journal_entry e;
	size_t off, full;
	uint8_t *copy;

	(void)state;
	reset();
	for (int i = 0; i < 3; i++)
		assert_int_equal(rvm_journal_append(&j, (uint64_t)i, 1, RVM_JK_RECV, 0, msg, 20),
				 RVM_OK);
	assert_int_equal(rvm_journal_sync(&j), RVM_OK);
	full = JLEN;
	copy = malloc(full);
	/* Every cut inside the last entry is a torn tail after two good entries. */
	for (size_t cut = full - 55; cut < full; cut++) {
		int good = 0;
		enum rvm_err err;

		off = RVM_JOURNAL_HEADER;
		while ((err = rvm_journal_next(JBUF, cut, &off, &e)) == RVM_OK)
			good++;
		assert_int_equal(good, 2);
		assert_int_equal(err, RVM_E_TRUNCATED);
	}
	/* Unknown kind, unknown flags (bit 0 is BATCH), oversized length, dirty padding: corrupt. */
	const size_t at = RVM_JOURNAL_HEADER;
	const struct {
		size_t off;
		uint8_t val;
	} bad[] = { { at + 12, 99 }, { at + 14, 2 }, { at + 18, 0x10 }, { at + 32 + 21, 7 } };
	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		memcpy(copy, JBUF, full);
		copy[bad[b].off] = bad[b].val;
		off = RVM_JOURNAL_HEADER;
		assert_int_equal(rvm_journal_next(copy, full, &off, &e), RVM_E_CORRUPT);
	}
	/* Headers. */
	memcpy(copy, JBUF, full);
	assert_int_equal(rvm_journal_check_header(copy, 10), RVM_E_TRUNCATED);
	copy[0] ^= 1;
	assert_int_equal(rvm_journal_check_header(copy, full), RVM_E_FORMAT);
	copy[0] ^= 1;
	copy[12] = 3;
	assert_int_equal(rvm_journal_check_header(copy, full), RVM_E_VERSION);
	copy[12] = 0;
	assert_int_equal(rvm_journal_check_header(copy, full), RVM_E_VERSION);
	copy[12] = 1; /* version 1 files (no batches) still read */
	assert_int_equal(rvm_journal_check_header(copy, full), RVM_OK);
	off = 3;
	assert_int_equal(rvm_journal_next(copy, full, &off, &e), RVM_E_INVAL);
	free(copy);
}

/* A platform without a journal sink: entries are counted, nothing is kept. */
static void test_no_sink(void **state)
{
	static const struct rvm_platform bare = { 0 };
	static struct rvm_journal jj;

	(void)state;
	assert_int_equal(rvm_journal_init(&jj, &bare), RVM_OK);
	assert_false(jj.has_sink);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(rvm_journal_append(&jj, 1, 1, RVM_JK_NOW, 0, "12345678", 8), RVM_OK);
	assert_int_equal(jj.entries, 5000);
	assert_int_equal(jj.used, 0);
	assert_int_equal(rvm_journal_sync(&jj), RVM_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),	 cmocka_unit_test(test_bad_appends),
		cmocka_unit_test(test_many_entries),	 cmocka_unit_test(test_torn_and_corrupt),
		cmocka_unit_test(test_no_sink),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_memplat_free(&sink);
	return rc;
}
