/* kernel/kernel_epoch.c - one coherence epoch of the full kernel: split, merge, migrate, place. */
#include <rvm/bytes.h>
#include <rvm/world.h>

#include "agent_priv.h"
#include "kernel_gpu.h"

/* Splits and merges one epoch may apply: reshaping is gradual, decisions are re-made. */
#define EPOCH_MAX_SPLITS 2u
#define EPOCH_MAX_MERGES 2u
/* Coherence-driven placement of partitions on CPUs at most every this many epochs; the interval
 * doubles (up to EPOCH_PLACE_MAX) while placements gain little, and resets when one pays off. */
#define EPOCH_PLACE_EVERY 10u
#define EPOCH_PLACE_MAX 160u
/* Placement only runs when partition traffic crossing CPUs is at least this share (percent) of
 * all partition traffic: no placement can gain more than that cut. A placement that removes less
 * than this share of the traffic from the cut counts as one that gained little. */
#define EPOCH_PLACE_GAIN_PCT 10u
/* A partition that changed CPU stays put this many epochs before the load balancer moves it. */
#define EPOCH_MIN_DWELL 20u
/* Agent state digests for replay checks (docs/journal.md) every this many epochs. */
#define EPOCH_DIGEST_EVERY 10u

static uint64_t now_rel(const struct rvm_kernel *k)
{
	return rvm_platform_now_ns(k->plat) - k->boot_start_ns;
}

/* Applies a split decision: the agents in sp->move leave for a new partition, through the
 * kernel's gated, witnessed, undoable split. */
static enum rvm_err do_split(struct rvm_kernel *k, const struct rvm_coh_split *sp)
{
	return rvm_kernel_split(k, sp->group, &sp->move, sp->cut_value, NULL);
}

/* Applies a merge decision through the kernel's merge (DC-11 checks on the partition graph). */
static enum rvm_err do_merge(struct rvm_kernel *k, const struct rvm_coh_merge *m)
{
	struct rvm_world *w = k->w;
	uint32_t from = w->parts.p[m->a].agents <= w->parts.p[m->b].agents ? m->a : m->b;
	uint32_t into = from == m->a ? m->b : m->a, moved;
	struct rvm_merge_limits lim = { .max_agents = w->max_group,
					.max_mem_bytes = UINT64_MAX,
					.min_mutual = w->coh.cfg.merge_mutual };
	enum rvm_err err;

	/* GPU contexts that cannot become one (other device or grant) keep the two apart. */
	if ((err = rvm_kernel_gpu_merge_check(w, from, into)) != RVM_OK)
		return err;
	/* The merge moves from's caps into into's table under new handles, and each agent's
	 * move below mints it a fresh cap there: drop the agents' own caps first so the
	 * merged table holds exactly one per agent (re-minted if the merge is refused). */
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].state != RVM_AGENT_FREE && w->agents[i].part == from &&
		    rvm_cap_delete(&w->gate, from, w->agents[i].cap) == RVM_OK)
			w->agents[i].cap = RVM_CAP_NULL;
	err = rvm_partition_merge(&w->parts, &w->pcoh, RVM_CAP_KERNEL_TABLE, w->pcap[from],
				  w->pcap[into], &lim);
	if (err != RVM_OK) {
		for (uint32_t i = 0; i < w->nagents; i++) {
			struct rvm_agent *a = &w->agents[i];

			if (a->state != RVM_AGENT_FREE && a->part == from && a->cap == RVM_CAP_NULL)
				(void)rvm_cap_mint(&w->gate, from, RVM_OBJ_AGENT, a->id, a->rights,
						   &a->cap);
		}
		return err;
	}
	/* The GPU context's caps went with the others: the context follows them. */
	rvm_kernel_gpu_merge_follow(w, from, into);
	(void)rvm_sched_remove(&w->sched, from);
	if (w->mig.active && w->mig.part == from)
		w->mig.active = false;
	/* The merge counted from's agents into `into`; moving each counts it again. */
	moved = 0;
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].state != RVM_AGENT_FREE && w->agents[i].part == from)
			moved++;
	w->parts.p[into].agents -= moved;
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].state != RVM_AGENT_FREE && w->agents[i].part == from)
			(void)rvm_kernel_agent_move(k, i, into);
	(void)rvm_cap_delete(&w->gate, RVM_CAP_KERNEL_TABLE, w->pcap[from]);
	w->pcap[from] = RVM_CAP_NULL;
	w->merges++;
	rvm_kernel_note(w, RVM_ACT_PARTITION_MERGE, from, into, moved);
	return RVM_OK;
}

