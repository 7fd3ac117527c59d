/* tools/rvm/sim.c - placement on a recorded workload: naive, static, or the real coherence engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int sim_init(struct sim *s, const struct sim_config *cfg, char *msg, size_t msg_len)
{
	struct rvm_coh_config cc;
	enum rvm_err e;

	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (cfg->nodes == 0 || cfg->slots == 0 || cfg->nodes > SIM_MAX_AGENTS ||
	    cfg->slots > SIM_MAX_AGENTS || cfg->epoch_us == 0) {
		snprintf(msg, msg_len, "--nodes and --slots must be 1..%u, --epoch-us > 0",
			 SIM_MAX_AGENTS);
		return -1;
	}
	s->used = calloc(cfg->nodes, sizeof(*s->used));
	if (!s->used) {
		snprintf(msg, msg_len, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < SIM_MAX_AGENTS; i++)
		s->node_of[i] = SIM_NO_NODE;
	rvm_coh_config_default(&cc);
	/*
	 * Partitions start as single agents, so the merge threshold must be
	 * reachable by a pair inside a team of k (mutual about 1/(k-1)): 0.2
	 * merges teams of up to 6 while a 10% cross-team trickle stays apart.
	 * A partition holds at most one node's worth of agents.
	 */
	cc.merge_mutual = 2000;
	cc.max_group_size = cfg->slots;
	s->next_epoch_us = cfg->epoch_us;
	if (cfg->placement == SIM_COHERENCE &&
	    (e = rvm_coh_init(&s->coh, &cc, SIM_MAX_AGENTS)) != RVM_OK) {
		snprintf(msg, msg_len, "coherence engine: %s", rvm_err_str(e));
		return -1;
	}
	return 0;
}

void sim_free(struct sim *s)
{
	free(s->used);
	free(s->epoch_ns);
}

/* A group (partition) number no agent is in. There are as many as agents. */
static uint32_t free_group(const struct sim *s)
{
	for (uint32_t g = 0; g < RVM_COH_MAX_GROUPS; g++)
		if (s->coh.groups[g].size == 0)
			return g;
	return RVM_COH_NO_GROUP; /* unreachable: groups >= agents */
}

static void move_agent(struct sim *s, uint32_t a, uint32_t node)
{
	if (s->node_of[a] == node)
		return;
	s->used[s->node_of[a]]--;
	s->used[node]++;
	s->node_of[a] = node;
	s->res.migrations++;
}

/* Moves every agent of group g to node. */
static void move_group(struct sim *s, uint32_t g, uint32_t node)
{
	for (uint32_t a = 0; a < SIM_MAX_AGENTS; a++)
		if (s->node_of[a] != SIM_NO_NODE && s->coh.group[a] == g)
			move_agent(s, a, node);
}

/*
 * Frees `need` slots on node n by moving whole other partitions (never a or b)
 * to nodes with room, smallest first. Returns false if it cannot.
 */
static bool make_room(struct sim *s, uint32_t n, uint32_t need, uint32_t a, uint32_t b)
{
	while (s->cfg.slots - s->used[n] < need) {
		uint32_t best = RVM_COH_NO_GROUP, best_size = UINT32_MAX, dest = SIM_NO_NODE;

		for (uint32_t x = 0; x < SIM_MAX_AGENTS; x++) {
			uint32_t g = s->coh.group[x];

			if (s->node_of[x] != n || g == RVM_COH_NO_GROUP || g == a || g == b ||
			    s->coh.groups[g].size >= best_size)
				continue;
			for (uint32_t m = 0; m < s->cfg.nodes; m++)
				if (m != n && s->cfg.slots - s->used[m] >= s->coh.groups[g].size) {
					best = g;
					best_size = s->coh.groups[g].size;
					dest = m;
					break;
				}
		}
		if (best == RVM_COH_NO_GROUP)
			return false;
		move_group(s, best, dest);
	}
	return true;
}

