/* kernel/kernel_recover.c - the swarm's fault recovery: agent traps go through rvm_recovery_handle,
 * with the ops that restart, roll back, snapshot and stop agents. */
#include <rvm/bytes.h>
#include <rvm/kernel_recover.h>

#include "agent_priv.h"
#include "kernel_gpu.h"
#include "recover_priv.h"

/*
 * A new life for agent a from blob (its snapshot in checkpoint ckpt: RESUME journaled) or,
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

/* A new life for a at its tape's base: its snapshot in that checkpoint, or its module. */
static enum rvm_err restart_at_base(struct rvm_kernel_recovery *r, struct rvm_agent *a)
{
	uint64_t base = r->tape[a->num].base;
	struct rvm_ckpt_view v;
	struct rvm_ckpt_agent ca;
	enum rvm_err err;

	if (!base)
		return restart(r, a, 0, NULL, 0);
	/* Any checkpoint (of the partition a was in then): the store has it by id. */
	err = rvm_checkpoint_load(r->k->plat, base, r->ckbuf, r->ckcap, &v);
	if (err == RVM_OK)
		err = rvm_ckpt_find_agent(&v, a->num, &ca);
	if (err != RVM_OK) {
		r->last_err = err;
		return err;
	}
	return restart(r, a, base, ca.snap, ca.len);
}

/*
 * A tape that cannot be replayed (it filled with no checkpoint possible, or it holds GPU
 * answers): a goes back to its base alone, and what it consumed since is lost to it - said by
 * a DENIED recovery.replay record (arg1 the reason) after the recovery.tape_lost that started
 * it. Its tape starts again there, replayable.
 */
static enum rvm_err fallback(struct rvm_kernel_recovery *r, struct rvm_agent *a)
{
	uint64_t base = r->tape[a->num].base;
	uint8_t why = r->tape[a->num].state;
	enum rvm_err err = restart_at_base(r, a);

	if (err != RVM_OK)
		return err;
	r->fallbacks++;
	(void)rvm_witness_emit(&r->k->witness, RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED, a->part,
			       a->num, base, why == RVM_TAPE_GPU ? RVM_E_UNSUPPORTED : RVM_E_FULL,
			       NULL);
	rvm_tape_reset(r, a, base);
	return RVM_OK;
}

/* Back at its base, then re-run against its tape to goal g. */
static enum rvm_err rebuild(struct rvm_kernel_recovery *r, struct rvm_agent *a,
			    const struct rvm_replay_goal *g)
{
	enum rvm_err err = restart_at_base(r, a);

	return err == RVM_OK ? rvm_kernel_replay(r, a, g) : err;
}

/*
 * The faulting agent, at F1 (skip false) or in a rollback: rebuilt to its trap. A fault that
 * is not in its inputs (an injected one) does not come back: it goes live at the call that
 * trapped. One that comes back where it trapped is deterministic; F3 (skip true) then rebuilds
 * it again up to the last message it received before the trap and drops that message
 * (recovery.skip names its journal entry), and it goes live waiting for the next one.
 */
static enum rvm_err rebuild_faulting(struct rvm_kernel_recovery *r, struct rvm_agent *a, bool skip)
{
	struct rvm_replay_goal g = r->fault_goal;
	uint64_t seq = 0, where = 0;
	enum rvm_err err;

	if (r->tape[a->num].state != RVM_TAPE_OK)
		return fallback(r, a);
	if (!r->retrap) {
		err = rebuild(r, a, &g);
		if (err != RVM_E_TRAP)
			return err;
		r->retrap = true; /* deterministic: later classes go straight to the skip */
	}
	if (!skip)
		return RVM_E_TRAP;
	g.stop = rvm_tape_last_message(r, a->num, &seq, &where);
	if (g.stop == UINT32_MAX)
		return RVM_E_NOTFOUND; /* no input of it to blame: F3 cannot help */
	err = rebuild(r, a, &g);
	if (err != RVM_OK)
		return err;
	r->skipped++;
	r->skipped_agent = a->num;
	(void)rvm_witness_emit(&r->k->witness, RVM_ACT_RECOVER_SKIP, 0, a->part, a->num, seq, where,
			       NULL);
	return RVM_OK;
}

