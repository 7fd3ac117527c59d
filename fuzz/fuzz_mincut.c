/* fuzz/fuzz_mincut.c - libFuzzer: the min-cut solver on arbitrary graphs and budgets, checked
 * exactly. */
#include <stdint.h>
#include <stdlib.h>

#include <rvm/mincut.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rvm_mincut_graph g;
static struct rvm_mincut_work wk;

/* Minimum over every cut (node 0 kept outside the side); n <= 12. */
static uint64_t brute_force(void)
{
	uint64_t best = UINT64_MAX;

	for (uint32_t mask = 1; mask < (1u << (g.n - 1)); mask++) {
		uint64_t cut = 0;

		for (uint32_t i = 0; i < g.n; i++)
			for (uint32_t j = i + 1; j < g.n; j++)
				if ((i > 0 && (mask >> (i - 1)) & 1) != ((mask >> (j - 1)) & 1))
					cut += g.w[i][j];
		if (cut < best)
			best = cut;
	}
	return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rvm_mincut_result r;
	uint64_t budget, min_deg = UINT64_MAX;
	uint32_t n, cnt;

	if (size < 2)
		return 0;
	/* Byte 0: node count 2..100; byte 1: budget (0 = unlimited); then (u, v, w lo, w hi). */
	n = 2u + data[0] % 99u;
	budget = data[1] ? (uint64_t)data[1] * 37u : RVM_MINCUT_UNLIMITED;
	/* reset clears only what the last input used (static g starts all zero). */
	if (rvm_mincut_graph_reset(&g, n) != RVM_OK)
		abort();
	for (size_t p = 2; p + 4 <= size; p += 4) {
		uint32_t u = data[p] % n, v = data[p + 1] % n;
		uint32_t w = (uint32_t)data[p + 2] | (uint32_t)data[p + 3] << 8;

		if (u != v && rvm_mincut_graph_set(&g, u, v, w) != RVM_OK)
			abort();
	}
	if (rvm_mincut_solve(&g, &wk, budget, &r) != RVM_OK)
		abort();
	/* Always a proper side whose cut weighs exactly the value, never above a single node's. */
	cnt = rvm_nodeset_count(&r.side);
	if (cnt < 1 || cnt >= n || rvm_mincut_cut_weight(&g, &r.side) != r.value)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		uint64_t d = 0;

		for (uint32_t j = 0; j < n; j++)
			d += g.w[i][j];
		if (d < min_deg)
			min_deg = d;
	}
	if (r.value > min_deg)
		abort();
	if (!r.exhausted && n <= 12 && r.value != brute_force())
		abort();
	if (budget == RVM_MINCUT_UNLIMITED && r.exhausted)
		abort();
	return 0;
}