enum rvm_err rvm_kernel_merge(struct rvm_kernel *k, uint32_t a, uint32_t b)
{
	struct rvm_coh_merge m = { .merge = true, .a = (uint16_t)a, .b = (uint16_t)b };

	if (!k || !k->w || a == b || a < RVM_PART_FIRST || b < RVM_PART_FIRST || a >= RVM_KPARTS ||
	    b >= RVM_KPARTS || !rvm_part_live(k->w, a) || !rvm_part_live(k->w, b))
		return RVM_E_INVAL;
	return do_merge(k, &m);
}

/* Partitions no agent lives in any more (their last agent was split off) are destroyed. */
static void reap(struct rvm_kernel *k)
{
	struct rvm_world *w = k->w;

	for (uint32_t p = RVM_PART_FIRST; p < RVM_KPARTS; p++) {
		struct rvm_partition *pp = &w->parts.p[p];

		if (pp->state != RVM_PART_RUNNING || pp->agents || pp->migrating)
			continue;
		for (uint32_t i = 0; i < w->nagents; i++)
			if (w->agents[i].state != RVM_AGENT_FREE && w->agents[i].part == p)
				goto busy; /* exited agents still hold their place */
		(void)rvm_sched_remove(&w->sched, p);
		rvm_kernel_gpu_reap(w, p); /* no agent left to use its GPU objects */
		(void)rvm_partition_op(&w->parts, RVM_CAP_KERNEL_TABLE, w->pcap[p],
				       RVM_PART_SUSPEND);
		if (rvm_partition_op(&w->parts, RVM_CAP_KERNEL_TABLE, w->pcap[p],
				     RVM_PART_DESTROY) == RVM_OK) {
			(void)rvm_cap_delete(&w->gate, RVM_CAP_KERNEL_TABLE, w->pcap[p]);
			w->pcap[p] = RVM_CAP_NULL;
		}
busy:;
	}
}

uint32_t rvm_kernel_migration_settle(struct rvm_kernel *k)
{
	struct rvm_world *w = k->w;
	uint32_t from = w->mig.from_cpu, to = w->mig.to_cpu, p = w->mig.part, done = 0;

	if (!w->mig.active)
		return 0;
	if (rvm_migrate_finish(&w->parts, &w->sched, &w->mig, now_rel(k) + k->boot_start_ns) ==
	    RVM_OK) {
		w->migrations++;
		if (p < RVM_KPARTS)
			w->moved_epoch[p] = w->epochs;
		done = 1;
		rvm_kernel_note(w, RVM_ACT_PARTITION_MIGRATE, from, to, p);
	}
	w->mig.active = false;
	return done;
}

