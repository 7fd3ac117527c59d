/* kernel/partition_priv.h - what split and merge share: moving caps between tables and the undoable step runner. */
#ifndef RVM_PARTITION_PRIV_H
#define RVM_PARTITION_PRIV_H

#include <rvm/reshape.h>

/*
 * Moves the live cap at ref into table `to` and returns its new ref. The cap
 * keeps its fields, its place in its parent's child list and its children;
 * it is resealed with its whole subtree and the old slot is freed (its handle
 * goes stale). With exact, the new slot is `slot`, which must be the head of
 * to's free list (the undo of the last move out of it: same slot, same
 * generation, so the old handle works again). The caller has checked room.
 */
uint32_t part_cap_relocate(struct rvm_cap_space *s, uint32_t ref, uint32_t to, bool exact,
			   uint32_t slot);
/* True if the cap at ref may move at all: live, not a lease, generation below the maximum. */
bool part_cap_movable(const struct rvm_cap_space *s, uint32_t ref);

/*
 * One split or merge on its way: each step goes through the gate (kernel
 * authority) and is witnessed; what was done is recorded so undo can reverse
 * it step by step. env->fault_step makes step number k fail with RVM_E_IO.
 */
struct part_run {
	const struct rvm_reshape_env *env;
	struct rvm_gate *g;
	uint32_t from, to;  /* regions and edge ends move from partition slot `from` to `to` */
	uint32_t step;	    /* steps started so far (the failing one included) */
	uint32_t caps_done; /* env->work->moves entries made by this run */
	uint32_t regions_done;
	uint32_t edges_done;
};

void part_run_init(struct part_run *r, const struct rvm_reshape_env *env, uint32_t from,
		   uint32_t to);
/* Counts a step; RVM_E_IO if fault injection picks it, else RVM_OK. */
enum rvm_err part_run_fault(struct part_run *r);
/* Step: moves the cap at ref into table to (CAP_MOVE), recorded in work->moves. */
enum rvm_err part_run_cap(struct part_run *r, uint32_t ref, uint32_t to);
/* Step: hands region id to r->to (REGION_TRANSFER), recorded. */
enum rvm_err part_run_region(struct part_run *r, rvm_region_id id);
/* Step: re-points edge index's ends at r->from to r->to (EDGE_REPOINT), recorded. */
enum rvm_err part_run_edge(struct part_run *r, uint32_t index);
/* Undoes every recorded step in reverse, each undo witnessed. Cannot fail once room was reserved. */
void part_run_undo(struct part_run *r);

#endif
