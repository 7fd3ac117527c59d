/* tests/unit/test_mincut.c - global min cut against brute force and an independent Stoer-Wagner. */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/mincut.h>

/* 264 KiB graph and ~1.6 MiB scratch: static, never on the stack. */
static struct rvm_mincut_graph g;
static struct rvm_mincut_work wk;

/*
 * Random graph: n nodes, each pair an edge with probability pct/100, weights
 * 1..maxw; connect=1 first lays a random spanning tree so the graph is connected.
 */
static void random_graph(uint64_t *seed, uint32_t n, uint32_t pct, uint32_t maxw, int connect)
{
	assert_int_equal(rvm_mincut_graph_init(&g, n), RVM_OK);
	if (connect) {
		for (uint32_t i = 1; i < n; i++) {
			uint32_t j = (uint32_t)(rvm_test_rand(seed) % i);

			assert_int_equal(
				rvm_mincut_graph_set(&g, i, j,
						     (uint32_t)(rvm_test_rand(seed) % maxw) + 1),
				RVM_OK);
		}
	}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++)
			if (rvm_test_rand(seed) % 100 < pct)
				assert_int_equal(
					rvm_mincut_graph_set(
						&g, i, j,
						(uint32_t)(rvm_test_rand(seed) % maxw) + 1),
					RVM_OK);
}

/* Every cut: node 0 stays outside the side, every other subset is tried. */
static uint64_t brute_force(void)
{
	uint32_t n = g.n;
	uint64_t best = UINT64_MAX;

	for (uint32_t mask = 1; mask < (1u << (n - 1)); mask++) {
		uint64_t cut = 0;

		for (uint32_t i = 0; i < n; i++) {
			int in_i = i > 0 && (mask >> (i - 1)) & 1;

			for (uint32_t j = i + 1; j < n; j++) {
				int in_j = (mask >> (j - 1)) & 1;

				if (in_i != in_j)
					cut += g.w[i][j];
			}
		}
		if (cut < best)
			best = cut;
	}
	return best;
}

/*
 * Independent reference: textbook Stoer-Wagner, O(n^3) on a 64-bit matrix,
 * one merge per phase, no contraction shortcuts, written separately from kernel/.
 */
static uint64_t simple_stoer_wagner(void)
{
	uint32_t n = g.n;
	uint64_t *m = malloc(sizeof(uint64_t) * n * n);
	uint64_t *conn = malloc(sizeof(uint64_t) * n);
	char *gone = calloc(n, 1), *added = malloc(n);
	uint64_t best = UINT64_MAX;

	assert_non_null(m);
	assert_non_null(conn);
	assert_non_null(gone);
	assert_non_null(added);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++)
			m[i * n + j] = g.w[i][j];
	for (uint32_t live = n; live > 1; live--) {
		uint32_t prev = n, last = n;

		memset(added, 0, n);
		memset(conn, 0, sizeof(uint64_t) * n);
		for (uint32_t step = 0; step < live; step++) {
			uint32_t pick = n;

			for (uint32_t v = 0; v < n; v++)
				if (!gone[v] && !added[v] && (pick == n || conn[v] > conn[pick]))
					pick = v;
			added[pick] = 1;
			prev = last;
			last = pick;
			for (uint32_t v = 0; v < n; v++)
				if (!gone[v] && !added[v])
					conn[v] += m[pick * n + v];
		}
		if (conn[last] < best)
			best = conn[last];
		/* merge last into prev */
		for (uint32_t v = 0; v < n; v++) {
			m[prev * n + v] += m[last * n + v];
			m[v * n + prev] = m[prev * n + v];
		}
		m[prev * n + prev] = 0;
		gone[last] = 1;
	}
	free(m);
	free(conn);
	free(gone);
	free(added);
	return best;
}

/* The result is a proper, non-empty side whose cut weighs exactly value. */
static void assert_valid_cut(const struct rvm_mincut_result *r)
{
	uint32_t cnt = rvm_nodeset_count(&r->side);

	assert_true(cnt >= 1 && cnt < g.n);
	for (uint32_t i = g.n; i < RVM_MINCUT_MAX_NODES; i++)
		assert_false(rvm_nodeset_has(&r->side, i));
	assert_true(rvm_mincut_cut_weight(&g, &r->side) == r->value);
}

