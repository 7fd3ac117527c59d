/* tests/unit/test_buddy.c - buddy allocator: tiling, errors, exhaustion, deferred splits, random ops. */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/buddy.h>

#define MIB (1024ull * 1024ull)

static struct rvm_buddy buddy;
static struct rvm_buddy_frame frames[8192];

/* A real arena so addresses are usable memory (RVM_BUDDY_ZERO, overlap canaries). */
static uint8_t *arena_base(void)
{
	static uint8_t *arena;

	if (!arena) {
		arena = aligned_alloc(4 * MIB, 24 * MIB);
		assert_non_null(arena);
	}
	return arena;
}

static void test_init_errors(void **state)
{
	uint64_t base = (uint64_t)(uintptr_t)arena_base();
	struct rvm_phys_range ok = { base, 4 * MIB };
	struct rvm_phys_range bad[2];

	(void)state;
	assert_int_equal(rvm_buddy_init(NULL, frames, 8192, &ok, 1), RVM_E_INVAL);
	assert_int_equal(rvm_buddy_init(&buddy, NULL, 8192, &ok, 1), RVM_E_INVAL);
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, NULL, 1), RVM_E_INVAL);
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, &ok, 0), RVM_E_INVAL);
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, &ok, RVM_BUDDY_MAX_RANGES + 1),
			 RVM_E_INVAL);
	bad[0] = (struct rvm_phys_range){ base + 100, 4096 };
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, bad, 1), RVM_E_INVAL);
	bad[0] = (struct rvm_phys_range){ base, 4097 };
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, bad, 1), RVM_E_INVAL);
	bad[0] = (struct rvm_phys_range){ base, 0 };
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, bad, 1), RVM_E_INVAL);
	bad[0] = (struct rvm_phys_range){ UINT64_MAX - 4095, 8192 };
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, bad, 1), RVM_E_INVAL);
	/* Overlapping ranges. */
	bad[0] = (struct rvm_phys_range){ base, 2 * MIB };
	bad[1] = (struct rvm_phys_range){ base + MIB, 2 * MIB };
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, bad, 2), RVM_E_INVAL);
	/* Too little metadata. */
	assert_int_equal(rvm_buddy_init(&buddy, frames, 1023, &ok, 1), RVM_E_NOMEM);
	assert_int_equal(rvm_buddy_init(&buddy, frames, 1024, &ok, 1), RVM_OK);
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
}

static void test_split_and_merge(void **state)
{
	uint64_t base = (uint64_t)(uintptr_t)arena_base();
	struct rvm_phys_range r = { base, 8 * MIB };
	struct rvm_buddy_stats st;
	uint64_t a, c;
	unsigned order;

	(void)state;
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, &r, 1), RVM_OK);
	rvm_buddy_stats(&buddy, &st);
	assert_int_equal(st.total_frames, 2048);
	assert_int_equal(st.free_blocks[RVM_BUDDY_MAX_ORDER], 2);
	assert_int_equal(rvm_buddy_alloc(&buddy, 0, 0, &a), RVM_OK);
	assert_true(a >= base && a < base + 8 * MIB);
	rvm_buddy_stats(&buddy, &st);
	/* Splitting one 4 MiB block left one free block of every smaller order. */
	for (unsigned k = 0; k < RVM_BUDDY_MAX_ORDER; k++)
		assert_int_equal(st.free_blocks[k], 1);
	assert_int_equal(st.free_frames, 2047);
	assert_int_equal(rvm_buddy_alloc(&buddy, 9, 0, &c), RVM_OK);
	assert_true(c % (2 * MIB) == 0 && c != a);
	assert_int_equal(rvm_buddy_block_order(&buddy, c, &order), RVM_OK);
	assert_int_equal(order, 9);
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	assert_int_equal(rvm_buddy_free(&buddy, a), RVM_OK);
	assert_int_equal(rvm_buddy_free(&buddy, c), RVM_OK);
	rvm_buddy_stats(&buddy, &st);
	assert_int_equal(st.free_frames, 2048);
	assert_int_equal(st.free_blocks[RVM_BUDDY_MAX_ORDER], 2);
	assert_int_equal(st.free_blocks[0], 0);
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	assert_int_equal(rvm_buddy_alloc(&buddy, RVM_BUDDY_MAX_ORDER + 1, 0, &a), RVM_E_RANGE);
}

/*
 * The free blocks of every order k < 10 from `from` on, except `taken`, are the
 * halves a + 4 KiB << k, and act as free blocks.
 */