/* Applies a merge decision if some node can host the merged partition. */
static bool apply_merge(struct sim *s, const struct rvm_coh_merge *m)
{
	uint32_t size = s->coh.groups[m->a].size + s->coh.groups[m->b].size;
	uint32_t best = SIM_NO_NODE, best_cnt = 0;
	uint32_t *cnt = calloc(s->cfg.nodes, sizeof(*cnt));

	if (!cnt)
		return false;
	for (uint32_t x = 0; x < SIM_MAX_AGENTS; x++)
		if (s->node_of[x] != SIM_NO_NODE &&
		    (s->coh.group[x] == m->a || s->coh.group[x] == m->b))
			cnt[s->node_of[x]]++;
	/* The node already holding most of the pair (fewest migrations) that has room. */
	for (uint32_t n = 0; n < s->cfg.nodes; n++)
		if (s->cfg.slots - s->used[n] + cnt[n] >= size &&
		    (best == SIM_NO_NODE || cnt[n] > best_cnt)) {
			best = n;
			best_cnt = cnt[n];
		}
	/* None: make room on the node holding most of the pair by moving other partitions. */
	if (best == SIM_NO_NODE) {
		for (uint32_t n = 0; n < s->cfg.nodes; n++)
			if (best == SIM_NO_NODE || cnt[n] > best_cnt) {
				best = n;
				best_cnt = cnt[n];
			}
		if (!make_room(s, best, size - cnt[best], m->a, m->b)) {
			free(cnt);
			return false;
		}
	}
	free(cnt);
	move_group(s, m->a, best);
	move_group(s, m->b, best);
	for (uint32_t x = 0; x < SIM_MAX_AGENTS; x++)
		if (s->node_of[x] != SIM_NO_NODE && s->coh.group[x] == m->b)
			(void)rvm_coh_assign(&s->coh, x, m->a);
	s->res.merges++;
	return true;
}

static void epoch(struct sim *s)
{
	struct rvm_coh_report rep;
	uint64_t t0 = now_ns(), dt;

	(void)rvm_coh_epoch(&s->coh, NULL, &rep);
	dt = now_ns() - t0;
	s->res.epochs++;
	if (rep.scored > 0) {
		if (s->epoch_ns_len == s->epoch_ns_cap) {
			uint64_t cap = s->epoch_ns_cap ? s->epoch_ns_cap * 2 : 1024;
			uint64_t *p = realloc(s->epoch_ns, cap * sizeof(*p));

			if (p) {
				s->epoch_ns = p;
				s->epoch_ns_cap = cap;
			}
		}
		if (s->epoch_ns_len < s->epoch_ns_cap)
			s->epoch_ns[s->epoch_ns_len++] = dt;
	}
	if (rep.degraded) {
		s->res.degraded_epochs++;
		return; /* static placement while degraded (DC-6) */
	}
	/* Splits along the min cut: the smaller side becomes a new partition, in place. */
	for (int k = 0; k < 8; k++) {
		struct rvm_coh_split sp;
		uint32_t g;

		if (rvm_coh_decide_split(&s->coh, &sp) != RVM_OK || !sp.split)
			break;
		g = free_group(s);
		for (uint32_t x = 0; x < SIM_MAX_AGENTS; x++)
			if (rvm_nodeset_has(&sp.move, x))
				(void)rvm_coh_assign(&s->coh, x, g);
		s->res.splits++;
	}
	for (int k = 0; k < 64; k++) {
		struct rvm_coh_merge m;

		if (rvm_coh_decide_merge(&s->coh, &m) != RVM_OK || !m.merge || !apply_merge(s, &m))
			break;
	}
}

static int place_new(struct sim *s, uint32_t a, char *msg, size_t msg_len)
{
	uint32_t n = SIM_NO_NODE;

	switch (s->cfg.placement) {
	case SIM_NAIVE:
		for (uint32_t k = 0; k < s->cfg.nodes && n == SIM_NO_NODE; k++) {
			uint32_t c = (s->rr + k) % s->cfg.nodes;

			if (s->used[c] < s->cfg.slots)
				n = c;
		}
		if (n != SIM_NO_NODE)
			s->rr = (n + 1) % s->cfg.nodes;
		break;
	case SIM_STATIC:
		for (uint32_t c = 0; c < s->cfg.nodes && n == SIM_NO_NODE; c++)
			if (s->used[c] < s->cfg.slots)
				n = c;
		break;
	case SIM_COHERENCE:
		/* A new agent is its own partition, on the emptiest node (room to grow). */
		for (uint32_t c = 0; c < s->cfg.nodes; c++)
			if (s->used[c] < s->cfg.slots &&
			    (n == SIM_NO_NODE || s->used[c] < s->used[n]))
				n = c;
		break;
	}
	if (n == SIM_NO_NODE) {
		snprintf(msg, msg_len, "no free slot for a new agent (%u nodes x %u slots)",
			 s->cfg.nodes, s->cfg.slots);
		return -1;
	}
	s->node_of[a] = n;
	s->used[n]++;
	s->trust[a] = 100;
	s->quarantined[a] = false;
	if (s->cfg.placement == SIM_COHERENCE)
		(void)rvm_coh_assign(&s->coh, a, free_group(s));
	return 0;
}

