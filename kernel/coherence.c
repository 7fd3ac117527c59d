/* kernel/coherence.c - the coherence engine's epoch: scores, EMA, cut pressure, decay, degraded
 * mode. */
#include <rvm/bytes.h>
#include <rvm/coherence.h>

void rvm_coh_config_default(struct rvm_coh_config *cfg)
{
	cfg->decay = 9000;
	cfg->alpha = 2500;
	cfg->split_pressure = 8000;
	cfg->merge_mutual = 6000;
	cfg->max_group_size = 64;
	/* coherence_epoch_64 (bench/rows_mincut.c) runs ~2.6 ns per unit on a quiet
	 * x86 core: 20000 units is DC-2's 50 us, 3x what 64 partitions need. */
	cfg->epoch_budget = 20000;
	cfg->overrun_enter = 3;
	cfg->good_exit = 8;
	cfg->enabled = true;
}

static bool config_ok(const struct rvm_coh_config *c)
{
	return c->decay <= RVM_BP_ONE && c->alpha > 0 && c->alpha <= RVM_BP_ONE &&
	       c->split_pressure <= RVM_BP_ONE && c->merge_mutual <= RVM_BP_ONE &&
	       c->max_group_size >= 1 && c->overrun_enter >= 1 && c->good_exit >= 1;
}

/* Lists nodes by group (counting sort) into order/gstart. */
static void rebuild_order(struct rvm_coherence *coh)
{
	uint16_t *gs = coh->gstart;

	for (uint32_t g = 0; g <= RVM_COH_MAX_GROUPS; g++)
		gs[g] = 0;
	for (uint32_t i = 0; i < coh->graph.n; i++)
		if (coh->group[i] != RVM_COH_NO_GROUP)
			gs[coh->group[i] + 1u]++;
	for (uint32_t g = 0; g < RVM_COH_MAX_GROUPS; g++)
		gs[g + 1] = (uint16_t)(gs[g + 1] + gs[g]);
	for (uint32_t i = 0; i < coh->graph.n; i++)
		if (coh->group[i] != RVM_COH_NO_GROUP)
			coh->order[gs[coh->group[i]]++] = (uint16_t)i;
	for (uint32_t g = RVM_COH_MAX_GROUPS; g > 0; g--)
		gs[g] = gs[g - 1];
	gs[0] = 0;
	coh->order_valid = true;
}

enum rvm_err rvm_coh_init(struct rvm_coherence *coh, const struct rvm_coh_config *cfg, uint32_t n)
{
	if (!coh || !cfg || !config_ok(cfg))
		return RVM_E_INVAL;
	if (n > RVM_COH_MAX_NODES)
		return RVM_E_RANGE;
	if (!RVM_HAS_COHERENCE)
		return RVM_E_UNSUPPORTED;
	coh->cfg = *cfg;
	rvm_mincut_graph_init(&coh->graph, n);
	rvm_mincut_graph_init(&coh->sub, 0);
	for (uint32_t i = 0; i < RVM_COH_MAX_NODES; i++)
		coh->group[i] = RVM_COH_NO_GROUP;
	rvm_memset(coh->groups, 0, sizeof(coh->groups));
	coh->epoch = 0;
	coh->next_group = 0;
	coh->overruns = 0;
	coh->good = 0;
	coh->reason = RVM_COH_REASON_NONE;
	coh->degraded = false;
	rebuild_order(coh);
	return RVM_OK;
}

/* Membership changed: the group's filters and cut start over. */
static void group_reset(struct rvm_coh_group *g)
{
	uint16_t size = g->size;

	rvm_memset(g, 0, sizeof(*g));
	g->size = size;
}

enum rvm_err rvm_coh_assign(struct rvm_coherence *coh, uint32_t node, uint32_t group)
{
	uint32_t old;

	if (!coh)
		return RVM_E_INVAL;
	if (node >= coh->graph.n || (group >= RVM_COH_MAX_GROUPS && group != RVM_COH_NO_GROUP))
		return RVM_E_RANGE;
	old = coh->group[node];
	if (old == group)
		return RVM_OK;
	if (old != RVM_COH_NO_GROUP) {
		coh->groups[old].size--;
		group_reset(&coh->groups[old]);
	}
	if (group != RVM_COH_NO_GROUP) {
		coh->groups[group].size++;
		group_reset(&coh->groups[group]);
	}
	coh->group[node] = (uint16_t)group;
	rebuild_order(coh);
	return RVM_OK;
}

