/* kernel/gate.c - the security gate: P1 -> P2 -> P3 -> preconditions -> record -> apply -> witness. */
#include <rvm/gate.h>

void rvm_gate_init(struct rvm_gate *g, struct rvm_cap_space *caps, struct rvm_witness_log *wlog,
		   struct rvm_map_table *maps)
{
	g->caps = caps;
	g->wlog = wlog;
	g->maps = maps;
	rvm_nonce_init(&g->nonces);
	g->allowed = 0;
	g->denied = 0;
}

enum rvm_err rvm_gate_refuse(struct rvm_gate *g, uint16_t denial, uint32_t actor, uint64_t target,
			     uint16_t attempted, enum rvm_err e)
{
	g->denied++;
	/* A full log cannot record the refusal; the refusal stands all the same. */
	(void)rvm_witness_emit(g->wlog, denial, RVM_WF_DENIED, actor, target, attempted, (uint64_t)e,
			       NULL);
	return e;
}

static uint32_t actor_of(const struct rvm_gate_req *req)
{
	return (req->checks & RVM_GATE_KERNEL) ? 0u : req->caller;
}

/* P2: the pure policy rules the request asks for, in rule order. */
static enum rvm_err p2(const struct rvm_gate *g, const struct rvm_gate_req *req,
		       const struct rvm_cap *cap)
{
	uint32_t c = req->checks;
	enum rvm_err e;

	if ((c & RVM_GATE_OWNER) && !(c & RVM_GATE_KERNEL) &&
	    (e = rvm_p2_owner(req->caller, req->owner, cap, req->obj_type, req->object)) != RVM_OK)
		return e;
	if ((c & RVM_GATE_REGION) &&
	    (e = rvm_p2_region(req->region, req->offset, req->length, req->align)) != RVM_OK)
		return e;
	if (c & RVM_GATE_ALIAS) {
		if (!g->maps)
			return RVM_E_UNSUPPORTED;
		e = rvm_p2_no_alias(g->maps, req->caller, req->map_base, req->map_size,
				    req->map_writable);
		if (e != RVM_OK)
			return e;
	}
	if ((c & RVM_GATE_LEASE) && (e = rvm_p2_lease(req->lease, req->caller, req->now_ns)) != RVM_OK)
		return e;
	if ((c & RVM_GATE_EPOCH) && (e = rvm_p2_epoch(g->caps->epoch, req->epoch)) != RVM_OK)
		return e;
	if ((c & RVM_GATE_NONCE) && (e = rvm_nonce_check(&g->nonces, req->nonce)) != RVM_OK)
		return e;
	if ((c & RVM_GATE_QUOTA) && !req->quota)
		return RVM_E_INVAL;
	return RVM_OK;
}

enum rvm_err rvm_gate_authorize(struct rvm_gate *g, const struct rvm_gate_req *req)
{
	const struct rvm_cap *cap = NULL;
	uint32_t actor = actor_of(req);
	enum rvm_err e;

	if (!(req->checks & RVM_GATE_KERNEL)) {
		/* P1: the cap resolves and holds the rights. */
		e = (req->checks & RVM_GATE_DEAD_OK)
			    ? rvm_cap_resolve_any(g->caps, req->caller, req->cap, &cap)
			    : rvm_cap_resolve(g->caps, req->caller, req->cap, &cap);
		if (e == RVM_OK)
			e = rvm_proof_p1(cap->rights, req->rights);
		if (e != RVM_OK)
			return rvm_gate_refuse(g, RVM_ACT_CAP_DENIED, actor, req->object,
					       req->action, e);
	}
	e = p2(g, req, cap);
	if (e == RVM_OK && (req->checks & RVM_GATE_P3) && cap)
		e = rvm_proof_p3(g->caps, req->caller, req->cap);
	if (e == RVM_OK && req->check)
		e = req->check(req->ctx, req, cap);
	/*
	 * Nothing may change unless its witness record can be written. A full
	 * ring with a sink is flushed now, so a sink that has failed is known
	 * to have failed before we apply, not after.
	 */
	if (e == RVM_OK && g->wlog->has_sink &&
	    g->wlog->next_seq - g->wlog->flushed_seq >= RVM_WITNESS_RING_RECORDS)
		(void)rvm_witness_flush(g->wlog);
	if (e == RVM_OK && !rvm_witness_can_emit(g->wlog, 1))
		e = RVM_E_FULL;
	/* Record: charge the quota (check-and-record), then keep the nonce (checked in P2). */
	if (e == RVM_OK && (req->checks & RVM_GATE_QUOTA))
		e = rvm_quota_charge(req->quota, req->amount);
	if (e != RVM_OK)
		return rvm_gate_refuse(g, RVM_ACT_GATE_DENIED, actor, req->object, req->action, e);
	if (req->checks & RVM_GATE_NONCE)
		rvm_nonce_record(&g->nonces, req->nonce); /* checked in P2 */
	return RVM_OK;
}

void rvm_gate_commit(struct rvm_gate *g, const struct rvm_gate_req *req)
{
	uint64_t args[2] = { req->arg0, req->arg1 };

	if (req->apply)
		req->apply(req->ctx, req, args);
	g->allowed++;
	/* Room was checked by rvm_gate_authorize (a batch add emits at most the pending batch). */
	if (req->checks & RVM_GATE_BATCH)
		(void)rvm_witness_batch_add(g->wlog, req->action, actor_of(req), req->object,
					    args[0]);
	else
		(void)rvm_witness_emit(g->wlog, req->action, 0, actor_of(req), req->object,
				       args[0], args[1], NULL);
}

enum rvm_err rvm_gate_invoke(struct rvm_gate *g, const struct rvm_gate_req *req)
{
	enum rvm_err e = rvm_gate_authorize(g, req);

	if (e == RVM_OK)
		rvm_gate_commit(g, req);
	return e;
}