/* Finishes the migration in flight; begins one where CPU loads differ by more than one. */
static uint32_t migrate(struct rvm_kernel *k)
{
	struct rvm_world *w = k->w;
	uint32_t hi = 0, lo = 0, done = rvm_kernel_migration_settle(k);

	for (uint32_t c = 1; c < w->ncpus; c++) {
		if (w->sched.cpu[c].n > w->sched.cpu[hi].n)
			hi = c;
		if (w->sched.cpu[c].n < w->sched.cpu[lo].n)
			lo = c;
	}
	if (w->sched.cpu[hi].n > w->sched.cpu[lo].n + 1u) {
		/* The partition on the busy CPU with the least traffic to its neighbours there. */
		const struct rvm_sched_cpu *c = &w->sched.cpu[hi];
		uint32_t best = RVM_SCHED_NONE;
		uint64_t best_w = UINT64_MAX;

		for (uint32_t i = 0; i < c->n; i++) {
			uint32_t p = c->q[i].part;
			uint64_t sum = 0;

			if (p < RVM_KPARTS && w->moved_epoch[p] &&
			    w->epochs - w->moved_epoch[p] < EPOCH_MIN_DWELL)
				continue; /* moved lately: let it settle */

			for (uint32_t j = 0; j < c->n && p < RVM_COH_MAX_NODES; j++)
				if (c->q[j].part < RVM_COH_MAX_NODES)
					sum += w->pcoh.graph.w[p][c->q[j].part];
			if (sum < best_w) {
				best_w = sum;
				best = p;
			}
		}
		if (best != RVM_SCHED_NONE)
			(void)rvm_migrate_begin(&w->parts, &w->sched, RVM_CAP_KERNEL_TABLE, w->pcap[best],
						lo, rvm_platform_now_ns(k->plat), &w->mig);
	}
	return done;
}

/* Sums partition traffic between queued partitions: all of it into *total, the part between
 * partitions on different CPUs (the cut placement tries to shrink) is returned. */
static uint64_t place_cut(const struct rvm_world *w, uint64_t *total)
{
	const struct rvm_coherence *g = &w->pcoh;
	uint32_t n = g->graph.n < RVM_MAX_PARTITIONS ? g->graph.n : RVM_MAX_PARTITIONS;
	uint64_t cut = 0;

	*total = 0;
	for (uint32_t a = 0; a < n; a++)
		for (uint32_t b = a + 1; b < n; b++) {
			uint64_t t = g->graph.w[a][b];

			if (!t || w->sched.cpu_of[a] == RVM_SCHED_NONE ||
			    w->sched.cpu_of[b] == RVM_SCHED_NONE)
				continue;
			*total += t;
			if (w->sched.cpu_of[a] != w->sched.cpu_of[b])
				cut += t;
		}
	return cut;
}

/*
 * Re-places partitions on CPUs by their traffic, with hysteresis: not within the current
 * interval of the last run, not when the cut is too small to be worth it, and a run that gains
 * little doubles the interval. Returns the partitions moved.
 */
static uint32_t place(struct rvm_kernel *k)
{
	struct rvm_world *w = k->w;
	uint32_t every = w->place_every ? w->place_every : EPOCH_PLACE_EVERY, moved = 0;
	uint32_t before[RVM_MAX_PARTITIONS];
	uint64_t total, cut, total2, cut2;

	if (w->mig.active || w->epochs - w->place_epoch < every)
		return 0;
	w->place_epoch = w->epochs;
	cut = place_cut(w, &total);
	if (!total || cut * 100u < total * EPOCH_PLACE_GAIN_PCT)
		return 0; /* little traffic crosses CPUs: nothing worth moving for */
	for (uint32_t p = 0; p < RVM_MAX_PARTITIONS; p++)
		before[p] = w->sched.cpu_of[p];
	/* Moves done before a refusal stand: count what changed, not what the call reports. */
	(void)rvm_sched_place(&w->sched, &w->pcoh, w->ncpus, NULL);
	for (uint32_t p = 0; p < RVM_MAX_PARTITIONS; p++)
		if (w->sched.cpu_of[p] != before[p]) {
			moved++;
			if (p < RVM_KPARTS)
				w->moved_epoch[p] = w->epochs;
		}
	cut2 = place_cut(w, &total2);
	if (cut2 > cut || (cut - cut2) * 100u < total * EPOCH_PLACE_GAIN_PCT)
		w->place_every = every * 2u < EPOCH_PLACE_MAX ? every * 2u : EPOCH_PLACE_MAX;
	else
		w->place_every = EPOCH_PLACE_EVERY;
	if (moved)
		rvm_kernel_note(w, RVM_ACT_SCHED_PLACE, 0, w->ncpus, moved);
	return moved;
}

