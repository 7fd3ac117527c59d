/* kernel/kernel_gpu.h - what the swarm kernel calls so GPU state follows agents and partitions
 * (kernel/kernel_gpu.c, kernel/agent_gpu_names.c, kernel/agent_gpu_ckpt.c). */
#ifndef RVM_KERNEL_GPU_H
#define RVM_KERNEL_GPU_H

#include <rvm/world.h>

#if RVM_AGENT_GPU_IMPORTS > 0 && defined(RVM_HAS_GPU)
#include <rvm/gpu.h>

/* ---- An agent's names (agent_gpu_names.c) ---- */

/* True if a has a free name. */
bool rvm_agent_gpu_room(const struct rvm_agent *a);
/*
 * Names cap (in a's partition's table; unused for the device and the context, which always
 * mean the partition's) of type for a: *name gets the value the agent holds. size: a
 * buffer's bytes. RVM_E_NOMEM when a's table is full, RVM_E_STALE if cap does not resolve.
 */
enum rvm_err rvm_agent_gpu_name(struct rvm_agent *a, uint8_t type, rvm_cap_t cap, uint64_t size,
				uint64_t *name);
/*
 * The cap a name of a's stands for now, in a's partition's table: a cap that a split or merge
 * moved is found again by its object. RVM_E_NOTFOUND for a name that is not a's, RVM_E_STALE
 * for one freed, RVM_E_PERM for the device or context while a's partition has no context.
 */
enum rvm_err rvm_agent_gpu_lookup(struct rvm_agent *a, uint64_t name, rvm_cap_t *cap);
/* The cap entry i of a's table stands for now (rvm_agent_gpu_lookup without the name). */
enum rvm_err rvm_agent_gpu_entry_cap(struct rvm_agent *a, uint32_t i, rvm_cap_t *cap);
/* The name goes stale (its object was freed). */
void rvm_agent_gpu_forget(struct rvm_agent *a, uint64_t name);
/* Every name of a launch request (device, queue, kernel, buffer arguments) to its cap. */
enum rvm_err rvm_agent_gpu_unname_req(struct rvm_agent *a, struct rvm_gpu_launch_req *req);

/* ---- Checkpoints (agent_gpu_ckpt.c); lock held ---- */

/*
 * a was just snapshotted into blob[0, len): its names, the contents of its buffers (reads
 * through the gate, witnessed, not charged) and its kernels' kept sources are captured with it.
 * A capture whose buffers do not fit RVM_GPU_CAPTURE_BYTES or are refused is dropped: a restore
 * then releases. A kernel whose source does not fit is captured without it (capture_no_src).
 */
void rvm_agent_gpu_capture(struct rvm_agent *a, const uint8_t *blob, size_t len);
/*
 * a restarts from blob[0, len) (NULL: from its module). From the snapshot its capture goes
 * with: objects made since are freed, the names it held then are good again and denote what
 * they did (buffers with their contents, re-made if freed since; a kernel freed since is built
 * again from its captured source, or stays stale if the capture holds none). Otherwise every
 * object it named is freed and every name goes stale: it opens the GPU again. Each step is
 * gated and witnessed (GPU_FREE, GPU_ALLOC, GPU_QUEUE, GPU_KERNEL, GPU_TRANSFER); a re-made
 * buffer is charged to the memory budget, contents are not (rvm_gpu_ckpt_xfer); a step refused
 * leaves that name stale.
 */
void rvm_agent_gpu_restart(struct rvm_agent *a, const uint8_t *blob, size_t len);
/*
 * a is stopped for good (F1's restart limit, F4): every object it names is freed through the
 * gate (witnessed GPU_FREE, its budget charge given back) as a restart from its module does,
 * every name goes stale and its capture leaves the capture store. Objects of the partition's
 * other agents are not touched.
 */
void rvm_agent_gpu_release(struct rvm_agent *a);

/* ---- The swarm (kernel_gpu.c); lock held ---- */

/* One split use (weight 1, RVM_USE_CAP) per buffer, queue and kernel the agents of `from` name;
 * at most room. The split moves each cap to the side of the agent that uses it. */
uint32_t rvm_kernel_gpu_uses(struct rvm_world *w, uint32_t from, struct rvm_split_use *u,
			     uint32_t room);
/* Before splitting `move` off from: RVM_OK, or why the GPU could not follow (nothing done). */
enum rvm_err rvm_kernel_gpu_split_check(struct rvm_world *w, uint32_t from,
					const struct rvm_nodeset *move);
/* After the split (agents in `to` already): `to` gets a context with its agents' objects and
 * their share (moving agents of total) of from's budget, if any of them holds GPU names. */
void rvm_kernel_gpu_split_follow(struct rvm_world *w, uint32_t from, uint32_t to,
				 const struct rvm_nodeset *move, uint32_t total);
/* Before merging from into into: RVM_OK, or why their GPU contexts cannot be one. */
enum rvm_err rvm_kernel_gpu_merge_check(struct rvm_world *w, uint32_t from, uint32_t into);
/* After the merge moved from's caps into into's table: the context follows. */
void rvm_kernel_gpu_merge_follow(struct rvm_world *w, uint32_t from, uint32_t into);
/* Partition p is being destroyed: its GPU context (if any) and every object of it are freed. */
void rvm_kernel_gpu_reap(struct rvm_world *w, uint32_t p);

#else
static inline void rvm_agent_gpu_capture(struct rvm_agent *a, const uint8_t *blob, size_t len)
{
	(void)a, (void)blob, (void)len;
}
static inline void rvm_agent_gpu_restart(struct rvm_agent *a, const uint8_t *blob, size_t len)
{
	(void)a, (void)blob, (void)len;
}
static inline void rvm_agent_gpu_release(struct rvm_agent *a)
{
	(void)a;
}
static inline uint32_t rvm_kernel_gpu_uses(struct rvm_world *w, uint32_t from,
					   struct rvm_split_use *u, uint32_t room)
{
	(void)w, (void)from, (void)u, (void)room;
	return 0;
}
static inline enum rvm_err rvm_kernel_gpu_split_check(struct rvm_world *w, uint32_t from,
						      const struct rvm_nodeset *move)
{
	(void)w, (void)from, (void)move;
	return RVM_OK;
}
static inline void rvm_kernel_gpu_split_follow(struct rvm_world *w, uint32_t from, uint32_t to,
					       const struct rvm_nodeset *move, uint32_t total)
{
	(void)w, (void)from, (void)to, (void)move, (void)total;
}
static inline enum rvm_err rvm_kernel_gpu_merge_check(struct rvm_world *w, uint32_t from,
						      uint32_t into)
{
	(void)w, (void)from, (void)into;
	return RVM_OK;
}
static inline void rvm_kernel_gpu_merge_follow(struct rvm_world *w, uint32_t from, uint32_t into)
{
	(void)w, (void)from, (void)into;
}
static inline void rvm_kernel_gpu_reap(struct rvm_world *w, uint32_t p)
{
	(void)w, (void)p;
}
#endif

#endif
