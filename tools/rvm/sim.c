/* tools/rvm/sim.c - placement on a recorded workload: naive, static, or the real coherence engine
 * driving real kernel partitions. */
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

static enum rvm_err kernel_open(struct sim *s);

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
	if (cfg->placement == SIM_COHERENCE && (e = kernel_open(s)) != RVM_OK) {
		snprintf(msg, msg_len, "kernel: %s", rvm_err_str(e));
		sim_free(s);
		return -1;
	}
	return 0;
}

void sim_free(struct sim *s)
{
	free(s->used);
	free(s->epoch_ns);
	s->used = NULL;
	s->epoch_ns = NULL;
	if (s->k) {
		rvm_hosted_close(&s->k->hosted);
		free(s->k);
		s->k = NULL;
	}
}

/* ---- The kernel side: partitions are kernel partitions, agents hold caps in them ---- */

/* New running partition; its pool slot is also its group number in the engine. */
static enum rvm_err part_new(struct sim *s, uint32_t *slot)
{
	struct sim_kernel *k = s->k;
	rvm_obj_id id;
	rvm_cap_t cap;
	enum rvm_err e;

	if ((e = rvm_partition_create(&k->pool, 0, slot, &id, &cap)) != RVM_OK)
		return e;
	if (*slot >= RVM_COH_MAX_GROUPS || *slot >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE; /* the engine numbers at most this many groups */
	k->part_cap[*slot] = cap;
	return rvm_partition_op(&k->pool, 0, cap, RVM_PART_START);
}

/* Agent a joins partition slot: an agent object and a cap to it in the slot's table. */
static enum rvm_err agent_join(struct sim *s, uint32_t a, uint32_t slot)
{
	struct sim_kernel *k = s->k;
	rvm_obj_id oid;
	enum rvm_err e;