static enum rvm_err op_agent_restart(void *ctx, uint32_t partition, uint32_t agent,
				     const uint8_t *snap, size_t len)
{
	struct rvm_kernel_recovery *r = ctx;

	(void)partition;
	(void)snap;
	(void)len;
	if (agent >= RVM_AGENT_MAX)
		return RVM_E_INVAL;
	return rebuild_faulting(r, &r->k->w->agents[agent], false);
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
 * A partition member that did not fault, rolled back with it: its life so far ends in a
 * DIGEST, then it is rebuilt from its base and tape to exactly where it was (checked: fuel,
 * memory, sends). With an unreplayable tape it is left running as it is (its live state is
 * the only copy of what it consumed). Should its replay diverge it stays at its base.
 */
static enum rvm_err rebuild_member(struct rvm_kernel_recovery *r, struct rvm_agent *a)
{
	struct rvm_replay_goal g;
	enum rvm_err err;

	if (r->tape[a->num].state != RVM_TAPE_OK) {
		r->kept++;
		(void)rvm_witness_emit(&r->k->witness, RVM_ACT_RECOVER_REPLAY, RVM_WF_DENIED,
				       a->part, a->num, r->tape[a->num].base, RVM_E_STATE, NULL);
		return RVM_OK;
	}
	(void)rvm_agent_digest(a);
	rvm_kernel_replay_goal(r, a, &g);
	err = rebuild(r, a, &g);
	if (err != RVM_OK && restart_at_base(r, a) == RVM_OK)
		rvm_tape_reset(r, a, r->tape[a->num].base);
	return err;
}

/*
 * F2/F3: the partition is reconstructed from checkpoint and replay. Every ready agent in it
 * goes back to its own base (its snapshot in the newest checkpoint that holds it - normally
 * v - or its START) and is re-run against its tape: it ends where it was, having lost no
 * input and sent nothing twice. The faulting agent is rebuilt to its trap; F3 (skip: the seq
 * of its last message before the trap) drops that message if the trap comes back.
 */
static enum rvm_err op_agents_rebuild(void *ctx, uint32_t partition, const struct rvm_ckpt_view *v,
				      uint64_t upto, uint64_t skip)
{
	struct rvm_kernel_recovery *r = ctx;
	struct rvm_world *w = r->k->w;
	enum rvm_err err, first = RVM_OK;

	(void)v;
	(void)upto;
	for (uint32_t i = 0; i < w->nagents; i++) {
		struct rvm_agent *a = &w->agents[i];

		if (a->part != partition || a->state != RVM_AGENT_READY || i == r->current)
			continue;
		err = rebuild_member(r, a);
		if (first == RVM_OK)
			first = err;
	}
	if (r->current < w->nagents && w->agents[r->current].part == partition) {
		err = rebuild_faulting(r, &w->agents[r->current], skip != RVM_SEQ_NONE);
		if (first == RVM_OK)
			first = err;
	}
	if (first == RVM_OK)
		r->rollbacks++;
	return first;
}

/*
 * The checkpoint a rollback takes afterwards: every ready agent of the partition as it is now,
 * stored as any other (rvm_kernel_checkpoint_store: off the lock where the platform can, a
 * restore base and the tapes' new start only once durable). An agent F3 skipped an input of has
 * a tape that no longer follows from its old base (what came after the skipped message was
 * never replayed): when the store may still fail, it is given up first, so a lost write leaves
 * it restored without a re-run rather than re-run wrongly; durable, the checkpoint starts it a
 * replayable tape. Returns the checkpoint's id, 0 when none was taken.
 */
static uint64_t op_checkpoint_after(void *ctx, uint32_t partition)
{
	struct rvm_kernel_recovery *r = ctx;
	struct rvm_world *w = r->k->w;
	struct rvm_ckpt_info info;
	uint32_t n = 0;

	/* Each agent's state here on record (a replay can start from this checkpoint). */
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].part == partition && w->agents[i].state == RVM_AGENT_READY &&
		    w->agents[i].inst)
			(void)rvm_agent_digest(&w->agents[i]);
	r->snap_n = 0;
	if (rvm_kernel_snapshot_agents(r, partition, &n) != RVM_OK)
		return 0;
	r->snap_n = n;
	if (r->skipped_agent != RVM_AGENT_NONE && rvm_kernel_store_async(r->k))
		rvm_tape_lose(r, &w->agents[r->skipped_agent], RVM_E_STATE);
	if (rvm_kernel_checkpoint_store(r->k, partition, n, &info) != RVM_OK)
		return 0;
	return info.id;
}

