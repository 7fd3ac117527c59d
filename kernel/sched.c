/* kernel/sched.c - per-CPU run queues with Reflex (EDF) and Flow (priority) picking, and the
 * SMP coordinator that places partitions along the coherence graph. */
#include <rvm/bytes.h>
#include <rvm/gate.h>
#include <rvm/sched.h>
#include <rvm/witness.h>

#define PLACE_NONE 0xffu
_Static_assert(RVM_MAX_CPUS < PLACE_NONE, "cpu numbers must fit the placement scratch");

void rvm_sched_config_default(struct rvm_sched_config *cfg)
{
	cfg->horizon_ns = 10000000u;
	cfg->boost = 2500;
}

void rvm_sched_init(struct rvm_sched *s, struct rvm_part_pool *parts,
		    const struct rvm_sched_config *cfg)
{
	rvm_memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->parts = parts;
	for (uint32_t p = 0; p < RVM_MAX_PARTITIONS; p++)
		s->cpu_of[p] = RVM_SCHED_NONE;
	for (uint32_t c = 0; c < RVM_MAX_CPUS; c++)
		s->cpu[c].current = RVM_SCHED_NONE;
}

uint32_t rvm_sched_priority(const struct rvm_sched_config *cfg, uint64_t now_ns,
			    uint64_t deadline_ns, rvm_bp pressure)
{
	uint32_t urgency, boost;
	uint64_t left;

	if (deadline_ns <= now_ns || cfg->horizon_ns == 0) {
		urgency = RVM_BP_ONE;
	} else {
		left = deadline_ns - now_ns;
		/* left < horizon here, so the quotient is < 10000 and the product fits 64 bits
		 * for horizons below 2^50 ns (13 days). */
		urgency = left >= cfg->horizon_ns
				  ? 0
				  : RVM_BP_ONE - (uint32_t)(left * RVM_BP_ONE / cfg->horizon_ns);
	}
	boost = (uint32_t)(pressure > RVM_BP_ONE ? RVM_BP_ONE : pressure) * cfg->boost / RVM_BP_ONE;
	return urgency + boost;
}

uint32_t rvm_sched_age(const struct rvm_sched_config *cfg, uint64_t now_ns, uint64_t last_run_ns)
{
	uint64_t d, whole;

	if (now_ns <= last_run_ns || cfg->horizon_ns == 0)
		return 0;
	d = now_ns - last_run_ns;
	whole = d / cfg->horizon_ns;
	if (whole >= RVM_SCHED_AGE_MAX / RVM_BP_ONE)
		return RVM_SCHED_AGE_MAX;
	/* The remainder is below the horizon: the product fits 64 bits for horizons < 2^50 ns. */
	return (uint32_t)(whole * RVM_BP_ONE +
			  (d % cfg->horizon_ns) * RVM_BP_ONE / cfg->horizon_ns);
}

void rvm_sched_set_mode(struct rvm_sched *s, uint32_t cpu, enum rvm_sched_mode mode)
{
	if (cpu < RVM_MAX_CPUS)
		s->cpu[cpu].mode = (uint8_t)mode;
}

static struct rvm_sched_entry *entry_of(struct rvm_sched *s, uint32_t part)
{
	struct rvm_sched_cpu *c;

	if (part >= RVM_MAX_PARTITIONS || s->cpu_of[part] == RVM_SCHED_NONE)
		return NULL;
	c = &s->cpu[s->cpu_of[part]];
	for (uint32_t i = 0; i < c->n; i++)
		if (c->q[i].part == part)
			return &c->q[i];
	return NULL; /* unreachable while the invariant holds */
}

