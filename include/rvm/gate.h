/* rvm/gate.h - the security gate: the one entry point of every mutating kernel operation. */
#ifndef RVM_GATE_H
#define RVM_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/err.h>
#include <rvm/proof.h>
#include <rvm/witness.h>

/*
 * Order, for every operation: P1 (the presented cap holds the rights) ->
 * P2 (the policy rules the request asks for) -> P3 (chain walk, when asked)
 * -> the operation's own preconditions -> room in the witness log ->
 * record the nonce and charge the quota -> apply (cannot fail) -> witness.
 * A refusal at any step changes nothing (except that the refusal itself is
 * witnessed: CAP_DENIED when the cap fails P1 or does not resolve,
 * GATE_DENIED otherwise; flags RVM_WF_DENIED, arg0 the attempted action,
 * arg1 the rvm_err) and returns the precise code.
 */
enum rvm_gate_checks {
	RVM_GATE_OWNER = 1u << 0,  /* P2.1 caller owns req->object or its cap names it */
	RVM_GATE_REGION = 1u << 1, /* P2.2 region bounds and alignment */
	RVM_GATE_ALIAS = 1u << 2,  /* P2.3 no writable aliasing across partitions */
	RVM_GATE_LEASE = 1u << 3,  /* P2.4 lease validity and expiry */
	RVM_GATE_EPOCH = 1u << 4,  /* P2.5 presented epoch is current */
	RVM_GATE_NONCE = 1u << 5,  /* P2.6 nonce never seen */
	RVM_GATE_QUOTA = 1u << 6,  /* charge req->amount to req->quota */
	RVM_GATE_P3 = 1u << 7,     /* walk the derivation chain */
	RVM_GATE_KERNEL = 1u << 8, /* the kernel acts on its own authority: no cap, no P1 */
	RVM_GATE_DEAD_OK = 1u << 9, /* the cap may name a destroyed object (deleting the cap) */
	RVM_GATE_BATCH = 1u << 10,  /* witness in the DC-10 epoch batch, not one record each */
};

/* Cap table 0 belongs to the kernel itself; witness actor 0 is the kernel. */
#define RVM_CAP_KERNEL_TABLE 0u

struct rvm_gate_req;

/* An operation's own preconditions, after P1-P3. cap is NULL for kernel requests. */
typedef enum rvm_err rvm_gate_check_fn(void *ctx, const struct rvm_gate_req *req,
				       const struct rvm_cap *cap);
/*
 * Applies the operation. Cannot fail: every way to fail was checked before.
 * args holds req->arg0 and req->arg1 on entry; the apply may overwrite them
 * (e.g. with the handle it created) before they are witnessed.
 */
typedef void rvm_gate_apply_fn(void *ctx, const struct rvm_gate_req *req, uint64_t args[2]);

struct rvm_gate_req {
	uint16_t action;  /* enum rvm_action witnessed on success */
	uint32_t checks;  /* enum rvm_gate_checks */
	uint32_t caller;  /* partition (cap table) acting; 0..RVM_CAP_TABLES-1 */
	rvm_cap_t cap;    /* the cap presented, in the caller's table */
	uint8_t rights;   /* P1: rights the cap must hold */
	uint8_t obj_type; /* the object acted upon (P2.1, witness target) */
	uint64_t object;
	uint32_t owner;   /* P2.1: the object's owner partition, if known */
	/* P2.2 */
	const struct rvm_region_desc *region;
	uint64_t offset, length, align;
	/* P2.3: the range the operation would map for the caller */
	uint64_t map_base, map_size;
	bool map_writable;
	/* P2.4 */
	const struct rvm_lease_desc *lease;
	uint64_t now_ns;
	/* P2.5, P2.6 */
	uint64_t epoch;
	uint64_t nonce;
	/* quota */
	struct rvm_quota *quota;
	uint64_t amount;
	/* witness arguments of the applied action */
	uint64_t arg0, arg1;
	rvm_gate_check_fn *check; /* may be NULL */
	rvm_gate_apply_fn *apply; /* may be NULL (a pure authorisation) */
	void *ctx;
};