/* Drops an exited agent's traffic so its number can be reused by a new agent. */
static void forget(struct sim *s, uint32_t a)
{
	struct rvm_mincut_graph *g = &s->coh.graph;

	for (uint32_t wd = 0; wd < RVM_MINCUT_SET_WORDS; wd++)
		for (uint64_t x = g->nz[a].w[wd]; x; x &= x - 1)
			(void)rvm_mincut_graph_set(g, a, wd * 64u + rvm_ctz64(x), 0);
	(void)rvm_coh_assign(&s->coh, a, RVM_COH_NO_GROUP);
}

int sim_event(struct sim *s, const struct sim_event *ev, char *msg, size_t msg_len)
{
	bool coh = s->cfg.placement == SIM_COHERENCE;

	if (ev->a >= SIM_MAX_AGENTS || (ev->op == SIM_SEND && ev->b >= SIM_MAX_AGENTS)) {
		snprintf(msg, msg_len, "agent number out of range");
		return -1;
	}
	while (coh && ev->t_us >= s->next_epoch_us) {
		epoch(s);
		s->next_epoch_us += s->cfg.epoch_us;
	}
	if (ev->op != SIM_SPAWN && s->node_of[ev->a] == SIM_NO_NODE) {
		snprintf(msg, msg_len, "agent is not alive");
		return -1;
	}
	switch (ev->op) {
	case SIM_SPAWN:
		if (s->node_of[ev->a] != SIM_NO_NODE) {
			snprintf(msg, msg_len, "agent is already alive");
			return -1;
		}
		return place_new(s, ev->a, msg, msg_len);
	case SIM_SEND:
		if (s->node_of[ev->b] == SIM_NO_NODE) {
			snprintf(msg, msg_len, "receiver is not alive");
			return -1;
		}
		s->res.messages++;
		s->res.bytes += ev->value;
		if (s->node_of[ev->a] != s->node_of[ev->b])
			s->res.remote_bytes += ev->value;
		if (coh && ev->a != ev->b)
			(void)rvm_coh_observe(&s->coh, ev->a, ev->b, ev->value);
		return 0;
	case SIM_TRUST:
		s->trust[ev->a] = ev->value;
		if (!coh)
			return 0;
		if (ev->value < s->cfg.trust_floor && !s->quarantined[ev->a]) {
			/* Below the floor: split out of its partition; no merge takes it back. */
			if (s->coh.groups[s->coh.group[ev->a]].size > 1)
				s->res.splits++;
			(void)rvm_coh_assign(&s->coh, ev->a, RVM_COH_NO_GROUP);
			s->quarantined[ev->a] = true;
		} else if (ev->value >= s->cfg.trust_floor && s->quarantined[ev->a]) {
			(void)rvm_coh_assign(&s->coh, ev->a, free_group(s));
			s->quarantined[ev->a] = false;
		}
		return 0;
	case SIM_EXIT:
		s->used[s->node_of[ev->a]]--;
		s->node_of[ev->a] = SIM_NO_NODE;
		if (coh)
			forget(s, ev->a);
		return 0;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void sim_finish(struct sim *s, struct sim_result *res)
{
	if (s->epoch_ns_len) {
		qsort(s->epoch_ns, s->epoch_ns_len, sizeof(*s->epoch_ns), cmp_u64);
		s->res.mincut_p50_ns = s->epoch_ns[(s->epoch_ns_len - 1) * 50 / 100];
		s->res.mincut_p99_ns = s->epoch_ns[(s->epoch_ns_len - 1) * 99 / 100];
	}
	*res = s->res;
}