enum rvm_err rvm_sched_enqueue(struct rvm_sched *s, uint32_t cpu, uint32_t part,
			       uint64_t deadline_ns)
{
	struct rvm_sched_cpu *c;

	if (!s)
		return RVM_E_INVAL;
	if (cpu >= RVM_MAX_CPUS || part >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE;
	if (s->parts->p[part].state != RVM_PART_RUNNING)
		return RVM_E_STATE;
	if (s->cpu_of[part] != RVM_SCHED_NONE)
		return RVM_E_EXISTS;
	c = &s->cpu[cpu];
	if (c->n == RVM_SCHED_QUEUE)
		return RVM_E_FULL;
	c->q[c->n] = (struct rvm_sched_entry){ .deadline_ns = deadline_ns, .part = part };
	c->n++;
	s->cpu_of[part] = cpu;
	return RVM_OK;
}

/* Takes entry i off cpu c's queue (order is not kept: picking never depends on it). */
static void take(struct rvm_sched *s, uint32_t c, uint32_t i)
{
	struct rvm_sched_cpu *q = &s->cpu[c];
	uint32_t part = q->q[i].part;

	q->q[i] = q->q[--q->n];
	s->cpu_of[part] = RVM_SCHED_NONE;
	if (q->current == part)
		q->current = RVM_SCHED_NONE;
}

enum rvm_err rvm_sched_remove(struct rvm_sched *s, uint32_t part)
{
	struct rvm_sched_entry *e;

	if (!s)
		return RVM_E_INVAL;
	if (!(e = entry_of(s, part)))
		return RVM_E_NOTFOUND;
	take(s, s->cpu_of[part], (uint32_t)(e - s->cpu[s->cpu_of[part]].q));
	return RVM_OK;
}

enum rvm_err rvm_sched_update(struct rvm_sched *s, uint32_t part, uint64_t deadline_ns,
			      rvm_bp pressure)
{
	struct rvm_sched_entry *e;

	if (!s)
		return RVM_E_INVAL;
	if (!(e = entry_of(s, part)))
		return RVM_E_NOTFOUND;
	e->deadline_ns = deadline_ns;
	e->pressure = pressure;
	return RVM_OK;
}

enum rvm_err rvm_sched_pick(struct rvm_sched *s, uint32_t cpu, uint64_t now_ns, uint32_t *part)
{
	struct rvm_sched_cpu *c;
	uint32_t best = RVM_SCHED_NONE, best_prio = 0;

	if (!s || !part)
		return RVM_E_INVAL;
	if (cpu >= RVM_MAX_CPUS)
		return RVM_E_RANGE;
	c = &s->cpu[cpu];
	if (c->n == 0)
		return RVM_E_EMPTY;
	for (uint32_t i = 0; i < c->n; i++) {
		const struct rvm_sched_entry *e = &c->q[i];
		uint32_t pr;

		if (c->mode == RVM_SCHED_REFLEX) {
			if (best == RVM_SCHED_NONE || e->deadline_ns < c->q[best].deadline_ns)
				best = i;
			continue;
		}
		/* Age keeps Flow starvation-free: pressure tilts the share, never takes it all. */
		pr = rvm_sched_priority(&s->cfg, now_ns, e->deadline_ns, e->pressure) +
		     rvm_sched_age(&s->cfg, now_ns, e->last_run_ns);
		if (best == RVM_SCHED_NONE || pr > best_prio ||
		    (pr == best_prio && e->last_run_ns < c->q[best].last_run_ns)) {
			best = i;
			best_prio = pr;
		}
	}
	if (c->mode == RVM_SCHED_REFLEX && c->q[best].deadline_ns < now_ns)
		c->misses++;
	if (c->current != c->q[best].part)
		c->switches++;
	c->current = c->q[best].part;
	c->q[best].last_run_ns = now_ns;
	*part = c->current;
	return RVM_OK;
}

enum rvm_err rvm_sched_ran(struct rvm_sched *s, uint32_t part, uint64_t now_ns)
{
	struct rvm_sched_entry *e;

	if (!s)
		return RVM_E_INVAL;
	if (!(e = entry_of(s, part)))
		return RVM_E_NOTFOUND;
	e->last_run_ns = now_ns;
	return RVM_OK;
}

/* Traffic between partition slots a and b in the coherence graph (0 beyond its nodes). */
static uint32_t traffic(const struct rvm_coherence *coh, uint32_t a, uint32_t b)
{
	if (!coh || a >= coh->graph.n || b >= coh->graph.n)
		return 0;
	return coh->graph.w[a][b];
}

static uint64_t total_traffic(const struct rvm_coherence *coh, uint32_t a)
{
	uint64_t sum = 0;

	if (!coh || a >= coh->graph.n)
		return 0;
	for (uint32_t wd = 0; wd < RVM_MINCUT_SET_WORDS; wd++)
		for (uint64_t x = coh->graph.nz[a].w[wd]; x; x &= x - 1)
			sum += coh->graph.w[a][wd * 64u + rvm_ctz64(x)];
	return sum;
}

struct place_op {
	struct rvm_sched *s;
	uint32_t part, from, to;
};

static void place_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct place_op *op = ctx;
	struct rvm_sched *s = op->s;
	struct rvm_sched_entry e = *entry_of(s, op->part); /* queued: checked by the caller */
	struct rvm_sched_cpu *to = &s->cpu[op->to];

	(void)req;
	take(s, op->from, (uint32_t)(entry_of(s, op->part) - s->cpu[op->from].q));
	/* Entries only move between queues, so no queue ever holds more than all of them. */
	to->q[to->n++] = e;
	s->cpu_of[op->part] = op->to;
	args[0] = op->from;
	args[1] = op->to;
}