static void test_graph_api(void **state)
{
	(void)state;
	assert_int_equal(rvm_mincut_graph_init(&g, RVM_MINCUT_MAX_NODES + 1), RVM_E_RANGE);
	assert_int_equal(rvm_mincut_graph_init(NULL, 4), RVM_E_INVAL);
	assert_int_equal(rvm_mincut_graph_init(&g, 4), RVM_OK);
	assert_int_equal(rvm_mincut_graph_set(&g, 1, 1, 5), RVM_E_INVAL);
	assert_int_equal(rvm_mincut_graph_set(&g, 0, 4, 5), RVM_E_RANGE);
	assert_int_equal(rvm_mincut_graph_set(&g, 0, 1, 5), RVM_OK);
	assert_int_equal(rvm_mincut_graph_set(&g, 2, 1, 7), RVM_OK);
	assert_int_equal(rvm_mincut_graph_get(&g, 1, 0), 5);
	assert_int_equal(rvm_mincut_graph_get(&g, 1, 2), 7);
	assert_int_equal(rvm_mincut_graph_get(&g, 1, 9), 0);
	assert_int_equal(g.edges, 2);
	assert_true(g.total == 12);
	assert_int_equal(rvm_mincut_graph_check(&g), RVM_OK);
	/* Overflow of the total is refused and leaves the graph as it was. */
	assert_int_equal(rvm_mincut_graph_set(&g, 2, 3, UINT32_MAX), RVM_E_OVERFLOW);
	assert_int_equal(rvm_mincut_graph_get(&g, 2, 3), 0);
	assert_int_equal(rvm_mincut_graph_check(&g), RVM_OK);
	assert_int_equal(rvm_mincut_graph_set(&g, 2, 1, 0), RVM_OK);
	assert_int_equal(g.edges, 1);
	assert_int_equal(rvm_mincut_graph_check(&g), RVM_OK);
	/* A corrupted matrix is caught. */
	g.w[3][0] = 1;
	assert_int_equal(rvm_mincut_graph_check(&g), RVM_E_CORRUPT);
	g.w[3][0] = 0;
	g.total = 99;
	assert_int_equal(rvm_mincut_graph_check(&g), RVM_E_CORRUPT);
}

static void test_solve_bad_input(void **state)
{
	struct rvm_mincut_result r;

	(void)state;
	assert_int_equal(rvm_mincut_graph_init(&g, 1), RVM_OK);
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_E_INVAL);
	assert_int_equal(rvm_mincut_graph_init(&g, 0), RVM_OK);
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_E_INVAL);
	assert_int_equal(rvm_mincut_graph_init(&g, 3), RVM_OK);
	assert_int_equal(rvm_mincut_solve(NULL, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_E_INVAL);
	assert_int_equal(rvm_mincut_solve(&g, NULL, RVM_MINCUT_UNLIMITED, &r), RVM_E_INVAL);
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, NULL), RVM_E_INVAL);
	g.total = RVM_MINCUT_MAX_TOTAL + 1;
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_E_CORRUPT);
	/* Corrupted behind the API's back (bitmaps past n and on the diagonal, an
	 * asymmetric weight): no crash, and still a proper side. */
	for (int dense = 0; dense < 2; dense++) {
		uint64_t seed = 41;

		random_graph(&seed, 100, dense ? 50 : 2, 50, 1);
		for (uint32_t i = 0; i < g.n; i++) {
			g.nz[i].w[3] = ~0ull;
			rvm_nodeset_add(&g.nz[i], i);
		}
		g.w[5][6] += 77;
		assert_int_equal(rvm_mincut_graph_check(&g), RVM_E_CORRUPT);
		assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_OK);
		assert_true(rvm_nodeset_count(&r.side) >= 1 && rvm_nodeset_count(&r.side) < g.n);
		assert_int_equal(r.method, dense ? RVM_MINCUT_DENSE : RVM_MINCUT_SPARSE);
	}
}

static void test_two_clusters(void **state)
{
	struct rvm_mincut_result r;

	(void)state;
	/* Two 5-cliques of weight 100 joined by edges of weight 1 and 2. */
	assert_int_equal(rvm_mincut_graph_init(&g, 10), RVM_OK);
	for (uint32_t i = 0; i < 10; i++)
		for (uint32_t j = i + 1; j < 10; j++)
			if ((i < 5) == (j < 5))
				assert_int_equal(rvm_mincut_graph_set(&g, i, j, 100), RVM_OK);
	assert_int_equal(rvm_mincut_graph_set(&g, 4, 5, 1), RVM_OK);
	assert_int_equal(rvm_mincut_graph_set(&g, 0, 9, 2), RVM_OK);
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_OK);
	assert_int_equal(r.value, 3);
	assert_false(r.exhausted);
	assert_int_equal(rvm_nodeset_count(&r.side), 5);
	for (uint32_t i = 1; i < 5; i++)
		assert_int_equal(rvm_nodeset_has(&r.side, i), rvm_nodeset_has(&r.side, 0));
	/* Disconnected: a cut of weight 0 along the components. */
	assert_int_equal(rvm_mincut_graph_set(&g, 4, 5, 0), RVM_OK);
	assert_int_equal(rvm_mincut_graph_set(&g, 0, 9, 0), RVM_OK);
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_OK);
	assert_int_equal(r.value, 0);
	assert_valid_cut(&r);
	/* No edges at all. */
	assert_int_equal(rvm_mincut_graph_init(&g, 2), RVM_OK);
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_OK);
	assert_int_equal(r.value, 0);
	assert_valid_cut(&r);
}