/*
 * F4. The log is durable already (the library synced it). A hosted swarm cannot reboot its
 * kernel under the other partitions, which keep running: the faulting agent is stopped and its
 * GPU objects are freed.
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
	r->stopped++;
	rvm_kernel_agent_stop(k, a);
}

static const struct rvm_recovery_ops swarm_ops = {
	.agent_restart = op_agent_restart,
	.quiesce = op_quiesce,
	.agents_rebuild = op_agents_rebuild,
	.kernel_restart = op_kernel_restart,
	.checkpoint_after = op_checkpoint_after,
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
	/* Everything but the tapes' bytes, which are only read up to what was written. */
	rvm_memset(r, 0, offsetof(struct rvm_kernel_recovery, tape_buf));
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
	/* An empty region space: the witness log and platform store checkpoints go through (the
	 * platform as it is, but for the put rvm_kernel_checkpoint swaps in). */
	r->store_plat = *k->plat;
	rvm_region_store_init(&r->store, NULL, 0);
	err = rvm_region_space_init(&r->space, &r->buddy, &r->frame, 1, &r->store, &k->witness,
				    &r->store_plat);
	if (err != RVM_OK)
		return err;
	r->ck.regions = &r->space;
	r->ck.gate = &k->w->gate;
	r->ck.ipc = &k->w->ipc;
	/* Caps and edges follow the live membership and channels, which a rollback of the
	 * agents does not move back: restore leaves them as they are. */
	r->ck.keep = RVM_CKPT_KEEP_CAPS | RVM_CKPT_KEEP_EDGES;
	r->skipped_agent = RVM_AGENT_NONE;
	rc.repeat = r->cfg.repeat;
	rc.window_ns = r->cfg.window_ns;
	rc.no_regions = true;
	rvm_recovery_init(&r->rec, &r->ck, NULL, &swarm_ops, r, &rc, ckbuf, ckcap);
	k->w->rec = r;
	/* Agents already there start their tapes now; one that has run has inputs no tape
	 * holds until its first checkpoint. */
	for (uint32_t i = 0; i < k->w->nagents; i++) {
		struct rvm_agent *a = &k->w->agents[i];

		if (a->state == RVM_AGENT_FREE)
			continue;
		rvm_tape_reset(r, a, 0);
		if (a->fuel)
			rvm_tape_lose(r, a, RVM_E_STATE);
	}
	return RVM_OK;
}

/*
 * The checkpoint a rollback took afterwards (op_checkpoint_after) cut its agents' tapes, which
 * start there once it is durable. Without it, a tape F3 skipped an input of no longer matches
 * its base (what it holds after the skipped message was never replayed): it is no longer
 * replayable.
 */
static void after_handle(struct rvm_kernel_recovery *r, const struct rvm_recovery_result *res)
{
	if (!res->new_ckpt && r->skipped_agent != RVM_AGENT_NONE)
		rvm_tape_lose(r, &r->k->w->agents[r->skipped_agent], RVM_E_STATE);
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
	uint64_t where;
	enum rvm_err err;

	rvm_kernel_recovery_track(r, a->part);
	/* A checkpoint of its partition (or one holding it) on its way to the store is waited
	 * for: durable, it is the base to go back to (and the one its GPU state was captured
	 * with); failed, the old base stays. Rare, and bounded by the store's queue. */
	(void)rvm_kernel_checkpoint_settle(k, false);
	while ((r->inflight[a->part] || r->tape[a->num].next) &&
	       rvm_kernel_checkpoint_settle(k, true))
		;
	r->current = a->num;
	/* The state replay must bring it back to, and the input F3 would blame: the last
	 * message it received (the fault record names the record that bound it). */
	rvm_kernel_replay_goal(r, a, &r->fault_goal);
	r->fault_goal.trapped = true;
	r->skip_off = rvm_tape_last_message(r, a->num, &f.seq, &where);
	if (r->skip_off == UINT32_MAX)
		f.seq = RVM_SEQ_NONE;
	r->retrap = false;
	r->skipped_agent = RVM_AGENT_NONE;
	r->snap_n = 0;
	err = rvm_recovery_handle(&r->rec, &f, rvm_platform_now_ns(k->plat), &res);
	r->current = RVM_AGENT_NONE;
	*cls = res.cls;
	after_handle(r, &res);
	if (err != RVM_OK)
		return err;
	return a->state == RVM_AGENT_READY ? RVM_OK : RVM_E_TRAP;
}