enum rvm_err rvm_sched_place(struct rvm_sched *s, const struct rvm_coherence *coh,
			     uint32_t ncpus, uint32_t *moved)
{
	uint32_t total = 0, cap, load[RVM_MAX_CPUS], n = 0;

	if (!s)
		return RVM_E_INVAL;
	if (ncpus == 0 || ncpus > RVM_MAX_CPUS)
		return RVM_E_RANGE;
	if (moved)
		*moved = 0;
	for (uint32_t c = 0; c < RVM_MAX_CPUS; c++)
		total += s->cpu[c].n;
	cap = (total + ncpus - 1) / ncpus;
	for (uint32_t c = 0; c < ncpus; c++)
		load[c] = 0;
	for (uint32_t p = 0; p < RVM_MAX_PARTITIONS; p++)
		s->place_to[p] = PLACE_NONE;
	/* Greedy: heaviest unplaced partition to the CPU it talks to most; on a tie it stays
	 * where it is, so a placement with nothing to gain moves nothing. */
	for (uint32_t k = 0; k < total; k++) {
		uint32_t pick = RVM_SCHED_NONE, best_cpu = 0, here;
		uint64_t pick_w = 0, best_aff = 0;

		for (uint32_t p = 0; p < RVM_MAX_PARTITIONS; p++) {
			uint64_t w;

			if (s->cpu_of[p] == RVM_SCHED_NONE || s->place_to[p] != PLACE_NONE)
				continue;
			w = total_traffic(coh, p);
			if (pick == RVM_SCHED_NONE || w > pick_w) {
				pick = p;
				pick_w = w;
			}
		}
		here = s->cpu_of[pick];
		for (uint32_t c = 0, first = 1; c < ncpus; c++) {
			uint64_t aff = 0;

			if (load[c] >= cap)
				continue;
			for (uint32_t i = 0; i < RVM_MAX_PARTITIONS; i++)
				if (s->place_to[i] == c)
					aff += traffic(coh, pick, i);
			if (first || aff > best_aff ||
			    (aff == best_aff && best_cpu != here &&
			     (c == here || load[c] < load[best_cpu]))) {
				best_cpu = c;
				best_aff = aff;
				first = 0;
			}
		}
		s->place_to[pick] = (uint8_t)best_cpu;
		load[best_cpu]++;
	}
	for (uint32_t p = 0; p < RVM_MAX_PARTITIONS; p++) {
		struct place_op op = { .s = s, .part = p, .from = s->cpu_of[p], .to = s->place_to[p] };
		struct rvm_gate_req req = { .action = RVM_ACT_SCHED_PLACE,
					    .checks = RVM_GATE_KERNEL,
					    .obj_type = RVM_OBJ_PARTITION,
					    .object = s->parts->p[p].id,
					    .apply = place_apply,
					    .ctx = &op };
		enum rvm_err e;

		if (op.from == RVM_SCHED_NONE || op.from == op.to)
			continue;
		if ((e = rvm_gate_invoke(s->parts->gate, &req)) != RVM_OK)
			return e;
		n++;
		if (moved)
			*moved = n;
	}
	return RVM_OK;
}
