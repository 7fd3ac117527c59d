/* kernel/partition_migrate.c - moving a partition between CPUs with a 100 ms timeout and rollback (DC-7). */
#include <rvm/gate.h>
#include <rvm/reshape.h>
#include <rvm/witness.h>

struct mig_op {
	struct rvm_part_pool *pp;
	struct rvm_sched *s;
	struct rvm_migration *m;
	struct rvm_partition *p;
	uint32_t to_cpu;
	uint64_t now_ns;
};

static enum rvm_err begin_check(void *ctx, const struct rvm_gate_req *req,
				const struct rvm_cap *cap)
{
	struct mig_op *op = ctx;
	uint32_t slot, from;

	(void)cap;
	op->p = rvm_partition_find(op->pp, req->object);
	if (!op->p)
		return RVM_E_STALE;
	if (op->p->migrating)
		return RVM_E_BUSY;
	slot = rvm_partition_slot(op->pp, op->p);
	from = op->s->cpu_of[slot];
	if (op->p->state != RVM_PART_RUNNING || from == RVM_SCHED_NONE)
		return RVM_E_STATE;
	if (from == op->to_cpu)
		return RVM_E_INVAL;
	return RVM_OK;
}

static void begin_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct mig_op *op = ctx;
	uint32_t slot = rvm_partition_slot(op->pp, op->p);

	(void)req;
	op->p->migrating = 1;
	op->m->part = slot;
	op->m->from_cpu = op->s->cpu_of[slot];
	op->m->to_cpu = op->to_cpu;
	op->m->started_ns = op->now_ns;
	op->m->active = true;
	args[0] = (uint64_t)op->m->from_cpu << 32 | op->to_cpu;
	args[1] = 0;
}

enum rvm_err rvm_migrate_begin(struct rvm_part_pool *pp, struct rvm_sched *s, uint32_t caller,
			       rvm_cap_t cap, uint32_t to_cpu, uint64_t now_ns,
			       struct rvm_migration *m)
{
	const struct rvm_cap *c;
	struct mig_op op = { .pp = pp, .s = s, .m = m, .to_cpu = to_cpu, .now_ns = now_ns };
	struct rvm_gate_req req = { .action = RVM_ACT_PARTITION_MIGRATE,
				    .checks = RVM_GATE_OWNER,
				    .caller = caller,
				    .cap = cap,
				    .rights = RVM_RIGHT_WRITE,
				    .obj_type = RVM_OBJ_PARTITION,
				    .owner = RVM_OWNER_NONE,
				    .check = begin_check,
				    .apply = begin_apply,
				    .ctx = &op };

	if (!pp || !s || !m || caller >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	if (to_cpu >= RVM_MAX_CPUS)
		return RVM_E_RANGE;
	if (rvm_cap_resolve(pp->gate->caps, caller, cap, &c) == RVM_OK)
		req.object = c->object;
	return rvm_gate_invoke(pp->gate, &req);
}

static enum rvm_err active_check(void *ctx, const struct rvm_gate_req *req,
				 const struct rvm_cap *cap)
{
	struct mig_op *op = ctx;

	(void)req;
	(void)cap;
	return op->m->active ? RVM_OK : RVM_E_STATE;
}

static void abort_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct mig_op *op = ctx;

	(void)req;
	/* Nothing moved before the commit: clearing the flag restores the old state. */
	op->pp->p[op->m->part].migrating = 0;
	op->m->active = false;
	args[0] = (uint64_t)op->m->from_cpu << 32 | op->m->to_cpu;
	args[1] = op->now_ns - op->m->started_ns;
}

enum rvm_err rvm_migrate_abort(struct rvm_part_pool *pp, struct rvm_migration *m,
			       uint64_t now_ns)
{
	struct mig_op op = { .pp = pp, .m = m, .now_ns = now_ns };
	struct rvm_gate_req req = { .action = RVM_ACT_MIGRATE_ABORT,
				    .checks = RVM_GATE_KERNEL,
				    .obj_type = RVM_OBJ_PARTITION,
				    .check = active_check,
				    .apply = abort_apply,
				    .ctx = &op };

	if (!pp || !m)
		return RVM_E_INVAL;
	if (m->active) {
		if (m->part >= RVM_MAX_PARTITIONS || now_ns < m->started_ns)
			return RVM_E_INVAL;
		req.object = pp->p[m->part].id;
	}
	return rvm_gate_invoke(pp->gate, &req);
}

static void commit_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct mig_op *op = ctx;
	struct rvm_sched *s = op->s;
	struct rvm_sched_cpu *from = &s->cpu[op->m->from_cpu], *to = &s->cpu[op->m->to_cpu];
	uint32_t part = op->m->part;

	(void)req;
	for (uint32_t i = 0; i < from->n; i++)
		if (from->q[i].part == part) {
			/* Entries only move, so the target queue always has room. */
			to->q[to->n++] = from->q[i];
			from->q[i] = from->q[--from->n];
			break;
		}
	if (from->current == part)
		from->current = RVM_SCHED_NONE;
	s->cpu_of[part] = op->m->to_cpu;
	op->pp->p[part].migrating = 0;
	op->m->active = false;
	args[0] = (uint64_t)op->m->from_cpu << 32 | op->m->to_cpu;
	args[1] = 1;
}

enum rvm_err rvm_migrate_finish(struct rvm_part_pool *pp, struct rvm_sched *s,
				struct rvm_migration *m, uint64_t now_ns)
{
	struct mig_op op = { .pp = pp, .s = s, .m = m, .now_ns = now_ns };
	struct rvm_gate_req req = { .action = RVM_ACT_PARTITION_MIGRATE,
				    .checks = RVM_GATE_KERNEL,
				    .obj_type = RVM_OBJ_PARTITION,
				    .check = active_check,
				    .apply = commit_apply,
				    .ctx = &op };
	enum rvm_err e;

	if (!pp || !s || !m)
		return RVM_E_INVAL;
	if (!m->active)
		return RVM_E_STATE;
	if (m->part >= RVM_MAX_PARTITIONS || now_ns < m->started_ns)
		return RVM_E_INVAL;
	if (now_ns - m->started_ns >= RVM_MIGRATE_TIMEOUT_NS) {
		e = rvm_migrate_abort(pp, m, now_ns);
		return e == RVM_OK ? RVM_E_TIMEOUT : e;
	}
	req.object = pp->p[m->part].id;
	return rvm_gate_invoke(pp->gate, &req);
}