	if ((e = rvm_obj_create(&k->objs, RVM_OBJ_AGENT, &oid)) != RVM_OK)
		return e;
	if ((e = rvm_cap_mint(&k->gate, slot, RVM_OBJ_AGENT, oid, RVM_RIGHTS_ALL,
			      &s->agent_cap[a])) != RVM_OK) {
		(void)rvm_obj_destroy(&k->objs, oid);
		return e;
	}
	k->pool.p[slot].agents++;
	s->part_of[a] = slot;
	return RVM_OK;
}

/* Agent a leaves the kernel: its cap and object go; an empty partition is destroyed. */
static void agent_leave(struct sim *s, uint32_t a)
{
	struct sim_kernel *k = s->k;
	uint32_t slot = s->part_of[a];
	const struct rvm_cap *c;

	if (rvm_cap_resolve(&k->caps, slot, s->agent_cap[a], &c) == RVM_OK) {
		rvm_obj_id oid = c->object;

		(void)rvm_cap_delete(&k->gate, slot, s->agent_cap[a]);
		(void)rvm_obj_destroy(&k->objs, oid);
	}
	s->part_of[a] = SIM_NO_PART;
	if (--k->pool.p[slot].agents == 0) {
		(void)rvm_partition_op(&k->pool, 0, k->part_cap[slot], RVM_PART_SUSPEND);
		(void)rvm_partition_op(&k->pool, 0, k->part_cap[slot], RVM_PART_DESTROY);
	}
}

/* Where agent a's cap went if a split or merge moved it out of table `from`. */
static void follow_cap(struct sim *s, uint32_t a, uint32_t from)
{
	uint32_t t;
	rvm_cap_t h;

	if (rvm_cap_moves_find(&s->k->work.moves, from, s->agent_cap[a], &t, &h) == RVM_OK)
		s->agent_cap[a] = h;
}

/*
 * Splits partition slot in the kernel: the agents in move leave for a new
 * partition; each agent's cap follows it by the kernel's scored assignment
 * (each agent uses only its own cap). *to receives the new slot.
 */
static enum rvm_err kernel_split(struct sim *s, uint32_t slot, const struct rvm_nodeset *move,
				 uint32_t cut, uint32_t *to)
{
	struct sim_kernel *k = s->k;
	struct rvm_split_use use[SIM_MAX_AGENTS];
	struct rvm_split_req req = { .cap = k->part_cap[slot], .move = *move, .use = use,
				     .cut_weight = cut };
	struct rvm_split_result out;
	enum rvm_err e;

	for (uint32_t a = 0; a < SIM_MAX_AGENTS; a++)
		if (s->part_of[a] == slot) {
			rvm_nodeset_add(&req.members, a);
			use[req.nuse++] = (struct rvm_split_use){ .handle = s->agent_cap[a],
								  .agent = a,
								  .weight = 1,
								  .kind = RVM_USE_CAP };
		}
	if ((e = rvm_partition_split(&k->env, 0, &req, &out)) != RVM_OK) {
		s->res.kernel_refusals++;
		return e;
	}
	if (out.slot >= RVM_COH_MAX_GROUPS || out.slot >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE;
	k->part_cap[out.slot] = out.cap;
	for (uint32_t a = 0; a < SIM_MAX_AGENTS; a++)
		if (s->part_of[a] == slot && rvm_nodeset_has(move, a)) {
			follow_cap(s, a, slot);
			s->part_of[a] = out.slot;
		}
	*to = out.slot;
	return RVM_OK;
}

/* The partition-level graph the kernel's merge checks: the agent graph summed per partition. */
static void rebuild_partition_graph(struct sim *s)
{
	struct rvm_mincut_graph *pg = &s->k->pcoh.graph, *g = &s->coh.graph;

	(void)rvm_mincut_graph_init(pg, RVM_COH_MAX_NODES);
	for (uint32_t a = 0; a < SIM_MAX_AGENTS; a++)
		for (uint32_t wd = 0; s->part_of[a] != SIM_NO_PART && wd < RVM_MINCUT_SET_WORDS; wd++)
			for (uint64_t x = g->nz[a].w[wd]; x; x &= x - 1) {
				uint32_t b = wd * 64u + rvm_ctz64(x), pa = s->part_of[a];
				uint32_t pb = s->part_of[b];

				if (b > a && pb != SIM_NO_PART && pa != pb && pa < pg->n && pb < pg->n)
					(void)rvm_mincut_graph_set(pg, pa, pb,
								   pg->w[pa][pb] + g->w[a][b]);
			}
}

/* Merges partition from into partition into in the kernel; caps move with their agents. */
static enum rvm_err kernel_merge(struct sim *s, uint32_t from, uint32_t into)
{
	struct sim_kernel *k = s->k;
	struct rvm_merge_limits lim = { .max_agents = s->cfg.slots,
					.max_mem_bytes = UINT64_MAX,
					.min_mutual = s->coh.cfg.merge_mutual };
	enum rvm_err e;

	rebuild_partition_graph(s);
	e = rvm_partition_merge_env(&k->env, 0, k->part_cap[from], k->part_cap[into], &lim);
	if (e != RVM_OK) {
		s->res.kernel_refusals++;
		return e;
	}
	for (uint32_t a = 0; a < SIM_MAX_AGENTS; a++)
		if (s->part_of[a] == from) {
			follow_cap(s, a, from);
			s->part_of[a] = into;
		}
	return RVM_OK;
}

static enum rvm_err kernel_open(struct sim *s)
{
	struct rvm_witness_config wc;
	struct rvm_coh_config cc;
	struct sim_kernel *k;
	enum rvm_err e;

	k = s->k = calloc(1, sizeof(*s->k));
	if (!k)
		return RVM_E_NOMEM;
	if ((e = rvm_hosted_open(&k->hosted, NULL, RVM_HOSTED_QUIET, &k->plat)) != RVM_OK) {
		free(k);
		s->k = NULL;
		return e;
	}
	memset(&wc, 0, sizeof(wc));
	wc.chain = RVM_CHAIN_SHA256;
	wc.sig = RVM_SIG_NONE;
	memset(wc.boot_nonce, 0x51, sizeof(wc.boot_nonce)); /* fixed: runs are reproducible */
	if ((e = rvm_witness_init(&k->wlog, &k->plat, &wc)) != RVM_OK)
		return e;
	rvm_obj_init(&k->objs);
	rvm_cap_space_init(&k->caps, &k->objs, k->plat.sha256);
	rvm_gate_init(&k->gate, &k->caps, &k->wlog, NULL);
	rvm_part_pool_init(&k->pool, &k->gate);
	rvm_coh_config_default(&cc);
	if ((e = rvm_coh_init(&k->pcoh, &cc, RVM_COH_MAX_NODES)) != RVM_OK)
		return e;
	k->env = (struct rvm_reshape_env){ .pp = &k->pool, .coh = &k->pcoh, .work = &k->work };
	for (uint32_t a = 0; a < SIM_MAX_AGENTS; a++)
		s->part_of[a] = SIM_NO_PART;
	return RVM_OK;
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
	/* The kernel merges the two partitions (b into a); it may still refuse. */
	if (kernel_merge(s, m->b, m->a) != RVM_OK)
		return false;
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
		/* The kernel splits the partition along the cut; the engine's group follows. */
		if (kernel_split(s, sp.group, &sp.move, sp.cut_value, &g) != RVM_OK)
			break;
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
	if (s->cfg.placement == SIM_COHERENCE) {
		/* A new agent is a new kernel partition of its own. */
		uint32_t slot;
		enum rvm_err e = part_new(s, &slot);

		if (e == RVM_OK)
			e = agent_join(s, a, slot);
		if (e != RVM_OK) {
			snprintf(msg, msg_len, "kernel refused a partition for a new agent: %s",
				 rvm_err_str(e));
			return -1;
		}
		(void)rvm_coh_assign(&s->coh, a, slot);
	}
	s->node_of[a] = n;
	s->used[n]++;
	s->trust[a] = 100;
	s->quarantined[a] = false;
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
			/* Below the floor: the kernel splits it out into a partition of its own,
			 * which the engine leaves out of every merge until trust recovers. */
			uint32_t slot = s->part_of[ev->a], to;

			if (s->k->pool.p[slot].agents > 1) {
				struct rvm_nodeset one = { { 0 } };

				rvm_nodeset_add(&one, ev->a);
				if (kernel_split(s, slot, &one, 0, &to) != RVM_OK) {
					snprintf(msg, msg_len, "kernel refused the trust split");
					return -1;
				}
				s->res.splits++;
			}
			(void)rvm_coh_assign(&s->coh, ev->a, RVM_COH_NO_GROUP);
			s->quarantined[ev->a] = true;
		} else if (ev->value >= s->cfg.trust_floor && s->quarantined[ev->a]) {
			(void)rvm_coh_assign(&s->coh, ev->a, s->part_of[ev->a]);
			s->quarantined[ev->a] = false;
		}
		return 0;
	case SIM_EXIT:
		s->used[s->node_of[ev->a]]--;
		s->node_of[ev->a] = SIM_NO_NODE;
		if (coh) {
			forget(s, ev->a);
			agent_leave(s, ev->a);
		}
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
	if (s->k)
		s->res.witness_records = s->k->wlog.next_seq;
	if (s->epoch_ns_len) {
		qsort(s->epoch_ns, s->epoch_ns_len, sizeof(*s->epoch_ns), cmp_u64);
		s->res.mincut_p50_ns = s->epoch_ns[(s->epoch_ns_len - 1) * 50 / 100];
		s->res.mincut_p99_ns = s->epoch_ns[(s->epoch_ns_len - 1) * 99 / 100];
	}
	*res = s->res;
}
