/* kernel/kernel_recover.c - the swarm's fault recovery: agent traps go through rvm_recovery_handle,
 * with the ops that restart, roll back, snapshot and stop agents. */
#include <rvm/bytes.h>
#include <rvm/kernel_recover.h>

#include "agent_priv.h"
#include "kernel_gpu.h"
#include "recover_priv.h"

/*
 * A new life for agent a: from its snapshot blob in checkpoint ckpt (RESUME journaled), or,
 * with no blob, from its module (START journaled). A blob that does not restore is an error
 * (the fault escalates), never quietly replaced by a fresh start.
 */
static enum rvm_err restart(struct rvm_kernel_recovery *r, struct rvm_agent *a, uint64_t ckpt,
			    const uint8_t *blob, size_t len)
{
	struct rvm_snapblob_info info;
	enum rvm_err err;

	/* Its GPU objects go back with its memory (or go, for a fresh start). */
	rvm_agent_gpu_restart(a, blob, len);
	if (a->inst)
		rvm_wasm_reset(a->inst);
	if (!blob) {
		err = rvm_agent_instantiate(a);
		if (err != RVM_OK)
			return err;
		r->from_module++;
		(void)rvm_agent_journal_start(a);
		return RVM_OK;
	}
	err = rvm_snapblob_decode(r->k->plat->sha256, blob, len, r->raw, r->rawcap, &info);
	if (err == RVM_OK)
		err = rvm_agent_restore(a, r->raw, (size_t)info.raw_len,
					(info.flags & RVM_SNAPBLOB_YIELDED) != 0, info.last_edge);
	if (err != RVM_OK) {
		r->last_err = err;
		return err;
	}
	r->from_snapshot++;
	(void)rvm_agent_journal_resume(a, ckpt);
	return RVM_OK;
}

static enum rvm_err op_agent_restart(void *ctx, uint32_t partition, uint32_t agent,
				     const uint8_t *snap, size_t len)
{
	struct rvm_kernel_recovery *r = ctx;

	(void)partition;
	if (agent >= RVM_AGENT_MAX)
		return RVM_E_INVAL;
	return restart(r, &r->k->w->agents[agent], r->rec.from_ckpt, snap, len);
}

/* Nothing of the partition may be running but the faulting agent (which is in our hands). */
static enum rvm_err op_quiesce(void *ctx, uint32_t partition, const struct rvm_fault *f)
{
	struct rvm_kernel_recovery *r = ctx;
	struct rvm_world *w = r->k->w;

	(void)f;
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].part == partition && w->agents[i].running && i != r->current)
			return RVM_E_BUSY;
	return RVM_OK;
}

/*
 * F2/F3: every ready agent of the partition that the checkpoint holds goes back to its
 * snapshot there (a consistent cut of the partition); the faulting agent, if the checkpoint
 * does not hold it, starts from its module. Agents that joined the partition after the
 * checkpoint have no state in it to go back to and keep running. The swarm keeps no region
 * log, so there is nothing to re-run up to `upto`: the agents resume from the checkpoint.
 */
static enum rvm_err op_agents_rebuild(void *ctx, uint32_t partition, const struct rvm_ckpt_view *v,
				      uint64_t upto, uint64_t skip)
{
	struct rvm_kernel_recovery *r = ctx;
	struct rvm_world *w = r->k->w;
	uint64_t ckpt = RVM_CKPT_ID(partition, v->seq);
	enum rvm_err err;

	(void)upto;
	(void)skip;
	for (uint32_t i = 0; i < w->nagents; i++) {
		struct rvm_agent *a = &w->agents[i];
		struct rvm_ckpt_agent ca;

		if (a->part != partition || a->state != RVM_AGENT_READY)
			continue;
		if (rvm_ckpt_find_agent(v, a->num, &ca) == RVM_OK)
			err = restart(r, a, ckpt, ca.snap, ca.len);
		else if (i == r->current)
			err = restart(r, a, 0, NULL, 0);
		else
			continue;
		if (err != RVM_OK)
			return err;
	}
	r->rollbacks++;
	return RVM_OK;
}

static uint32_t op_agents_snapshot(void *ctx, uint32_t partition, struct rvm_ckpt_agent *out,
				   uint32_t max)
{
	struct rvm_kernel_recovery *r = ctx;
	uint32_t n = 0;

	if (rvm_kernel_snapshot_agents(r, partition, &n) != RVM_OK || n > max)
		return max + 1; /* no checkpoint after this rollback */
	if (out != r->rec.agents)
		for (uint32_t i = 0; i < n; i++)
			out[i] = r->rec.agents[i];
	return n;
}

