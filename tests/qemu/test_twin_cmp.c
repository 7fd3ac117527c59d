/* tests/qemu/test_twin_cmp.c - the twin comparison skips time and nothing else: every other
 * field of every record, the record count and the header are compared. */
#include <stdlib.h>
#include <string.h>

#include "support.h"

#include "twin_cmp.h"

#define N 16

/* A scenario's records: boot phases 1..7 (arg1 = measurement), boot.complete (arg0 = boot
 * time, arg1 = attestation), traffic, a checkpoint, shutdown (arg0 = uptime). */
static void scenario(struct rvm_witness_record r[N], uint64_t t0)
{
	memset(r, 0, N * sizeof(*r));
	for (uint32_t i = 0; i < N; i++) {
		r[i].seq = i;
		r[i].time_ns = t0 + 1000u * i;
		memset(r[i].prev8, (int)(t0 + i), 8);
		memset(r[i].self8, (int)(t0 + i + 1), 8);
	}
	for (uint32_t p = 1; p <= 7; p++) {
		r[p - 1].action = RVM_ACT_BOOT_PHASE;
		r[p - 1].target = p;
		r[p - 1].arg0 = p == 4 ? 32 : p;
		r[p - 1].arg1 = 0x1111111111111111ull * p;
	}
	r[7].action = RVM_ACT_BOOT_COMPLETE;
	r[7].target = 7;
	r[7].arg0 = t0 / 3; /* boot time */
	r[7].arg1 = 0x36be2195dbbfea9full;
	for (uint32_t i = 8; i < N - 2; i++) {
		r[i].action = RVM_ACT_IPC_SEND;
		r[i].actor = 2;
		r[i].target = 0x100 + i;
		r[i].arg0 = 32;
		r[i].arg1 = i;
	}
	r[N - 2].action = RVM_ACT_CHAIN_CHECKPOINT;
	r[N - 2].flags = 2;
	r[N - 2].arg0 = 3;
	r[N - 2].arg1 = N - 2;
	r[N - 1].action = RVM_ACT_SHUTDOWN;
	r[N - 1].arg0 = t0 * 7; /* uptime */
}

static void same_apart_from_time(void **state)
{
	struct rvm_witness_record a[N], b[N];
	struct rvm_twin_diff d;

	(void)state;
	scenario(a, 1000);
	scenario(b, 987654321);
	assert_true(a[7].arg0 != b[7].arg0 && a[N - 1].arg0 != b[N - 1].arg0);
	assert_int_equal(rvm_twin_cmp_records(a, N, b, N, &d), 0);
	assert_null(d.field);
}

/* Flips bit `bit` of the named field of record i in a copy, expects that exact finding. */
static void expect_found(const struct rvm_witness_record *a, size_t i, const char *field,
			 unsigned bit)
{
	struct rvm_witness_record b[N];
	struct rvm_twin_diff d;

	memcpy(b, a, sizeof(b));
	if (!strcmp(field, "seq"))
		b[i].seq ^= 1ull << bit;
	else if (!strcmp(field, "action"))
		b[i].action ^= (uint16_t)(1u << (bit % 16));
	else if (!strcmp(field, "flags"))
		b[i].flags ^= (uint16_t)(1u << (bit % 16));
	else if (!strcmp(field, "actor"))
		b[i].actor ^= 1u << (bit % 32);
	else if (!strcmp(field, "target"))
		b[i].target ^= 1ull << bit;
	else if (!strcmp(field, "arg0"))
		b[i].arg0 ^= 1ull << bit;
	else
		b[i].arg1 ^= 1ull << bit;
	assert_int_equal(rvm_twin_cmp_records(a, N, b, N, &d), 1);
	assert_string_equal(d.field, field);
	assert_int_equal(d.index, i);
}

static void every_other_field_counts(void **state)
{
	static const char *const fields[] = {"seq",    "action", "flags", "actor",
					     "target", "arg0",	 "arg1"};
	struct rvm_witness_record a[N];

	(void)state;
	scenario(a, 1000);
	for (size_t i = 0; i < N; i++)
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			/* A changed kind of boot.complete/shutdown is a difference whatever
			 * arg0 says; their arg0 alone is time. */
			if (!strcmp(fields[f], "arg0") && (i == 7 || i == N - 1))
				continue;
			for (unsigned bit = 0; bit < 64; bit += 21)
				expect_found(a, i, fields[f], bit);
		}
}

/* What the twin test exists for: a phase's measurement (the capability phase's, which the
 * cap-space size changes) or the attestation folding it must never pass. */
static void measurements_count(void **state)
{
	struct rvm_witness_record a[N];

	(void)state;
	scenario(a, 1000);
	expect_found(a, 3, "arg1", 0);	/* boot.phase 4's measurement */
	expect_found(a, 3, "arg0", 5);	/* boot.phase 4's value (cap tables) */
	expect_found(a, 7, "arg1", 63); /* the attestation in boot.complete */
}

static void count_differs(void **state)
{
	struct rvm_witness_record a[N];
	struct rvm_twin_diff d;

	(void)state;
	scenario(a, 1000);
	assert_int_equal(rvm_twin_cmp_records(a, N, a, N - 1, &d), 1);
	assert_string_equal(d.field, "record count");
	assert_int_equal(d.index, N - 1);
	assert_int_equal(rvm_twin_cmp_records(a, 3, a, N, &d), 1);
	assert_int_equal(d.index, 3);
	assert_int_equal(rvm_twin_cmp_records(a, 0, a, 0, &d), 0);
}

static void header(void **state)
{
	uint8_t a[RVM_WFILE_HEADER_SIZE], b[RVM_WFILE_HEADER_SIZE];
	struct rvm_twin_diff d;

	(void)state;
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 7 + 1);
	memcpy(b, a, sizeof(b));
	for (size_t i = 24; i < 32; i++)
		b[i] ^= 0xff; /* boot_clock_ns */
	for (size_t i = 120; i < 128; i++)
		b[i] ^= 0x5a; /* checksum */
	assert_int_equal(rvm_twin_cmp_header(a, b, &d), 0);
	for (size_t i = 0; i < sizeof(a); i++) {
		if ((i >= 24 && i < 32) || i >= 120)
			continue;
		memcpy(b, a, sizeof(b));
		b[i] ^= 0x10;
		assert_int_equal(rvm_twin_cmp_header(a, b, &d), 1);
		assert_int_equal(d.index, i);
		assert_non_null(d.field);
	}
	memcpy(b, a, sizeof(b));
	b[40] ^= 1;
	assert_int_equal(rvm_twin_cmp_header(a, b, &d), 1);
	assert_string_equal(d.field, "header nonce");
	b[40] ^= 1;
	b[90] ^= 1;
	assert_int_equal(rvm_twin_cmp_header(a, b, &d), 1);
	assert_string_equal(d.field, "header key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_apart_from_time),
		cmocka_unit_test(every_other_field_counts),
		cmocka_unit_test(measurements_count),
		cmocka_unit_test(count_differs),
		cmocka_unit_test(header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