static void expect_halves(uint64_t a, unsigned from, unsigned taken)
{
	struct rvm_buddy_stats st;
	uint64_t p;
	unsigned order;

	rvm_buddy_stats(&buddy, &st);
	for (unsigned k = from; k < RVM_BUDDY_MAX_ORDER; k++) {
		if (k == taken) {
			assert_int_equal(st.free_blocks[k], 0);
			continue;
		}
		assert_int_equal(st.free_blocks[k], 1);
		assert_int_equal(rvm_buddy_peek(&buddy, k, &p), RVM_OK);
		assert_true(p == a + (4096ull << k));
		assert_int_equal(rvm_buddy_free(&buddy, p), RVM_E_STATE);
		assert_int_equal(rvm_buddy_block_order(&buddy, p, &order), RVM_E_STATE);
		if (k > 0)
			assert_int_equal(rvm_buddy_free(&buddy, p + 4096), RVM_E_INVAL);
	}
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
}

/*
 * A split's upper halves are not written to their frames (kernel/buddy.c:
 * first only recorded, then kept in deferred[]), yet they behave as free
 * blocks everywhere: peek, stats, errors, the checker. A cycle that frees the
 * block right back leaves every byte as it was.
 */
static void test_deferred_split(void **state)
{
	uint64_t base = (uint64_t)(uintptr_t)arena_base();
	struct rvm_phys_range r = { base, 8 * MIB };
	static struct rvm_buddy fresh;
	static struct rvm_buddy_frame frames_fresh[2048];
	struct rvm_buddy_stats st;
	uint64_t a, c, d, e, p;
	uint32_t ge;

	(void)state;
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, &r, 1), RVM_OK);
	fresh = buddy;
	memcpy(frames_fresh, frames, sizeof(frames_fresh));
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(rvm_buddy_alloc(&buddy, (unsigned)i % 10, 0, &a), RVM_OK);
		assert_int_equal(rvm_buddy_free(&buddy, a), RVM_OK);
	}
	assert_memory_equal(&fresh, &buddy, sizeof(buddy));
	assert_memory_equal(frames_fresh, frames, sizeof(frames_fresh));

	/* The split only recorded. */
	assert_int_equal(rvm_buddy_alloc(&buddy, 0, 0, &a), RVM_OK);
	expect_halves(a, 0, 99);
	/* The checker sees through a broken record. */
	buddy.chain_mask |= 1u << RVM_BUDDY_MAX_ORDER;
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_E_CORRUPT);
	buddy.chain_mask &= ~(1u << RVM_BUDDY_MAX_ORDER);
	buddy.deferred_mask &= ~(1u << 3);
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_E_CORRUPT);
	buddy.deferred_mask |= 1u << 3;
	buddy.chain_base++;
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_E_CORRUPT);
	buddy.chain_base--;
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	/* A second 4 KiB allocation takes the lowest half off the record. */
	assert_int_equal(rvm_buddy_alloc(&buddy, 0, 0, &c), RVM_OK);
	assert_true(c == a + 4096);
	assert_true(buddy.chain_mask == 0x3fe && buddy.deferred[1] == RVM_BUDDY_NIL);
	expect_halves(a, 1, 99);
	/* So does a 16 KiB one, from the middle. */
	assert_int_equal(rvm_buddy_alloc(&buddy, 2, 0, &d), RVM_OK);
	assert_true(d == a + 16384);
	assert_true(buddy.chain_mask == 0x3fa);
	expect_halves(a, 1, 2);
	/* A 4 KiB one splits the 8 KiB half: the record goes out to deferred[] first. */
	assert_int_equal(rvm_buddy_alloc(&buddy, 0, 0, &e), RVM_OK);
	assert_true(e == a + 8192);
	assert_int_equal(rvm_buddy_frame_index(&buddy, e, &ge), RVM_OK);
	assert_true(buddy.chain_base == ge && buddy.chain_mask == 1);
	assert_true(buddy.deferred[1] == RVM_BUDDY_NIL && buddy.deferred[3] == ge + 6);
	expect_halves(a, 3, 99);
	assert_int_equal(rvm_buddy_peek(&buddy, 0, &p), RVM_OK);
	assert_true(p == e + 4096);
	buddy.deferred[5] = buddy.deferred[4];
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_E_CORRUPT);
	buddy.deferred[5] = buddy.deferred[4] + 16;
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	/* Freeing all four merges everything, records and deferred halves, back to 4 MiB. */
	assert_int_equal(rvm_buddy_free(&buddy, a), RVM_OK);
	assert_int_equal(rvm_buddy_free(&buddy, d), RVM_OK);
	assert_int_equal(rvm_buddy_free(&buddy, e), RVM_OK);
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	assert_int_equal(rvm_buddy_free(&buddy, c), RVM_OK);
	rvm_buddy_stats(&buddy, &st);
	assert_int_equal(st.free_frames, 2048);
	assert_int_equal(st.free_blocks[RVM_BUDDY_MAX_ORDER], 2);
	assert_int_equal(st.free_blocks[0], 0);
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	assert_memory_equal(&fresh, &buddy, sizeof(buddy));
}

