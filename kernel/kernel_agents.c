/* kernel/kernel_agents.c - modules, partitions, agents and channels of the full kernel, all witnessed. */
#include <rvm/bytes.h>
#include <rvm/world.h>
#include <rvm/sha256.h>

#include "agent_priv.h"
#include "recover_priv.h"

static void copy_name(char dst[RVM_AGENT_NAME], const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < RVM_AGENT_NAME && src[i]; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

enum rvm_err rvm_kernel_module_load(struct rvm_kernel *k, const char *name, const uint8_t *bytes,
				    size_t len, void *arena, size_t arena_size, uint8_t rights,
				    uint8_t trust, uint32_t *index, struct rvm_wasm_error *werr)
{
	struct rvm_world *w;
	struct rvm_agent_module *m = NULL;
	uint32_t i;

	if (!k || !(w = k->w) || !name || !bytes || !arena || !index)
		return RVM_E_INVAL;
	for (i = 0; i < RVM_AGENT_MODULES; i++)
		if (!w->modules[i].mod) {
			m = &w->modules[i];
			break;
		}
	if (!m)
		return RVM_E_NOMEM;
	m->mod = rvm_wasm_module_load(bytes, len, arena, arena_size, werr);
	if (!m->mod)
		return werr ? werr->err : RVM_E_MALFORMED;
	rvm_sha256(k->plat->sha256, bytes, len, m->sha);
	copy_name(m->name, name, rvm_strlen(name));
	m->size = (uint32_t)len;
	m->rights = rights;
	m->trust = trust;
	*index = i;
	return RVM_OK;
}

/* The CPU with the fewest queued partitions. */
static uint32_t least_loaded(const struct rvm_world *w)
{
	uint32_t best = 0;

	for (uint32_t c = 1; c < w->ncpus; c++)
		if (w->sched.cpu[c].n < w->sched.cpu[best].n)
			best = c;
	return best;
}

enum rvm_err rvm_kernel_partition_new(struct rvm_kernel *k, uint32_t cpu, uint32_t *slot)
{
	struct rvm_world *w = k->w;
	rvm_obj_id id;
	rvm_cap_t cap;
	uint32_t s;
	enum rvm_err err;

	err = rvm_partition_create(&w->parts, RVM_CAP_KERNEL_TABLE, &s, &id, &cap);
	if (err != RVM_OK)
		return err;
	/* Partitions are coherence groups: their slots must be group numbers. */
	if (s >= RVM_KPARTS) {
		(void)rvm_partition_op(&w->parts, RVM_CAP_KERNEL_TABLE, cap, RVM_PART_DESTROY);
		return RVM_E_NOMEM;
	}
	err = rvm_partition_op(&w->parts, RVM_CAP_KERNEL_TABLE, cap, RVM_PART_START);
	if (err == RVM_OK)
		err = rvm_sched_enqueue(&w->sched, cpu < w->ncpus ? cpu : least_loaded(w), s, 0);
	if (err != RVM_OK)
		return err;
	w->pcap[s] = cap;
	*slot = s;
	return RVM_OK;
}

/* A new instance of a's module in its memory slot, linked, zeroed, nothing called yet. */
static enum rvm_err new_instance(struct rvm_agent *a)
{
	struct rvm_world *w = a->w;
	const struct rvm_agent_module *m = &w->modules[a->module];
	struct rvm_agent_mem *mem = &w->mem[a->num];
	struct rvm_wasm_extern ext[RVM_AGENT_IMPORTS];
	struct rvm_wasm_config cfg = { .memory = mem->memory,
				       .memory_cap = mem->memory_cap,
				       .memory_zeroed = true };
	struct rvm_wasm_error werr;
	enum rvm_err err;

	err = rvm_agent_link(a, m->mod, ext, RVM_AGENT_IMPORTS, NULL);
	if (err != RVM_OK)
		return err;
	/* A restart must not see the old instance's bytes: memory starts zeroed (the
	 * embedder hands it over zeroed; only a used slot needs clearing). */
	if (a->mem_dirty && mem->memory_cap)
		rvm_memset(mem->memory, 0, mem->memory_cap);
	a->mem_dirty = true;
	a->inst = rvm_wasm_instantiate(m->mod, ext, rvm_wasm_module_import_count(m->mod), &cfg,
				       mem->arena, mem->arena_size, &werr, NULL);
	if (!a->inst)
		return werr.err != RVM_OK ? werr.err : RVM_E_LINK;
	return RVM_OK;
}

/* Host-side state of a new life: nothing pending, no fuel used yet. */
static void life_reset(struct rvm_agent *a)
{
	a->yielded = a->waiting = a->fault_pending = false;
	a->sends_ok = 0;
	a->life_fuel = 0;
	a->polls = a->refusals = 0;
}

enum rvm_err rvm_agent_restore(struct rvm_agent *a, const uint8_t *raw, size_t n, bool yielded,
			       uint32_t last_edge)
{
	enum rvm_err err = new_instance(a);

	if (err == RVM_OK)
		err = rvm_wasm_restore(a->inst, raw, n);
	if (err != RVM_OK)
		return err;
	life_reset(a);
	a->yielded = yielded;
	a->last_edge = last_edge;
	return RVM_OK;
}

enum rvm_err rvm_agent_instantiate(struct rvm_agent *a)
{
	struct rvm_wasm_extern run;
	enum rvm_wasm_status st;
	enum rvm_err err = new_instance(a);

	if (err != RVM_OK)
		return err;
	if (rvm_wasm_export(a->inst, "init", 4, &run)) {
		uint64_t args[RVM_AGENT_ARGS];

		for (uint32_t i = 0; i < RVM_AGENT_ARGS; i++)
			args[i] = (uint64_t)a->args[i];
		if (run.kind != RVM_WASM_KIND_FUNC || run.u.func->type->nparams != RVM_AGENT_ARGS)
			return RVM_E_LINK;
		for (uint32_t i = 0; i < RVM_AGENT_ARGS; i++)
			if (run.u.func->type->params[i] != RVM_WASM_I64)
				return RVM_E_LINK;
		if (rvm_wasm_call(a->inst, run.u.func, args, RVM_AGENT_ARGS) != RVM_OK)
			return RVM_E_LINK;
		a->initialising = true;
		st = rvm_wasm_run(a->inst, RVM_AGENT_INIT_FUEL, NULL);
		a->initialising = false;
		if (st != RVM_WASM_DONE) {
			rvm_wasm_reset(a->inst);
			return RVM_E_TRAP;
		}
	}
	if (!rvm_wasm_export(a->inst, "run", 3, &run) || run.kind != RVM_WASM_KIND_FUNC ||
	    run.u.func->type->nparams != 0)
		return RVM_E_LINK;
	life_reset(a);
	return rvm_wasm_call(a->inst, run.u.func, NULL, 0);
}

enum rvm_err rvm_agent_journal_start(struct rvm_agent *a)
{
	uint8_t b[32 + 8 * RVM_AGENT_ARGS + 4];

	/* What a (re)start runs is an input of the replay: module, arguments, rights. */
	rvm_memcpy(b, a->w->modules[a->module].sha, 32);
	for (uint32_t i = 0; i < RVM_AGENT_ARGS; i++)
		rvm_store_le64(b + 32 + 8 * i, (uint64_t)a->args[i]);
	rvm_store_le32(b + 32 + 8 * RVM_AGENT_ARGS, a->rights);
	return rvm_agent_journal(a, RVM_JK_START, a->module, b, sizeof(b));
}

enum rvm_err rvm_agent_journal_resume(struct rvm_agent *a, uint64_t ckpt)
{
	uint8_t b[RVM_JOURNAL_RESUME_LEN];

	/* Where this life starts: the agent's snapshot in checkpoint ckpt, of this module. */
	rvm_store_le64(b, ckpt);
	rvm_memcpy(b + 8, a->w->modules[a->module].sha, 32);
	rvm_store_le32(b + 40, a->rights);
	return rvm_agent_journal(a, RVM_JK_RESUME, a->module, b, sizeof(b));
}

struct spawn_op {
	struct rvm_agent *a;
};

static void spawn_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct spawn_op *op = ctx;

	(void)req;
	op->a->state = RVM_AGENT_READY;
	(void)args;
}

