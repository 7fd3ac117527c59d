/* kernel/vmid.c - per-CPU VMID allocation with witnessed least-recently-used reassignment. */
#include <rvm/bytes.h>
#include <rvm/gate.h>
#include <rvm/vmid.h>
#include <rvm/witness.h>

void rvm_vmid_init(struct rvm_vmid_table *t, struct rvm_part_pool *parts)
{
	rvm_memset(t, 0, sizeof(*t));
	rvm_memset(t->vmid_of, 0xff, sizeof(t->vmid_of));
	for (uint32_t c = 0; c < RVM_MAX_CPUS; c++) {
		rvm_memset(t->cpu[c].owner, 0xff, sizeof(t->cpu[c].owner));
		t->cpu[c].running = RVM_VMID_FREE;
	}
	t->parts = parts;
}

struct vmid_op {
	struct rvm_vmid_table *t;
	uint32_t cpu, part, vmid, prev;
};

static void assign_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct vmid_op *op = ctx;
	struct rvm_vmid_cpu *c = &op->t->cpu[op->cpu];

	(void)req;
	if (op->prev != RVM_VMID_FREE) {
		op->t->vmid_of[op->prev][op->cpu] = RVM_VMID_FREE;
		op->t->reassigned++;
	}
	c->owner[op->vmid] = (uint16_t)op->part;
	op->t->vmid_of[op->part][op->cpu] = (uint16_t)op->vmid;
	args[0] = (uint64_t)op->cpu << 16 | op->vmid;
	args[1] = op->prev;
}

/* The VMID to give: a free one, else the least recently used one not running. */
static uint32_t pick(const struct rvm_vmid_cpu *c)
{
	uint32_t best = RVM_VMIDS;

	for (uint32_t v = 0; v < RVM_VMIDS; v++) {
		if (c->owner[v] == RVM_VMID_FREE)
			return v;
		if (c->owner[v] == c->running)
			continue;
		if (best == RVM_VMIDS || c->last_use[v] < c->last_use[best])
			best = v;
	}
	return best;
}

enum rvm_err rvm_vmid_acquire(struct rvm_vmid_table *t, uint32_t cpu, uint32_t part,
			      uint16_t *vmid, bool *flush)
{
	struct vmid_op op = { .t = t, .cpu = cpu, .part = part };
	struct rvm_gate_req req = { .action = RVM_ACT_VMID_ASSIGN,
				    .checks = RVM_GATE_KERNEL,
				    .obj_type = RVM_OBJ_PARTITION,
				    .apply = assign_apply,
				    .ctx = &op };
	struct rvm_vmid_cpu *c;
	const struct rvm_partition *p;
	uint32_t v;
	enum rvm_err e;

	if (!t || !vmid || !flush)
		return RVM_E_INVAL;
	if (cpu >= RVM_MAX_CPUS || part >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE;
	p = &t->parts->p[part];
	if (p->state < RVM_PART_CREATED || p->state > RVM_PART_HIBERNATED)
		return RVM_E_STATE;
	c = &t->cpu[cpu];
	*flush = false;
	v = t->vmid_of[part][cpu];
	if (v == RVM_VMID_FREE) {
		uint16_t was = c->running;

		/* The outgoing partition may lose its VMID now: it is no longer running. */
		c->running = RVM_VMID_FREE;
		v = pick(c);
		op.vmid = v;
		op.prev = c->owner[v];
		req.object = p->id;
		if ((e = rvm_gate_invoke(t->parts->gate, &req)) != RVM_OK) {
			c->running = was; /* no switch happens */
			return e;
		}
		/* A VMID another partition used may still tag TLB entries: flush. */
		*flush = op.prev != RVM_VMID_FREE;
	}
	c->running = (uint16_t)part;
	c->last_use[v] = ++c->clock;
	*vmid = (uint16_t)v;
	return RVM_OK;
}

static void release_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct vmid_op *op = ctx;
	struct rvm_vmid_cpu *c = &op->t->cpu[op->cpu];

	(void)req;
	c->owner[op->vmid] = RVM_VMID_FREE;
	if (c->running == op->part)
		c->running = RVM_VMID_FREE;
	op->t->vmid_of[op->part][op->cpu] = RVM_VMID_FREE;
	args[0] = (uint64_t)op->cpu << 16 | 0xffffu;
	args[1] = op->vmid;
}

enum rvm_err rvm_vmid_release(struct rvm_vmid_table *t, uint32_t part)
{
	if (!t)
		return RVM_E_INVAL;
	if (part >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE;
	for (uint32_t cpu = 0; cpu < RVM_MAX_CPUS; cpu++) {
		struct vmid_op op = { .t = t, .cpu = cpu, .part = part,
				      .vmid = t->vmid_of[part][cpu] };
		struct rvm_gate_req req = { .action = RVM_ACT_VMID_ASSIGN,
					    .checks = RVM_GATE_KERNEL,
					    .obj_type = RVM_OBJ_PARTITION,
					    .object = t->parts->p[part].id,
					    .apply = release_apply,
					    .ctx = &op };
		enum rvm_err e;

		if (op.vmid == RVM_VMID_FREE)
			continue;
		if ((e = rvm_gate_invoke(t->parts->gate, &req)) != RVM_OK)
			return e;
	}
	return RVM_OK;
}

enum rvm_err rvm_vmid_check_invariants(const struct rvm_vmid_table *t)
{
	for (uint32_t cpu = 0; cpu < RVM_MAX_CPUS; cpu++) {
		const struct rvm_vmid_cpu *c = &t->cpu[cpu];

		for (uint32_t v = 0; v < RVM_VMIDS; v++) {
			uint32_t o = c->owner[v];

			if (o == RVM_VMID_FREE)
				continue;
			if (o >= RVM_MAX_PARTITIONS || t->vmid_of[o][cpu] != v)
				return RVM_E_CORRUPT;
		}
		for (uint32_t p = 0; p < RVM_MAX_PARTITIONS; p++) {
			uint32_t v = t->vmid_of[p][cpu];

			if (v != RVM_VMID_FREE && (v >= RVM_VMIDS || c->owner[v] != p))
				return RVM_E_CORRUPT;
		}
	}
	return RVM_OK;
}