/* Bad frees are refused and leave every list and frame as they were. */
static void test_bad_frees(void **state)
{
	uint64_t base = (uint64_t)(uintptr_t)arena_base();
	struct rvm_phys_range r = { base, 4 * MIB };
	static struct rvm_buddy before;
	static struct rvm_buddy_frame frames_before[1024];
	uint64_t a;
	unsigned order;

	(void)state;
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, &r, 1), RVM_OK);
	assert_int_equal(rvm_buddy_alloc(&buddy, 2, 0, &a), RVM_OK);
	before = buddy;
	memcpy(frames_before, frames, sizeof(frames_before));
	assert_int_equal(rvm_buddy_free(&buddy, base + 4 * MIB), RVM_E_RANGE); /* foreign */
	assert_int_equal(rvm_buddy_free(&buddy, base - 4096), RVM_E_RANGE);
	assert_int_equal(rvm_buddy_free(&buddy, a + 4096), RVM_E_INVAL); /* inside the block */
	assert_int_equal(rvm_buddy_free(&buddy, a + 1), RVM_E_INVAL);    /* not frame aligned */
	assert_int_equal(rvm_buddy_free(&buddy, a + 16384), RVM_E_STATE); /* a free block */
	assert_int_equal(rvm_buddy_block_order(&buddy, a + 4096, &order), RVM_E_INVAL);
	assert_memory_equal(&before, &buddy, sizeof(buddy));
	assert_memory_equal(frames_before, frames, sizeof(frames_before));
	assert_int_equal(rvm_buddy_free(&buddy, a), RVM_OK);
	assert_int_equal(rvm_buddy_free(&buddy, a), RVM_E_STATE); /* double free */
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	/* The checker notices a broken frame. */
	frames[5].state = RVM_FRAME_USED_HEAD;
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_E_CORRUPT);
	frames[5].state = RVM_FRAME_TAIL;
	buddy.free_frames--;
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_E_CORRUPT);
	buddy.free_frames++;
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
}

/* Exhaustion fails cleanly with RVM_E_NOMEM, and everything comes back. */
static void test_exhaustion(void **state)
{
	uint64_t base = (uint64_t)(uintptr_t)arena_base();
	/* Odd ranges: unaligned to big orders, so the tiling uses many sizes. */
	struct rvm_phys_range r[2] = { { base + 12 * 4096, 3 * MIB + 5 * 4096 },
				       { base + 5 * MIB, 4096 * 7 } };
	struct rvm_buddy_stats st0, st;
	static uint64_t addrs[8192];
	size_t n = 0;
	uint64_t a;

	(void)state;
	memset(&st0, 0, sizeof(st0)); /* padding too: stats are compared bytewise */
	memset(&st, 0, sizeof(st));
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, r, 2), RVM_OK);
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	rvm_buddy_stats(&buddy, &st0);
	assert_int_equal(st0.total_frames, (3 * MIB) / 4096 + 5 + 7);
	while (rvm_buddy_alloc(&buddy, 0, 0, &a) == RVM_OK)
		addrs[n++] = a;
	assert_int_equal(n, st0.total_frames);
	assert_int_equal(rvm_buddy_alloc(&buddy, 0, 0, &a), RVM_E_NOMEM);
	assert_int_equal(rvm_buddy_alloc(&buddy, 3, 0, &a), RVM_E_NOMEM);
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rvm_buddy_free(&buddy, addrs[(i * 7919) % n]), RVM_OK);
	rvm_buddy_stats(&buddy, &st);
	assert_memory_equal(&st, &st0, sizeof(st));
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
}

static void test_zero_flag(void **state)
{
	uint8_t *arena = arena_base();
	struct rvm_phys_range r = { (uint64_t)(uintptr_t)arena, 4 * MIB };
	uint64_t a;
	uint8_t *p;

	(void)state;
	memset(arena, 0xEE, 4 * MIB);
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, &r, 1), RVM_OK);
	assert_int_equal(rvm_buddy_alloc(&buddy, 1, 0, &a), RVM_OK);
	p = (uint8_t *)(uintptr_t)a;
	assert_int_equal(p[100], 0xEE); /* untouched without the flag */
	assert_int_equal(rvm_buddy_free(&buddy, a), RVM_OK);
	assert_int_equal(rvm_buddy_alloc(&buddy, 1, RVM_BUDDY_ZERO, &a), RVM_OK);
	p = (uint8_t *)(uintptr_t)a;
	for (size_t i = 0; i < 8192; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(p[8192], 0xEE); /* only the block */
}