enum rvm_err rvm_coh_observe(struct rvm_coherence *coh, uint32_t a, uint32_t b, uint32_t amount)
{
	uint64_t room;
	uint32_t add;
	enum rvm_err err;

	if (!coh)
		return RVM_E_INVAL;
	if (a >= coh->graph.n || b >= coh->graph.n)
		return RVM_E_RANGE;
	if (a == b)
		return RVM_E_INVAL;
	room = RVM_MINCUT_MAX_TOTAL - coh->graph.total;
	add = amount < room ? amount : (uint32_t)room;
	err = rvm_mincut_graph_set(&coh->graph, a, b, coh->graph.w[a][b] + add);
	if (err != RVM_OK)
		return err;
	return add < amount ? RVM_E_OVERFLOW : RVM_OK;
}

void rvm_coh_set_enabled(struct rvm_coherence *coh, bool enabled)
{
	coh->cfg.enabled = enabled;
}

/* Bits of row i above column i, word by word. */
static uint64_t upper_bits(const struct rvm_mincut_graph *g, uint32_t i, uint32_t wd)
{
	uint64_t x = g->nz[i].w[wd];

	if (wd < (i >> 6))
		return 0;
	if (wd == (i >> 6))
		x &= ~(((uint64_t)2 << (i & 63u)) - 1u);
	return x;
}

/* Internal and external weight of every group, and its coherence sample and filter. */
static uint64_t score_groups(struct rvm_coherence *coh)
{
	const struct rvm_mincut_graph *g = &coh->graph;
	uint64_t work = 0;

	/* Only groups with nodes are touched: gstart is 512 bytes, groups[] is 20 KiB. */
	for (uint32_t k = 0; k < RVM_COH_MAX_GROUPS; k++) {
		if (coh->gstart[k + 1] == coh->gstart[k])
			continue;
		coh->groups[k].internal = 0;
		coh->groups[k].external = 0;
	}
	for (uint32_t i = 0; i < g->n; i++) {
		uint32_t gi = coh->group[i];

		for (uint32_t wd = i >> 6; wd < RVM_MINCUT_SET_WORDS; wd++) {
			for (uint64_t x = upper_bits(g, i, wd); x; x &= x - 1) {
				uint32_t j = wd * 64u + rvm_ctz64(x), gj = coh->group[j],
					 w = g->w[i][j];

				if (gi == gj && gi != RVM_COH_NO_GROUP) {
					coh->groups[gi].internal += w;
				} else {
					if (gi != RVM_COH_NO_GROUP)
						coh->groups[gi].external += w;
					if (gj != RVM_COH_NO_GROUP)
						coh->groups[gj].external += w;
				}
				work++;
			}
		}
		work += RVM_MINCUT_SET_WORDS;
	}
	for (uint32_t k = 0; k < RVM_COH_MAX_GROUPS; k++) {
		struct rvm_coh_group *gr = &coh->groups[k];
		uint64_t tot;

		if (coh->gstart[k + 1] == coh->gstart[k])
			continue;
		tot = gr->internal + gr->external;
		gr->coherence_raw = tot ? rvm_bp_ratio(gr->internal, tot) : RVM_BP_ONE;
		gr->coherence =
			gr->primed ? rvm_bp_ema(gr->coherence, gr->coherence_raw, coh->cfg.alpha)
				   : gr->coherence_raw;
		gr->primed = true;
	}
	return work + RVM_COH_MAX_GROUPS;
}

/*
 * The subgraph induced by nodes[0..size) into coh->sub, renumbered 0..size-1.
 * Written directly (the parent graph already keeps every invariant a subgraph
 * needs: symmetric, zero diagonal, total within bounds).
 */
static void copy_subgraph(struct rvm_coherence *coh, const uint16_t *nodes, uint32_t size)
{
	struct rvm_mincut_graph *s = &coh->sub;

	rvm_mincut_graph_reset(s, size);
	for (uint32_t a = 0; a < size; a++) {
		const uint32_t *src = coh->graph.w[nodes[a]];

		for (uint32_t b = a + 1; b < size; b++) {
			uint32_t w = src[nodes[b]];

			if (!w)
				continue;
			s->w[a][b] = w;
			s->w[b][a] = w;
			rvm_nodeset_add(&s->nz[a], b);
			rvm_nodeset_add(&s->nz[b], a);
			s->edges++;
			s->total += w;
		}
	}
}

