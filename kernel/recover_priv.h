/* kernel/recover_priv.h - internals shared by the swarm's checkpoint and recovery files. */
#ifndef RVM_RECOVER_PRIV_H
#define RVM_RECOVER_PRIV_H

#include <rvm/kernel_recover.h>

/*
 * Snapshots every ready agent of partition p into r->blobs and lists them in r->rec.agents;
 * *n gets the count. RVM_E_NOMEM when a snapshot or the blobs do not fit the buffers.
 */
enum rvm_err rvm_kernel_snapshot_agents(struct rvm_kernel_recovery *r, uint32_t p, uint32_t *n);
/* Forgets the checkpoints of slot p when it now holds another partition than they were of. */
void rvm_kernel_recovery_track(struct rvm_kernel_recovery *r, uint32_t p);

/*
 * Handles agent a's trap through rvm_recovery_handle (lock held; a's instance is idle, its
 * life's last DIGEST journaled). *cls gets the class that resolved it. RVM_OK when the agent
 * runs again, RVM_E_TRAP when F4 stopped it, rvm_recovery_handle's errors.
 */
enum rvm_err rvm_kernel_recover_trap(struct rvm_kernel *k, struct rvm_agent *a,
				     enum rvm_wasm_trap trap, uint8_t *cls);

/* True while a checkpoint of p is pending: its agents are not started (lock held). */
static inline bool rvm_kernel_ckpt_pending(const struct rvm_world *w, uint32_t p)
{
	return w->rec && p < RVM_KPARTS && w->rec->pending[p];
}
/* A slice of an agent of p ended (lock held): takes p's pending checkpoint if it can now. */
void rvm_kernel_ckpt_slice_end(struct rvm_kernel *k, uint32_t p);

#endif
