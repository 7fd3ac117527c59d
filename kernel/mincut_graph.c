/* kernel/mincut_graph.c - the min-cut input graph: dense weights plus neighbour bitmaps. */
#include <rvm/bytes.h>
#include <rvm/mincut.h>

uint32_t rvm_nodeset_count(const struct rvm_nodeset *s)
{
	uint32_t c = 0;

	/* SWAR popcount: no libgcc helper on targets without a popcount instruction. */
	for (uint32_t i = 0; i < RVM_MINCUT_SET_WORDS; i++) {
		uint64_t x = s->w[i];

		x = x - ((x >> 1) & 0x5555555555555555ull);
		x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
		x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
		c += (uint32_t)((x * 0x0101010101010101ull) >> 56);
	}
	return c;
}

enum rvm_err rvm_mincut_graph_init(struct rvm_mincut_graph *g, uint32_t n)
{
	if (!g)
		return RVM_E_INVAL;
	if (n > RVM_MINCUT_MAX_NODES)
		return RVM_E_RANGE;
	rvm_memset(g, 0, sizeof(*g));
	g->n = n;
	return RVM_OK;
}

enum rvm_err rvm_mincut_graph_reset(struct rvm_mincut_graph *g, uint32_t n)
{
	if (!g)
		return RVM_E_INVAL;
	if (n > RVM_MINCUT_MAX_NODES || g->n > RVM_MINCUT_MAX_NODES)
		return RVM_E_RANGE;
	/* Entries at or beyond the old n are zero already (invariant). */
	for (uint32_t i = 0; i < g->n; i++) {
		for (uint32_t j = 0; j < g->n; j++)
			g->w[i][j] = 0;
		for (uint32_t w = 0; w < RVM_MINCUT_SET_WORDS; w++)
			g->nz[i].w[w] = 0;
	}
	g->n = n;
	g->edges = 0;
	g->total = 0;
	return RVM_OK;
}

enum rvm_err rvm_mincut_graph_set(struct rvm_mincut_graph *g, uint32_t u, uint32_t v,
				  uint32_t weight)
{
	uint32_t old;
	uint64_t total;

	if (!g)
		return RVM_E_INVAL;
	if (u >= g->n || v >= g->n)
		return RVM_E_RANGE;
	if (u == v)
		return RVM_E_INVAL;
	old = g->w[u][v];
	total = g->total - old + weight;
	if (total > RVM_MINCUT_MAX_TOTAL)
		return RVM_E_OVERFLOW;
	g->total = total;
	g->w[u][v] = weight;
	g->w[v][u] = weight;
	if (old == 0 && weight != 0) {
		g->edges++;
		rvm_nodeset_add(&g->nz[u], v);
		rvm_nodeset_add(&g->nz[v], u);
	} else if (old != 0 && weight == 0) {
		g->edges--;
		g->nz[u].w[v >> 6] &= ~((uint64_t)1 << (v & 63u));
		g->nz[v].w[u >> 6] &= ~((uint64_t)1 << (u & 63u));
	}
	return RVM_OK;
}

uint32_t rvm_mincut_graph_get(const struct rvm_mincut_graph *g, uint32_t u, uint32_t v)
{
	if (!g || u >= g->n || v >= g->n)
		return 0;
	return g->w[u][v];
}

uint64_t rvm_mincut_cut_weight(const struct rvm_mincut_graph *g, const struct rvm_nodeset *side)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < g->n; i++) {
		if (!rvm_nodeset_has(side, i))
			continue;
		for (uint32_t j = 0; j < g->n; j++)
			if (!rvm_nodeset_has(side, j))
				sum += g->w[i][j];
	}
	return sum;
}

enum rvm_err rvm_mincut_graph_check(const struct rvm_mincut_graph *g)
{
	uint64_t total = 0;
	uint32_t edges = 0;

	if (!g || g->n > RVM_MINCUT_MAX_NODES)
		return RVM_E_CORRUPT;
	for (uint32_t i = 0; i < RVM_MINCUT_MAX_NODES; i++) {
		for (uint32_t j = 0; j < RVM_MINCUT_MAX_NODES; j++) {
			uint32_t w = g->w[i][j];

			if (w != g->w[j][i] || (w && (i == j || i >= g->n || j >= g->n)))
				return RVM_E_CORRUPT;
			if ((w != 0) != rvm_nodeset_has(&g->nz[i], j))
				return RVM_E_CORRUPT;
			if (i < j && w) {
				edges++;
				total += w;
			}
		}
	}
	if (edges != g->edges || total != g->total || total > RVM_MINCUT_MAX_TOTAL)
		return RVM_E_CORRUPT;
	return RVM_OK;
}