/*
 * F4. The log is durable already (the library synced it). A hosted swarm cannot reboot its
 * kernel under the other partitions, which keep running: the faulting agent is stopped.
 */
static void op_kernel_restart(void *ctx, const struct rvm_fault *f)
{
	struct rvm_kernel_recovery *r = ctx;
	struct rvm_kernel *k = r->k;
	struct rvm_agent *a;

	if (f->agent >= RVM_AGENT_MAX)
		return;
	a = &k->w->agents[f->agent];
	if (a->inst)
		rvm_wasm_reset(a->inst);
	a->state = RVM_AGENT_STOPPED;
	r->stopped++;
	(void)rvm_witness_emit(&k->witness, RVM_ACT_AGENT_EXIT, RVM_WF_DENIED, a->part, a->id,
			       a->restarts, RVM_E_TRAP, NULL);
}

static const struct rvm_recovery_ops swarm_ops = {
	.agent_restart = op_agent_restart,
	.quiesce = op_quiesce,
	.agents_rebuild = op_agents_rebuild,
	.agents_snapshot = op_agents_snapshot,
	.kernel_restart = op_kernel_restart,
};

enum rvm_err rvm_kernel_recovery_attach(struct rvm_kernel *k, struct rvm_kernel_recovery *r,
					const struct rvm_kernel_recovery_config *cfg,
					uint8_t *ckbuf, size_t ckcap, uint8_t *raw, size_t rawcap,
					uint8_t *blobs, size_t blobcap)
{
	struct rvm_recovery_config rc = {0};
	enum rvm_err err;

	if (!k || !r || !ckbuf || !ckcap || !raw || !rawcap || !blobs || !blobcap)
		return RVM_E_INVAL;
	if (!k->w || k->state != RVM_KERNEL_RUNNING)
		return RVM_E_STATE;
	rvm_memset(r, 0, sizeof(*r));
	r->k = k;
	if (cfg)
		r->cfg = *cfg;
	if (!r->cfg.every)
		r->cfg.every = 20;
	if (!r->cfg.per_epoch)
		r->cfg.per_epoch = 2;
	if (!r->cfg.repeat)
		r->cfg.repeat = 3;
	if (!r->cfg.window_ns)
		r->cfg.window_ns = 2000000000ull;
	r->ckbuf = ckbuf, r->ckcap = ckcap;
	r->raw = raw, r->rawcap = rawcap;
	r->blobs = blobs, r->blobcap = blobcap;
	r->current = RVM_AGENT_NONE;
	/* An empty region space: the witness log and platform store checkpoints go through. */
	rvm_region_store_init(&r->store, NULL, 0);
	err = rvm_region_space_init(&r->space, &r->buddy, &r->frame, 1, &r->store, &k->witness,
				    k->plat);
	if (err != RVM_OK)
		return err;
	r->ck.regions = &r->space;
	r->ck.gate = &k->w->gate;
	r->ck.ipc = &k->w->ipc;
	/* Caps and edges follow the live membership and channels, which a rollback of the
	 * agents does not move back: restore leaves them as they are. */
	r->ck.keep = RVM_CKPT_KEEP_CAPS | RVM_CKPT_KEEP_EDGES;
	rc.repeat = r->cfg.repeat;
	rc.window_ns = r->cfg.window_ns;
	rc.no_regions = true;
	rvm_recovery_init(&r->rec, &r->ck, NULL, &swarm_ops, r, &rc, ckbuf, ckcap);
	k->w->rec = r;
	return RVM_OK;
}

enum rvm_err rvm_kernel_recover_trap(struct rvm_kernel *k, struct rvm_agent *a,
				     enum rvm_wasm_trap trap, uint8_t *cls)
{
	struct rvm_kernel_recovery *r = k->w->rec;
	struct rvm_fault f = {.kind = RVM_FAULT_AGENT_TRAP,
			      .partition = a->part,
			      .agent = a->num,
			      .seq = RVM_SEQ_NONE,
			      .detail = (uint64_t)trap};
	struct rvm_recovery_result res;
	enum rvm_err err;

	rvm_kernel_recovery_track(r, a->part);
	r->current = a->num;
	err = rvm_recovery_handle(&r->rec, &f, rvm_platform_now_ns(k->plat), &res);
	r->current = RVM_AGENT_NONE;
	*cls = res.cls;
	if (err != RVM_OK)
		return err;
	return a->state == RVM_AGENT_READY ? RVM_OK : RVM_E_TRAP;
}