enum rvm_err rvm_kernel_journal_bind_all(struct rvm_kernel *k)
{
	enum rvm_err err = RVM_OK, e;

	if (!k || !k->w)
		return RVM_E_INVAL;
	for (uint32_t i = 0; i < k->w->nagents; i++)
		if ((e = rvm_agent_journal_bind(&k->w->agents[i])) != RVM_OK && err == RVM_OK)
			err = e;
	return err;
}

enum rvm_err rvm_kernel_epoch(struct rvm_kernel *k, struct rvm_epoch_report *rep)
{
	struct rvm_world *w;
	struct rvm_coh_report prep;
	enum rvm_err err;
	uint32_t moved = 0;

	if (!k || !(w = k->w) || !rep)
		return RVM_E_INVAL;
	if (k->state != RVM_KERNEL_RUNNING)
		return RVM_E_STATE;
	rvm_memset(rep, 0, sizeof(*rep));
	/* Every input journaled so far gets its binding record before the epoch moves agents. */
	(void)rvm_kernel_journal_bind_all(k);
	(void)rvm_witness_batch_flush(&k->witness);
	w->epochs++;
	if (RVM_HAS_COHERENCE) {
		err = rvm_coh_epoch(&w->coh, &k->witness, &rep->coh);
		if (err != RVM_OK && err != RVM_E_FULL)
			return err;
		(void)rvm_coh_epoch(&w->pcoh, NULL, &prep);
		for (uint32_t i = 0; i < EPOCH_MAX_SPLITS && !rep->coh.degraded; i++) {
			struct rvm_coh_split sp;

			if (rvm_coh_decide_split(&w->coh, &sp) != RVM_OK || !sp.split ||
			    do_split(k, &sp) != RVM_OK)
				break;
			rep->splits++;
		}
		for (uint32_t i = 0; i < EPOCH_MAX_MERGES && !rep->coh.degraded; i++) {
			struct rvm_coh_merge m;

			if (rvm_coh_decide_merge(&w->coh, &m) != RVM_OK || !m.merge ||
			    do_merge(k, &m) != RVM_OK)
				break;
			rep->merges++;
		}
	}
	reap(k);
	if (w->ncpus > 1) {
		rep->migrations = migrate(k);
		moved = place(k);
		w->migrations += moved;
		rep->migrations += moved;
	}
	for (uint32_t p = RVM_PART_FIRST; p < RVM_KPARTS; p++) {
		uint32_t c = w->sched.cpu_of[p];
		struct rvm_sched_cpu *q = c < RVM_MAX_CPUS ? &w->sched.cpu[c] : NULL;

		for (uint32_t i = 0; q && i < q->n; i++)
			if (q->q[i].part == p)
				q->q[i].pressure = rvm_coh_pressure(&w->coh, p);
	}
	if (w->epochs % EPOCH_DIGEST_EVERY == 0)
		for (uint32_t i = 0; i < w->nagents; i++) {
			struct rvm_agent *a = &w->agents[i];

			/* A running agent's memory is moving under us: it is digested next time. */
			if (a->state == RVM_AGENT_READY && !a->running && a->inst &&
			    rvm_agent_digest(a) != RVM_OK)
				break;
		}
	err = rvm_witness_emit(&k->witness, RVM_ACT_COHERENCE_EPOCH, 0, 0, w->epochs,
			       rep->coh.work, (uint64_t)rep->splits << 32 | rep->merges, NULL);
	if (err == RVM_OK)
		err = rvm_journal_flush(&w->journal);
	if (err == RVM_OK && k->witness.has_sink)
		err = rvm_witness_flush(&k->witness);
	return err;
}
