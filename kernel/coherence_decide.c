/* kernel/coherence_decide.c - split and merge decisions: pure functions of the graph and
 * thresholds. */
#include <rvm/coherence.h>

/*
 * Walks every edge leaving the nodes of group a: adds its weight to to[group
 * of the other end] (when to is not NULL) and returns the group's traffic,
 * internal edges once plus external edges.
 */
static uint64_t group_edges(const struct rvm_coherence *coh, uint32_t a, uint32_t *to)
{
	const struct rvm_mincut_graph *g = &coh->graph;
	uint64_t deg = 0, inside = 0;

	for (uint32_t p = coh->gstart[a]; p < coh->gstart[a + 1]; p++) {
		uint32_t i = coh->order[p];

		for (uint32_t wd = 0; wd < RVM_MINCUT_SET_WORDS; wd++) {
			for (uint64_t x = g->nz[i].w[wd]; x; x &= x - 1) {
				uint32_t j = wd * 64u + rvm_ctz64(x), gj = coh->group[j],
					 w = g->w[i][j];

				deg += w;
				if (gj == a)
					inside += w;
				else if (to && gj != RVM_COH_NO_GROUP)
					to[gj] += w;
			}
		}
	}
	/* Internal edges were seen from both ends. */
	return deg - inside / 2;
}

/* Weight between groups a and b (a != b). */
static uint64_t between(const struct rvm_coherence *coh, uint32_t a, uint32_t b)
{
	const struct rvm_mincut_graph *g = &coh->graph;
	uint64_t sum = 0;

	for (uint32_t p = coh->gstart[a]; p < coh->gstart[a + 1]; p++)
		for (uint32_t q = coh->gstart[b]; q < coh->gstart[b + 1]; q++)
			sum += g->w[coh->order[p]][coh->order[q]];
	return sum;
}

rvm_bp rvm_coh_mutual(const struct rvm_coherence *coh, uint32_t a, uint32_t b)
{
	if (!coh || a >= RVM_COH_MAX_GROUPS || b >= RVM_COH_MAX_GROUPS || a == b)
		return 0;
	return rvm_bp_ratio(2u * between(coh, a, b),
			    group_edges(coh, a, NULL) + group_edges(coh, b, NULL));
}

enum rvm_err rvm_coh_decide_split(const struct rvm_coherence *coh, struct rvm_coh_split *out)
{
	if (!coh || !out)
		return RVM_E_INVAL;
	out->split = false;
	if (coh->degraded)
		return RVM_E_DEGRADED;
	for (uint32_t k = 0; k < RVM_COH_MAX_GROUPS; k++) {
		const struct rvm_coh_group *g = &coh->groups[k];

		if (g->size < 2 || !g->cut_valid || g->pressure < coh->cfg.split_pressure)
			continue;
		if (out->split && g->pressure <= out->pressure)
			continue;
		out->split = true;
		out->group = (uint16_t)k;
		out->pressure = g->pressure;
		out->cut_value = g->cut_value;
		out->move = g->side;
	}
	return RVM_OK;
}

enum rvm_err rvm_coh_decide_merge(const struct rvm_coherence *coh, struct rvm_coh_merge *out)
{
	/* 2 KiB of stack: traffic of every group, then weight from one group to each other. */
	uint32_t traffic[RVM_COH_MAX_GROUPS], to[RVM_COH_MAX_GROUPS];

	if (!coh || !out)
		return RVM_E_INVAL;
	out->merge = false;
	if (coh->degraded)
		return RVM_E_DEGRADED;
	for (uint32_t k = 0; k < RVM_COH_MAX_GROUPS; k++)
		traffic[k] = coh->groups[k].size ? (uint32_t)group_edges(coh, k, NULL) : 0;
	for (uint32_t a = 0; a < RVM_COH_MAX_GROUPS; a++) {
		if (coh->groups[a].size == 0)
			continue;
		for (uint32_t k = 0; k < RVM_COH_MAX_GROUPS; k++)
			to[k] = 0;
		group_edges(coh, a, to);
		for (uint32_t b = a + 1; b < RVM_COH_MAX_GROUPS; b++) {
			rvm_bp m;

			if (to[b] == 0 ||
			    coh->groups[a].size + coh->groups[b].size > coh->cfg.max_group_size)
				continue;
			m = rvm_bp_ratio(2u * (uint64_t)to[b], (uint64_t)traffic[a] + traffic[b]);
			if (m < coh->cfg.merge_mutual || (out->merge && m <= out->mutual))
				continue;
			out->merge = true;
			out->a = (uint16_t)a;
			out->b = (uint16_t)b;
			out->mutual = m;
		}
	}
	return RVM_OK;
}