/* Traffic of node i with nodes of other groups (not k, not outside every group). */
static uint64_t traffic_out(const struct rvm_coherence *coh, uint32_t i, uint32_t k, uint64_t *work)
{
	const struct rvm_mincut_graph *g = &coh->graph;
	uint64_t sum = 0;

	for (uint32_t wd = 0; wd < RVM_MINCUT_SET_WORDS; wd++) {
		for (uint64_t x = g->nz[i].w[wd]; x; x &= x - 1) {
			uint32_t j = wd * 64u + rvm_ctz64(x), gj = coh->group[j];

			if (gj != k && gj != RVM_COH_NO_GROUP)
				sum += g->w[i][j];
			(*work)++;
		}
	}
	*work += RVM_MINCUT_SET_WORDS;
	return sum;
}

/*
 * Min cut of group k's own subgraph and its pressure sample. Returns false
 * (nothing updated) when the budget left cannot pay for it.
 */
static bool cut_group(struct rvm_coherence *coh, uint32_t k, uint64_t left, uint64_t *work)
{
	struct rvm_coh_group *gr = &coh->groups[k];
	const uint16_t *nodes = coh->order + coh->gstart[k];
	uint32_t size = gr->size;
	struct rvm_mincut_result r;
	uint64_t vol_side = 0, vol_rest = 0, build = (uint64_t)size * size;
	uint32_t n_side;
	rvm_bp raw = 0;

	if (size >= 2 && gr->internal > 0) {
		if (build > left)
			return false;
		copy_subgraph(coh, nodes, size);
		*work += build;
		rvm_mincut_solve(&coh->sub, &coh->work, left - build, &r);
		*work += r.work;
		if (r.exhausted)
			return false;
		/* Volumes: summed internal degrees of each side (each edge end counts). */
		for (uint32_t a = 0; a < size; a++) {
			uint64_t d = 0;

			for (uint32_t b = 0; b < size; b++)
				d += coh->sub.w[a][b];
			if (rvm_nodeset_has(&r.side, a))
				vol_side += d;
			else
				vol_rest += d;
		}
		/*
		 * One node against two or more: its internal degree is the cut itself,
		 * so by the sums above it could never leave, however little of its
		 * traffic stays in the group (a teammate stranded when its partner was
		 * quarantined, say). Its volume is then all the traffic it could take
		 * along: the cut plus what it exchanges with other groups. (A pair
		 * keeps the plain rule: it moves whole, by merges.)
		 */
		n_side = rvm_nodeset_count(&r.side);
		for (uint32_t a = 0; size >= 3 && a < size; a++) {
			bool in = rvm_nodeset_has(&r.side, a);

			if (in && n_side == 1)
				vol_side += traffic_out(coh, nodes[a], k, work);
			else if (!in && size - n_side == 1)
				vol_rest += traffic_out(coh, nodes[a], k, work);
		}
		raw = (rvm_bp)(RVM_BP_ONE -
			       rvm_bp_ratio(r.value, vol_side < vol_rest ? vol_side : vol_rest));
		/* Record the smaller side, in node numbers. */
		{
			bool flip = rvm_nodeset_count(&r.side) * 2u > size;

			for (uint32_t w = 0; w < RVM_MINCUT_SET_WORDS; w++)
				gr->side.w[w] = 0;
			for (uint32_t a = 0; a < size; a++)
				if (rvm_nodeset_has(&r.side, a) != flip)
					rvm_nodeset_add(&gr->side, nodes[a]);
		}
		gr->cut_value = r.value;
		gr->cut_valid = true;
	} else {
		gr->cut_valid = false;
		gr->cut_value = 0;
	}
	gr->pressure_raw = raw;
	gr->pressure = rvm_bp_ema(gr->pressure, raw, coh->cfg.alpha);
	return true;
}

/* Multiplies every weight by cfg.decay (floor, so idle edges reach zero and vanish). */
static uint64_t decay_graph(struct rvm_coherence *coh)
{
	struct rvm_mincut_graph *g = &coh->graph;
	uint64_t q = rvm_q16_from_bp(coh->cfg.decay), work = 0;

	for (uint32_t i = 0; i < g->n; i++) {
		for (uint32_t wd = i >> 6; wd < RVM_MINCUT_SET_WORDS; wd++) {
			for (uint64_t x = upper_bits(g, i, wd); x; x &= x - 1) {
				uint32_t j = wd * 64u + rvm_ctz64(x), w = g->w[i][j];
				uint32_t nw = (uint32_t)(((uint64_t)w * q) >> 16);

				g->total -= w - nw;
				g->w[i][j] = nw;
				g->w[j][i] = nw;
				if (nw == 0) {
					g->edges--;
					g->nz[i].w[wd] &= ~((uint64_t)1 << (j & 63u));
					g->nz[j].w[i >> 6] &= ~((uint64_t)1 << (i & 63u));
				}
				work++;
			}
		}
		work += RVM_MINCUT_SET_WORDS;
	}
	return work;
}