enum rvm_err rvm_kernel_agent_spawn(struct rvm_kernel *k, uint32_t module, const char *name,
				    uint32_t part, uint8_t rights, uint8_t trust,
				    const int64_t args[RVM_AGENT_ARGS], uint32_t *num)
{
	struct rvm_world *w;
	struct rvm_agent *a = NULL;
	struct spawn_op op;
	struct rvm_gate_req req = { .action = RVM_ACT_AGENT_SPAWN,
				    .checks = RVM_GATE_KERNEL,
				    .obj_type = RVM_OBJ_AGENT,
				    .apply = spawn_apply,
				    .ctx = &op };
	enum rvm_err err;

	if (!k || !(w = k->w) || !name || module >= RVM_AGENT_MODULES || !w->modules[module].mod)
		return RVM_E_INVAL;
	if (part >= RVM_MAX_PARTITIONS || w->parts.p[part].state != RVM_PART_RUNNING)
		return RVM_E_STATE;
	for (uint32_t i = 0; i < w->nmem; i++)
		if (w->agents[i].state == RVM_AGENT_FREE && !w->agents[i].inst) {
			a = &w->agents[i];
			break;
		}
	if (!a)
		return RVM_E_NOMEM;
	if ((err = rvm_obj_create(&w->objs, RVM_OBJ_AGENT, &a->id)) != RVM_OK)
		return err;
	a->module = module;
	a->part = part;
	a->rights = rights & RVM_RIGHTS_ALL;
	a->trust = trust;
	a->nout = a->nin = a->rr = 0;
	a->quarantined = a->running = false;
	a->sent = a->received = a->bytes_out = a->fuel = a->slices = a->traps = a->restarts = 0;
	a->logs = 0;
	a->last_log[0] = 0;
	a->last_edge = 0;
	copy_name(a->name, name, rvm_strlen(name));
	for (uint32_t i = 0; i < RVM_AGENT_ARGS; i++)
		a->args[i] = args ? args[i] : 0;
	err = rvm_agent_instantiate(a);
	if (err == RVM_OK)
		err = rvm_cap_mint(&w->gate, part, RVM_OBJ_AGENT, a->id, a->rights, &a->cap);
	if (err == RVM_OK) {
		op.a = a;
		req.object = a->id;
		req.arg0 = module;
		req.arg1 = a->rights;
		err = rvm_gate_invoke(&w->gate, &req);
	}
	if (err != RVM_OK) {
		(void)rvm_obj_destroy(&w->objs, a->id); /* a minted cap goes stale with it */
		a->inst = NULL;
		a->id = RVM_OBJ_NULL;
		a->state = RVM_AGENT_FREE;
		return err;
	}
	w->parts.p[part].agents++;
	if (RVM_HAS_COHERENCE)
		(void)rvm_coh_assign(&w->coh, a->num, part);
	if (a->num >= w->nagents)
		w->nagents = a->num + 1;
	if (num)
		*num = a->num;
	(void)rvm_agent_journal_start(a);
	/* Its input tape starts with its life (kernel_recover.h). */
	rvm_tape_reset(w->rec, a, 0);
	return RVM_OK;
}