/* Thousands of random graphs of 2..12 nodes: the value equals the brute-force minimum. */
static void test_brute_force(void **state)
{
	static const uint32_t maxw[] = {1, 3, 10, 1000, 1u << 20};
	uint64_t seed = 0x5eed0001;
	struct rvm_mincut_result r;
	uint32_t zero = 0;

	(void)state;
	for (int t = 0; t < 6000; t++) {
		uint32_t n = 2 + (uint32_t)(rvm_test_rand(&seed) % 11);
		uint32_t pct = (uint32_t)(rvm_test_rand(&seed) % 101);
		uint32_t mw = maxw[rvm_test_rand(&seed) % 5];
		int connect = (int)(rvm_test_rand(&seed) % 4 != 0);

		random_graph(&seed, n, pct, mw, connect);
		assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_OK);
		assert_false(r.exhausted);
		assert_valid_cut(&r);
		if (r.value != brute_force())
			fail_msg("graph %d (n=%u): got %u, brute force %llu", t, n, r.value,
				 (unsigned long long)brute_force());
		zero += r.value == 0;
	}
	/* The mix covers disconnected graphs too. */
	assert_true(zero > 100);
}

/* Random graphs up to 256 nodes, sparse and dense: equal to the independent reference. */
static void test_vs_reference(void **state)
{
	uint64_t seed = 0x5eed0002;
	struct rvm_mincut_result r;
	int dense = 0, sparse = 0;

	(void)state;
	for (int t = 0; t < 120; t++) {
		uint32_t n =
			t < 8 ? 256 - (uint32_t)t * 8 : 13 + (uint32_t)(rvm_test_rand(&seed) % 244);
		/* Alternate average degree ~4, ~n/2, and in between. */
		uint32_t pct = t % 3 == 0 ? 400 / n : (t % 3 == 1 ? 50 : 10);
		uint32_t mw = t % 2 ? 1000 : 20;

		random_graph(&seed, n, pct ? pct : 1, mw, t % 7 != 6);
		assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &r), RVM_OK);
		assert_false(r.exhausted);
		assert_valid_cut(&r);
		if (r.value != simple_stoer_wagner())
			fail_msg("graph %d (n=%u pct=%u): got %u, reference %llu", t, n, pct,
				 r.value, (unsigned long long)simple_stoer_wagner());
		dense += r.method == RVM_MINCUT_DENSE;
		sparse += r.method == RVM_MINCUT_SPARSE;
	}
	/* Both representations were exercised. */
	assert_true(dense > 10 && sparse > 10);
}

/* Heavy cliques on a ring: many phases, so small budgets really cut the run short. */
static void test_budget(void **state)
{
	uint64_t seed = 0x5eed0003;
	struct rvm_mincut_result full, r;
	int short_runs = 0;

	(void)state;
	random_graph(&seed, 200, 30, 1000, 1);
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &full), RVM_OK);
	assert_false(full.exhausted);
	for (uint64_t budget = 0; budget < full.work + 1000; budget += full.work / 16 + 1) {
		assert_int_equal(rvm_mincut_solve(&g, &wk, budget, &r), RVM_OK);
		assert_valid_cut(&r);
		assert_true(r.value >= full.value);
		if (r.exhausted) {
			short_runs++;
			assert_true(r.work <= budget || budget < 200u * 200u + 1000u);
		} else {
			assert_int_equal(r.value, full.value);
		}
	}
	assert_true(short_runs >= 4);
	/* Budget 0 still answers with the lightest single node. */
	assert_int_equal(rvm_mincut_solve(&g, &wk, 0, &r), RVM_OK);
	assert_true(r.exhausted);
	assert_int_equal(rvm_nodeset_count(&r.side), 1);
	assert_valid_cut(&r);
	/* Same on a sparse graph, which takes the adjacency path. */
	random_graph(&seed, 220, 1, 1000, 1);
	assert_int_equal(rvm_mincut_solve(&g, &wk, RVM_MINCUT_UNLIMITED, &full), RVM_OK);
	assert_int_equal(full.method, RVM_MINCUT_SPARSE);
	assert_int_equal(rvm_mincut_solve(&g, &wk, full.work / 2, &r), RVM_OK);
	assert_true(r.exhausted);
	assert_valid_cut(&r);
	assert_true(r.value >= full.value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graph_api),    cmocka_unit_test(test_solve_bad_input),
		cmocka_unit_test(test_two_clusters), cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_vs_reference), cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
