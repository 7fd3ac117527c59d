/* tests/unit/test_buddy_model.c - buddy allocator vs a plain eager model: addresses, errors. */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/buddy.h>

#define MODEL_MAX 4096 /* free blocks per order, live blocks */

/*
 * The reference: the documented policy written as simply as possible. Each
 * order's free list is a stack of addresses (top = most recently freed, what
 * alloc takes); alloc splits eagerly, keeping the lower half and pushing the
 * upper ones from the largest down; free merges eagerly while the buddy is on
 * the list of its order and inside the same range. It knows nothing of the
 * allocator's deferred splits, links or bitmasks.
 */
struct model {
	struct rvm_phys_range ranges[RVM_BUDDY_MAX_RANGES];
	size_t nranges;
	uint64_t stack[RVM_BUDDY_ORDERS][MODEL_MAX];
	size_t n[RVM_BUDDY_ORDERS];
	uint64_t live[MODEL_MAX];
	unsigned live_order[MODEL_MAX];
	size_t nlive;
};

static void model_push(struct model *m, unsigned k, uint64_t a)
{
	assert_true(m->n[k] < MODEL_MAX);
	m->stack[k][m->n[k]++] = a;
}

/* Removes a from stack k if it is there. */
static bool model_take(struct model *m, unsigned k, uint64_t a)
{
	for (size_t i = 0; i < m->n[k]; i++) {
		if (m->stack[k][i] == a) {
			memmove(&m->stack[k][i], &m->stack[k][i + 1],
				(m->n[k] - i - 1) * sizeof(uint64_t));
			m->n[k]--;
			return true;
		}
	}
	return false;
}

static const struct rvm_phys_range *model_range(const struct model *m, uint64_t a)
{
	for (size_t i = 0; i < m->nranges; i++)
		if (a >= m->ranges[i].base && a - m->ranges[i].base < m->ranges[i].size)
			return &m->ranges[i];
	return NULL;
}

static void model_init(struct model *m, const struct rvm_phys_range *r, size_t nr)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->ranges, r, nr * sizeof(*r));
	m->nranges = nr;
	for (size_t i = 0; i < nr; i++) {
		for (uint64_t a = r[i].base; a < r[i].base + r[i].size;) {
			unsigned k = RVM_BUDDY_MAX_ORDER;

			while (k > 0 && ((a & ((4096ull << k) - 1)) != 0 ||
					 a + (4096ull << k) > r[i].base + r[i].size))
				k--;
			model_push(m, k, a);
			a += 4096ull << k;
		}
	}
}

/* Smallest order >= order with a free block, or RVM_BUDDY_ORDERS. */
static unsigned model_order(const struct model *m, unsigned order)
{
	while (order < RVM_BUDDY_ORDERS && m->n[order] == 0)
		order++;
	return order;
}

static uint64_t model_alloc(struct model *m, unsigned order)
{
	unsigned k = model_order(m, order);
	uint64_t a;

	a = m->stack[k][--m->n[k]];
	while (k > order) {
		k--;
		model_push(m, k, a + (4096ull << k));
	}
	m->live_order[m->nlive] = order;
	m->live[m->nlive++] = a;
	return a;
}

static void model_free(struct model *m, size_t i)
{
	uint64_t a = m->live[i];
	unsigned k = m->live_order[i];
	const struct rvm_phys_range *r = model_range(m, a);

	m->live[i] = m->live[--m->nlive];
	m->live_order[i] = m->live_order[m->nlive];
	for (; k < RVM_BUDDY_MAX_ORDER; k++) {
		uint64_t size = 4096ull << k, b = a ^ size;

		if (b < r->base || b + size > r->base + r->size || !model_take(m, k, b))
			break;
		a &= ~size;
	}
	model_push(m, k, a);
}

/* The error rvm_buddy_free must give for addr, which is no live block's start. */
static enum rvm_err model_bad_free(const struct model *m, uint64_t addr)
{
	if (!model_range(m, addr))
		return RVM_E_RANGE;
	if (addr & 4095)
		return RVM_E_INVAL;
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		for (size_t i = 0; i < m->n[k]; i++)
			if (m->stack[k][i] == addr)
				return RVM_E_STATE;
	return RVM_E_INVAL;
}

/* Lists, counts and peeks of the allocator equal the model's. */
static void expect_same(const struct rvm_buddy *b, const struct model *m)
{
	struct rvm_buddy_stats st;

	rvm_buddy_stats(b, &st);
	assert_int_equal(st.used_blocks, m->nlive);
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++) {
		unsigned mk = model_order(m, k);
		uint64_t a = 0;

		assert_int_equal(st.free_blocks[k], m->n[k]);
		if (mk == RVM_BUDDY_ORDERS) {
			assert_int_equal(rvm_buddy_peek(b, k, &a), RVM_E_NOMEM);
		} else {
			assert_int_equal(rvm_buddy_peek(b, k, &a), RVM_OK);
			assert_int_equal(a, m->stack[mk][m->n[mk] - 1]);
		}
	}
}