enum rvm_err rvm_kernel_connect(struct rvm_kernel *k, uint32_t src, uint32_t dst, uint32_t *chan)
{
	struct rvm_world *w = k->w;
	struct rvm_agent *s, *d;
	struct rvm_chan *c = NULL;
	uint32_t i;

	if (src >= RVM_AGENT_MAX || dst >= RVM_AGENT_MAX || src == dst)
		return RVM_E_INVAL;
	s = &w->agents[src];
	d = &w->agents[dst];
	if (s->state == RVM_AGENT_FREE || d->state == RVM_AGENT_FREE)
		return RVM_E_STATE;
	if (s->nout >= RVM_AGENT_EDGES || d->nin >= RVM_AGENT_EDGES)
		return RVM_E_FULL;
	for (i = 0; i < s->nout; i++)
		if (w->chans[s->out[i]].dst == dst)
			return RVM_E_EXISTS;
	for (i = 0; i < RVM_CHAN_MAX; i++)
		if (!w->chans[i].live) {
			c = &w->chans[i];
			break;
		}
	if (!c)
		return RVM_E_NOMEM;
	rvm_memset(c, 0, sizeof(*c));
	c->live = true;
	c->src = src;
	c->dst = dst;
	s->out[s->nout++] = (uint16_t)i;
	d->in[d->nin++] = (uint16_t)i;
	if (i >= w->nchans)
		w->nchans = i + 1;
	if (chan)
		*chan = i;
	/* Without a free kernel edge the channel stays local: still delivered, in order. */
	(void)rvm_chan_rebind(w, c);
	return RVM_OK;
}

