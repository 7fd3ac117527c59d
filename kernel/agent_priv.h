/* kernel/agent_priv.h - internals shared by the agent, channel and run files of the kernel. */
#ifndef RVM_AGENT_PRIV_H
#define RVM_AGENT_PRIV_H

#include <rvm/world.h>

/* True while partition slot p exists (its cap table may hold caps). */
static inline bool rvm_part_live(const struct rvm_world *w, uint32_t p)
{
	return p < RVM_MAX_PARTITIONS && w->parts.p[p].state >= RVM_PART_CREATED &&
	       w->parts.p[p].state <= RVM_PART_HIBERNATED;
}

/* Journals an agent input: staged in a's batch (bound later, DC-10), or for START and
 * DIGEST (and inputs too large for a batch) one entry bound by its own HOSTCALL record. */
enum rvm_err rvm_agent_journal(struct rvm_agent *a, enum rvm_journal_kind kind, uint32_t aux,
			       const void *payload, uint32_t len);
/* Finishes the partition migration in flight, if any, as an epoch does (a timed-out one is
 * rolled back); returns 1 if one completed (kernel_epoch.c). */
uint32_t rvm_kernel_migration_settle(struct rvm_kernel *k);
/* Binds a's staged journal entries with one agent.hostcall_batch record (none staged: OK). */
enum rvm_err rvm_agent_journal_bind(struct rvm_agent *a);
/* Journals a (re)start: START entry with the module hash and the agent's arguments. */
enum rvm_err rvm_agent_journal_start(struct rvm_agent *a);
/* Journals a's pending counts and a DIGEST of its memory (a not running; lock held). */
enum rvm_err rvm_agent_digest(struct rvm_agent *a);
/* rvm.send body (lock held): 0 sent, -1 full, -4 log or journal failure. */
int32_t rvm_chan_send(struct rvm_agent *a, uint32_t edge, const uint8_t *p, uint32_t len);
/* rvm.recv body (lock held): bytes, -1 none, -4 log or journal failure. */
int32_t rvm_chan_recv(struct rvm_agent *a, uint8_t *p, uint32_t cap);
/* Hands message msg[0..len) from inbound edge `edge` to a: journaled (RECV: a's pending empty
 * polls, then the bytes), at most cap bytes copied to p, rvm.edge() set. len, or -4 when the
 * journal cannot take it. The channel's side is the caller's (a replay has none). */
int32_t rvm_agent_deliver(struct rvm_agent *a, uint32_t edge, const uint8_t *msg, uint32_t len,
			  uint8_t *p, uint32_t cap);
/* Binds a's imports the tape cannot answer (GPU) to the replay's "go live" while on. */
void rvm_agent_bind_replay(struct rvm_agent *a, bool on);
/* Journals a's pending counts (empty polls, sends) as RECV / SEND entries. */
enum rvm_err rvm_agent_flush_counts(struct rvm_agent *a);
/* Re-points channel c's kernel edge after its ends moved (lock held). */
enum rvm_err rvm_chan_rebind(struct rvm_world *w, struct rvm_chan *c);
/* rvm.spawn body (lock held): the parent's out edge to the child, or -1 / -2. */
int32_t rvm_agent_spawn_child(struct rvm_agent *parent, const uint8_t *name, uint32_t len,
			      uint32_t *tmpl);
/* (Re)creates a's instance from its module in its memory slot. */
enum rvm_err rvm_agent_instantiate(struct rvm_agent *a);
/* Recreates a's instance from an rvm_wasm_snapshot raw[0..n) of it (no init: the snapshot
 * holds the state) with the host-side state it had then; RVM_E_* of the restore. */
enum rvm_err rvm_agent_restore(struct rvm_agent *a, const uint8_t *raw, size_t n, bool yielded,
			       uint32_t last_edge);
/* Journals a restart from a snapshot: RESUME entry (checkpoint id, module hash, rights). */
enum rvm_err rvm_agent_journal_resume(struct rvm_agent *a, uint64_t ckpt);
/* True if a has a message waiting on some inbound channel. */
bool rvm_agent_has_mail(const struct rvm_agent *a);

/* ---- The rvm.gpu_* host functions (kernel/agent_gpu.c), appended to the import table ---- */
#if RVM_AGENT_GPU_IMPORTS > 0
extern const struct rvm_wasm_functype rvm_agent_ft_gpu_out, rvm_agent_ft_gpu_alloc,
	rvm_agent_ft_gpu_free, rvm_agent_ft_gpu_xfer, rvm_agent_ft_gpu_queue,
	rvm_agent_ft_gpu_kernel, rvm_agent_ft_gpu_launch;
rvm_wasm_host_fn rvm_agent_h_gpu_open, rvm_agent_h_gpu_alloc, rvm_agent_h_gpu_free,
	rvm_agent_h_gpu_write, rvm_agent_h_gpu_read, rvm_agent_h_gpu_queue, rvm_agent_h_gpu_kernel,
	rvm_agent_h_gpu_launch, rvm_agent_h_gpu_budget;
/* Names and types, in enum rvm_agent_gpu_op order. */
#define RVM_AGENT_GPU_IMPORT_DESCS                                                                 \
	{"gpu_open", &rvm_agent_ft_gpu_out}, {"gpu_alloc", &rvm_agent_ft_gpu_alloc},               \
		{"gpu_free", &rvm_agent_ft_gpu_free}, {"gpu_write", &rvm_agent_ft_gpu_xfer},       \
		{"gpu_read", &rvm_agent_ft_gpu_xfer}, {"gpu_queue", &rvm_agent_ft_gpu_queue},      \
		{"gpu_kernel", &rvm_agent_ft_gpu_kernel},                                          \
		{"gpu_launch", &rvm_agent_ft_gpu_launch}, {"gpu_budget", &rvm_agent_ft_gpu_out},
#define RVM_AGENT_GPU_HOST_FNS                                                                     \
	rvm_agent_h_gpu_open, rvm_agent_h_gpu_alloc, rvm_agent_h_gpu_free, rvm_agent_h_gpu_write,  \
		rvm_agent_h_gpu_read, rvm_agent_h_gpu_queue, rvm_agent_h_gpu_kernel,               \
		rvm_agent_h_gpu_launch, rvm_agent_h_gpu_budget,
#else
#define RVM_AGENT_GPU_IMPORT_DESCS
#define RVM_AGENT_GPU_HOST_FNS
#endif

#endif