/*
 * Property test: 100,000 random allocations and frees of orders 0..6 over three
 * ranges. A per-frame map of live blocks catches any overlap; each block's
 * first and last word hold its id, so a block handed out twice is caught in
 * memory as well. Freeing everything restores the initial free lists.
 */
static void test_random_operations(void **state)
{
	uint8_t *arena = arena_base();
	uint64_t base = (uint64_t)(uintptr_t)arena;
	struct rvm_phys_range r[3] = { { base, 6 * MIB },
				       { base + 7 * MIB + 3 * 4096, 3 * MIB - 3 * 4096 },
				       { base + 12 * MIB, 4 * MIB } };
	struct rvm_buddy_stats st0, st;
	static uint64_t live_addr[4096];
	static unsigned live_order[4096];
	static uint32_t owner[8192]; /* live block id + 1 per frame, 0 = free */
	size_t nlive = 0;
	uint64_t rs = 2024, nomem = 0;

	(void)state;
	memset(&st0, 0, sizeof(st0)); /* padding too: stats are compared bytewise */
	memset(&st, 0, sizeof(st));
	assert_int_equal(rvm_buddy_init(&buddy, frames, 8192, r, 3), RVM_OK);
	rvm_buddy_stats(&buddy, &st0);
	memset(owner, 0, sizeof(owner));
	for (int op = 0; op < 100000; op++) {
		bool do_alloc = nlive == 0 || (nlive < 4096 && rvm_test_rand(&rs) % 100 < 55);

		if (do_alloc) {
			unsigned order = (unsigned)(rvm_test_rand(&rs) % 7);
			uint64_t a;
			uint32_t g;
			enum rvm_err err = rvm_buddy_alloc(&buddy, order, 0, &a);

			if (err == RVM_E_NOMEM) {
				nomem++;
				continue;
			}
			assert_int_equal(err, RVM_OK);
			assert_true(a % (4096ull << order) == 0);
			assert_int_equal(rvm_buddy_frame_index(&buddy, a, &g), RVM_OK);
			for (uint32_t f = 0; f < (1u << order); f++) {
				assert_int_equal(owner[g + f], 0);
				owner[g + f] = (uint32_t)nlive + 1;
			}
			*(uint64_t *)(uintptr_t)a = a;
			*(uint64_t *)(uintptr_t)(a + (4096ull << order) - 8) = a;
			live_addr[nlive] = a;
			live_order[nlive++] = order;
		} else {
			size_t i = rvm_test_rand(&rs) % nlive;
			uint64_t a = live_addr[i];
			unsigned order = live_order[i];
			uint32_t g;

			assert_true(*(uint64_t *)(uintptr_t)a == a);
			assert_true(*(uint64_t *)(uintptr_t)(a + (4096ull << order) - 8) == a);
			assert_int_equal(rvm_buddy_frame_index(&buddy, a, &g), RVM_OK);
			for (uint32_t f = 0; f < (1u << order); f++)
				owner[g + f] = 0;
			assert_int_equal(rvm_buddy_free(&buddy, a), RVM_OK);
			/* Move the last live block into the hole and renumber its frames. */
			nlive--;
			if (i != nlive) {
				live_addr[i] = live_addr[nlive];
				live_order[i] = live_order[nlive];
				assert_int_equal(rvm_buddy_frame_index(&buddy, live_addr[i], &g),
						 RVM_OK);
				for (uint32_t f = 0; f < (1u << live_order[i]); f++)
					owner[g + f] = (uint32_t)i + 1;
			}
		}
		if (op % 5000 == 0)
			assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	}
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	while (nlive)
		assert_int_equal(rvm_buddy_free(&buddy, live_addr[--nlive]), RVM_OK);
	rvm_buddy_stats(&buddy, &st);
	assert_memory_equal(&st, &st0, sizeof(st));
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	print_message("buddy: 100000 random operations, %llu hit RVM_E_NOMEM\n",
		      (unsigned long long)nomem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors), cmocka_unit_test(test_split_and_merge),
		cmocka_unit_test(test_bad_frees),   cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_zero_flag),   cmocka_unit_test(test_random_operations),
		cmocka_unit_test(test_deferred_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