/*
 * Re-binds channel c after one of its ends moved. While a merge moves its agents one by one,
 * the peer may still sit in the merged-away partition, whose cap is already stale: no edge can
 * be built to it and trying is refused (a cap.denied record with E_STALE). Such a channel was
 * local (both ends in that partition) and stays local; the peer's own move re-binds it.
 */
static void rebind(struct rvm_world *w, struct rvm_chan *c, uint32_t peer)
{
	if (c->edge.id == RVM_OBJ_NULL && !rvm_part_live(w, w->agents[peer].part))
		return;
	(void)rvm_chan_rebind(w, c);
}

enum rvm_err rvm_kernel_agent_move(struct rvm_kernel *k, uint32_t num, uint32_t to)
{
	struct rvm_world *w = k->w;
	struct rvm_agent *a;
	uint32_t from;
	rvm_cap_t cap;
	enum rvm_err err;

	if (num >= RVM_AGENT_MAX || to >= RVM_MAX_PARTITIONS)
		return RVM_E_INVAL;
	a = &w->agents[num];
	from = a->part;
	if (a->state == RVM_AGENT_FREE || w->parts.p[to].state != RVM_PART_RUNNING)
		return RVM_E_STATE;
	if (from == to)
		return RVM_OK;
	/* The agent's cap moves with it: a new one in the new table, the old one deleted
	 * (after a merge the old partition and its table are gone already). */
	err = rvm_cap_mint(&w->gate, to, RVM_OBJ_AGENT, a->id, a->rights, &cap);
	if (err != RVM_OK)
		return err;
	if (rvm_part_live(w, from))
		(void)rvm_cap_delete(&w->gate, from, a->cap);
	a->cap = cap;
	a->part = to;
	/* Replay needs every agent's partition at every seq (rvm replay --partition). */
	(void)rvm_witness_emit(&k->witness, RVM_ACT_AGENT_MOVE, 0, 0, num, from, to, NULL);
	if (w->parts.p[from].agents)
		w->parts.p[from].agents--;
	w->parts.p[to].agents++;
	if (RVM_HAS_COHERENCE && !a->quarantined)
		(void)rvm_coh_assign(&w->coh, num, to);
	for (uint32_t i = 0; i < a->nout; i++)
		rebind(w, &w->chans[a->out[i]], w->chans[a->out[i]].dst);
	for (uint32_t i = 0; i < a->nin; i++)
		rebind(w, &w->chans[a->in[i]], w->chans[a->in[i]].src);
	return RVM_OK;
}

enum rvm_err rvm_kernel_set_trust(struct rvm_kernel *k, uint32_t num, uint8_t trust)
{
	struct rvm_world *w = k->w;
	struct rvm_agent *a;
	uint32_t from, to;
	rvm_cap_t cap;
	enum rvm_err err;

	if (num >= RVM_AGENT_MAX || w->agents[num].state == RVM_AGENT_FREE)
		return RVM_E_INVAL;
	a = &w->agents[num];
	a->trust = trust;
	if (trust >= w->trust_floor || a->quarantined)
		return RVM_OK;
	/* Below the floor: a partition of its own (split off through the kernel's split unless it
	 * is alone already), no more spawning, no merge takes it back. */
	from = a->part;
	if (w->parts.p[from].agents > 1) {
		struct rvm_nodeset move = { 0 };

		rvm_nodeset_add(&move, num);
		if ((err = rvm_kernel_split(k, from, &move, 0, &to)) != RVM_OK)
			return err;
	}
	a->quarantined = true;
	if (RVM_HAS_COHERENCE)
		(void)rvm_coh_assign(&w->coh, num, RVM_COH_NO_GROUP);
	a->rights &= (uint8_t)~RVM_AGENT_RIGHT_SPAWN;
	/* Its cap (moved by the split with every right it had) is replaced by one without SPAWN. */
	if ((err = rvm_cap_mint(&w->gate, a->part, RVM_OBJ_AGENT, a->id, a->rights, &cap)) != RVM_OK)
		return err;
	(void)rvm_cap_delete(&w->gate, a->part, a->cap);
	a->cap = cap;
	return RVM_OK;
}