static struct rvm_buddy buddy;
static struct rvm_buddy_frame frames[4096];
static struct model model;

/* A random order, small ones likelier: most allocations split, some exhaust a size. */
static unsigned random_order(uint64_t *rs)
{
	unsigned r = (unsigned)(rvm_test_rand(rs) % 100);

	if (r >= 75)
		return (unsigned)(rvm_test_rand(rs) % RVM_BUDDY_ORDERS);
	return r < 40 ? 0 : r < 60 ? 1 : 2;
}

/*
 * 200,000 random operations (allocations of every order, frees in random
 * order, bad frees, peeks) over odd ranges: every address, every error, every
 * list length and every peek equals the model's, and the invariants hold.
 */
static void test_against_model(void **state)
{
	/* Addresses only (no RVM_BUDDY_ZERO): the ranges need no memory behind them. */
	const uint64_t g = 1ull << 32;
	const struct rvm_phys_range r[3] = { { g + 12 * 4096, 6ull * 1024 * 1024 + 20 * 4096 },
					     { g + 16ull * 1024 * 1024, 4ull * 1024 * 1024 },
					     { g + 24ull * 1024 * 1024 + 4096, 9 * 4096 } };
	uint64_t rs = 77, counts[4] = { 0 };

	(void)state;
	assert_int_equal(rvm_buddy_init(&buddy, frames, 4096, r, 3), RVM_OK);
	model_init(&model, r, 3);
	expect_same(&buddy, &model);
	for (int op = 0; op < 200000; op++) {
		unsigned what = (unsigned)(rvm_test_rand(&rs) % 100);

		if (what < 50 && model.nlive < MODEL_MAX) {
			unsigned order = random_order(&rs);
			uint64_t a = 0;
			enum rvm_err err = rvm_buddy_alloc(&buddy, order, 0, &a);

			if (model_order(&model, order) == RVM_BUDDY_ORDERS) {
				assert_int_equal(err, RVM_E_NOMEM);
				counts[1]++;
			} else {
				assert_int_equal(err, RVM_OK);
				assert_int_equal(a, model_alloc(&model, order));
				counts[0]++;
			}
		} else if (what < 95 && model.nlive > 0) {
			size_t i = rvm_test_rand(&rs) % model.nlive;
			uint64_t a = model.live[i];
			unsigned order = 99;

			assert_int_equal(rvm_buddy_block_order(&buddy, a, &order), RVM_OK);
			assert_int_equal(order, model.live_order[i]);
			assert_int_equal(rvm_buddy_free(&buddy, a), RVM_OK);
			model_free(&model, i);
			counts[2]++;
		} else {
			/*
			 * A frame-aligned (or not) address near the ranges that is no live
			 * block, or the head of the newest free block of some order: right
			 * after a split, that is a half the allocator has not written yet.
			 */
			uint64_t a = g + (rvm_test_rand(&rs) % (26ull * 256)) * 4096 +
				     (rvm_test_rand(&rs) % 8 == 0 ? 8 : 0);
			unsigned k = (unsigned)(rvm_test_rand(&rs) % RVM_BUDDY_ORDERS);
			bool live = false;

			if (rvm_test_rand(&rs) % 2 && model.n[k] > 0)
				a = model.stack[k][model.n[k] - 1];

			for (size_t i = 0; i < model.nlive; i++)
				live |= model.live[i] == a;
			if (live)
				continue;
			assert_int_equal(rvm_buddy_free(&buddy, a), model_bad_free(&model, a));
			counts[3]++;
		}
		expect_same(&buddy, &model);
		if (op % 1000 == 0)
			assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	}
	/* Free everything in random order: the initial tiling comes back. */
	while (model.nlive) {
		size_t i = rvm_test_rand(&rs) % model.nlive;

		assert_int_equal(rvm_buddy_free(&buddy, model.live[i]), RVM_OK);
		model_free(&model, i);
		expect_same(&buddy, &model);
	}
	assert_int_equal(rvm_buddy_check_invariants(&buddy), RVM_OK);
	assert_int_equal(buddy.free_frames, buddy.total_frames);
	print_message("buddy model: %llu allocs, %llu NOMEM, %llu frees, %llu bad frees\n",
		      (unsigned long long)counts[0], (unsigned long long)counts[1],
		      (unsigned long long)counts[2], (unsigned long long)counts[3]);
	assert_true(counts[0] > 1000 && counts[1] > 1000 && counts[2] > 1000 && counts[3] > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