/* Check, apply, witness: a mode change only happens if its record can be written. */
static enum rvm_err change_mode(struct rvm_coherence *coh, struct rvm_witness_log *log,
				struct rvm_coh_report *rep, bool enter, uint16_t reason)
{
	uint16_t action = enter ? RVM_ACT_DEGRADED_ENTER : RVM_ACT_DEGRADED_EXIT;
	uint16_t arg = enter ? reason : coh->reason;

	if (log && !rvm_witness_can_emit(log, 1))
		return RVM_E_FULL;
	coh->degraded = enter;
	coh->reason = enter ? reason : RVM_COH_REASON_NONE;
	coh->overruns = 0;
	coh->good = 0;
	rep->event = action;
	rep->reason = arg;
	rep->degraded = enter;
	if (log)
		return rvm_witness_emit(log, action, 0, 0, coh->epoch, arg, coh->epoch, NULL);
	return RVM_OK;
}

enum rvm_err rvm_coh_epoch(struct rvm_coherence *coh, struct rvm_witness_log *log,
			   struct rvm_coh_report *rep)
{
	uint64_t work = 0, budget, limit, reserve;
	uint32_t k, start, seen = 0;
	bool overrun = false;

	if (!coh || !rep)
		return RVM_E_INVAL;
	rvm_memset(rep, 0, sizeof(*rep));
	rep->epoch = ++coh->epoch;
	rep->degraded = coh->degraded;
	if (!RVM_HAS_COHERENCE || !coh->cfg.enabled) {
		/* Disabled: no engine work at all; static placement until re-enabled. */
		coh->good = 0;
		coh->overruns = 0;
		if (!coh->degraded)
			return change_mode(coh, log, rep, true, RVM_COH_REASON_DISABLED);
		return RVM_OK;
	}
	budget = coh->cfg.epoch_budget;
	if (!coh->order_valid)
		rebuild_order(coh);
	work += score_groups(coh);
	/* Keep back what the decay at the end will cost (one pass over rows and edges). */
	reserve = (uint64_t)coh->graph.n * RVM_MINCUT_SET_WORDS + coh->graph.edges;
	limit = budget > reserve ? budget - reserve : 0;
	/* Cut groups round robin from where the last overrun stopped. */
	start = coh->next_group % RVM_COH_MAX_GROUPS;
	for (k = start; seen < RVM_COH_MAX_GROUPS; k = (k + 1) % RVM_COH_MAX_GROUPS, seen++) {
		if (coh->gstart[k + 1] == coh->gstart[k])
			continue;
		if (work >= limit || !cut_group(coh, k, limit - work, &work)) {
			overrun = true;
			coh->next_group = k;
			break;
		}
		rep->scored++;
	}
	if (!overrun)
		coh->next_group = 0;
	work += decay_graph(coh);
	rep->work = work;
	rep->overrun = overrun;
	if (overrun) {
		coh->overruns++;
		coh->good = 0;
	} else {
		coh->good++;
		coh->overruns = 0;
	}
	if (!coh->degraded && coh->overruns >= coh->cfg.overrun_enter)
		return change_mode(coh, log, rep, true, RVM_COH_REASON_OVERRUN);
	if (coh->degraded && coh->good >= coh->cfg.good_exit)
		return change_mode(coh, log, rep, false, RVM_COH_REASON_NONE);
	return RVM_OK;
}

rvm_bp rvm_coh_coherence(const struct rvm_coherence *coh, uint32_t group)
{
	if (!coh || group >= RVM_COH_MAX_GROUPS || !coh->groups[group].primed)
		return RVM_BP_ONE;
	return coh->groups[group].coherence;
}

rvm_bp rvm_coh_pressure(const struct rvm_coherence *coh, uint32_t group)
{
	if (!coh || group >= RVM_COH_MAX_GROUPS || coh->degraded)
		return 0;
	return coh->groups[group].pressure;
}