int32_t rvm_agent_spawn_child(struct rvm_agent *parent, const uint8_t *name, uint32_t len,
			      uint32_t *tmpl)
{
	struct rvm_world *w = parent->w;
	struct rvm_kernel *k = w->k;
	char nm[RVM_AGENT_NAME];
	uint32_t t, part, child, out;

	for (t = 0; t < RVM_AGENT_MODULES; t++)
		if (w->modules[t].mod && rvm_strlen(w->modules[t].name) == len &&
		    rvm_memcmp(w->modules[t].name, name, len) == 0)
			break;
	*tmpl = t;
	if (t == RVM_AGENT_MODULES)
		return -2;
	if (parent->nout >= RVM_AGENT_EDGES || parent->nin >= RVM_AGENT_EDGES)
		return -1;
	if (rvm_kernel_partition_new(k, RVM_MAX_CPUS, &part) != RVM_OK)
		return -1;
	copy_name(nm, w->modules[t].name, rvm_strlen(w->modules[t].name));
	if (rvm_kernel_agent_spawn(k, t, nm, part, w->modules[t].rights, w->modules[t].trust,
				   NULL, &child) != RVM_OK) {
		(void)rvm_partition_op(&w->parts, RVM_CAP_KERNEL_TABLE, w->pcap[part],
				       RVM_PART_SUSPEND);
		(void)rvm_sched_remove(&w->sched, part);
		(void)rvm_partition_op(&w->parts, RVM_CAP_KERNEL_TABLE, w->pcap[part],
				       RVM_PART_DESTROY);
		return -1;
	}
	out = parent->nout;
	if (rvm_kernel_connect(k, parent->num, child, NULL) != RVM_OK ||
	    rvm_kernel_connect(k, child, parent->num, NULL) != RVM_OK)
		return -1;
	return (int32_t)out;
}

enum rvm_err rvm_kernel_inject_fault(struct rvm_kernel *k, uint32_t num)
{
	if (!k || !k->w || num >= RVM_AGENT_MAX)
		return RVM_E_INVAL;
	if (k->w->agents[num].state != RVM_AGENT_READY)
		return RVM_E_STATE;
	k->w->agents[num].fault_pending = true;
	k->w->agents[num].waiting = false; /* run it: its next receive takes the fault */
	return RVM_OK;
}

enum rvm_err rvm_agent_flush_counts(struct rvm_agent *a)
{
	uint8_t b[12];
	enum rvm_err err;

	if (a->polls) {
		rvm_store_le32(b, a->polls);
		if ((err = rvm_agent_journal(a, RVM_JK_RECV, RVM_JOURNAL_NO_EDGE, b, 4)) != RVM_OK)
			return err;
		a->polls = 0;
	}
	if (a->refusals || a->sends_ok) {
		rvm_store_le32(b, a->sends_ok);
		rvm_store_le32(b + 4, a->refusals);
		rvm_store_le32(b + 8, (uint32_t)-1);
		if ((err = rvm_agent_journal(a, RVM_JK_SEND, 0, b, 12)) != RVM_OK)
			return err;
		a->refusals = a->sends_ok = 0;
	}
	return RVM_OK;
}

enum rvm_err rvm_agent_digest(struct rvm_agent *a)
{
	struct rvm_agent_mem *mem = &a->w->mem[a->num];
	struct rvm_wasm_memory *m = a->inst ? rvm_wasm_instance_memory(a->inst) : NULL;
	uint8_t b[40];
	enum rvm_err err;

	/* Counts not yet journaled go first, so replay sees every result before the digest. */
	if ((err = rvm_agent_flush_counts(a)) != RVM_OK)
		return err;
	rvm_store_le64(b, a->life_fuel);
	rvm_sha256(a->w->k->plat->sha256, m ? m->data : mem->memory, m ? m->size : 0, b + 8);
	return rvm_agent_journal(a, RVM_JK_DIGEST, 0, b, 40);
}