/* The gate: references to the state it guards plus its own nonce ring. Caller-owned. */
struct rvm_gate {
	struct rvm_cap_space *caps;
	struct rvm_witness_log *wlog;
	struct rvm_map_table *maps; /* NULL: RVM_GATE_ALIAS requests are refused */
	struct rvm_nonce_ring nonces;
	uint64_t allowed; /* operations applied */
	uint64_t denied;  /* refusals */
};

void rvm_gate_init(struct rvm_gate *g, struct rvm_cap_space *caps, struct rvm_witness_log *wlog,
		   struct rvm_map_table *maps);

/*
 * Every check of the request, in gate order, up to and including recording
 * the nonce and charging the quota. A refusal is witnessed and returned.
 * On RVM_OK the caller must rvm_gate_commit next (rvm_gate_invoke does both).
 */
enum rvm_err rvm_gate_authorize(struct rvm_gate *g, const struct rvm_gate_req *req);
/* Applies and witnesses an authorised request. Cannot fail. */
void rvm_gate_commit(struct rvm_gate *g, const struct rvm_gate_req *req);
/* rvm_gate_authorize, then rvm_gate_commit on success. */
enum rvm_err rvm_gate_invoke(struct rvm_gate *g, const struct rvm_gate_req *req);
/*
 * Witnesses a refusal decided outside rvm_gate_authorize (denial is
 * RVM_ACT_CAP_DENIED or RVM_ACT_GATE_DENIED) and returns e.
 */
enum rvm_err rvm_gate_refuse(struct rvm_gate *g, uint16_t denial, uint32_t actor, uint64_t target,
			     uint16_t attempted, enum rvm_err e);

/* ---- Capability operations, all through the gate (kernel/cap_ops.c) ---- */

/* Kernel-only: a root cap with rights for a live object, in table. Witness CAP_MINT. */
enum rvm_err rvm_cap_mint(struct rvm_gate *g, uint32_t table, enum rvm_obj_type type,
			  rvm_obj_id object, uint8_t rights, rvm_cap_t *out);
/*
 * A child of src in the caller's own table with a subset of src's rights
 * (P1 with required = rights). RVM_E_DEPTH past depth 8, RVM_E_PERM for a
 * right src lacks or GRANT_ONCE without GRANT, RVM_E_NOMEM if the table is
 * full. Witness CAP_DERIVE.
 */
enum rvm_err rvm_cap_derive(struct rvm_gate *g, uint32_t caller, rvm_cap_t src, uint8_t rights,
			    rvm_cap_t *out);
/*
 * Like derive, but the child goes into partition to's table, src must hold
 * GRANT or GRANT_ONCE, P3 runs on src, and a GRANT_ONCE without GRANT is
 * consumed. Witness CAP_GRANT.
 */
enum rvm_err rvm_cap_grant(struct rvm_gate *g, uint32_t caller, rvm_cap_t src, uint32_t to,
			   uint8_t rights, rvm_cap_t *out);
/* Frees every descendant of h (h stays); h must hold REVOKE. Witness CAP_REVOKE, arg0 = count. */
enum rvm_err rvm_cap_revoke(struct rvm_gate *g, uint32_t caller, rvm_cap_t h);
/*
 * Frees h and its subtree. Needs no right when h has no children, REVOKE
 * otherwise (dropping a cap with descendants revokes them). Witness CAP_REVOKE.
 */
enum rvm_err rvm_cap_delete(struct rvm_gate *g, uint32_t caller, rvm_cap_t h);
/* Kernel-only: frees every cap of a table and their subtrees (partition teardown). */
enum rvm_err rvm_cap_table_clear(struct rvm_gate *g, uint32_t table);
/*
 * P1 check that h names (type, object) with at least rights. A failed check
 * is witnessed (CAP_DENIED); a passing one changes nothing and is not.
 */
enum rvm_err rvm_cap_check(struct rvm_gate *g, uint32_t caller, rvm_cap_t h, uint8_t type,
			   rvm_obj_id object, uint8_t rights);

#endif
