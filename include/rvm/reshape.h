/* rvm/reshape.h - coherence-driven partition actions: split (DC-8), merge (DC-11) and migration
 * with a timeout (DC-7). */
#ifndef RVM_RESHAPE_H
#define RVM_RESHAPE_H

#include <stdint.h>

#include <rvm/coherence.h>
#include <rvm/err.h>
#include <rvm/fixed.h>
#include <rvm/ipc.h>
#include <rvm/partition.h>
#include <rvm/profile.h>
#include <rvm/region.h>
#include <rvm/sched.h>

/* What a merge may produce, and how coherent the two must be. */
struct rvm_merge_limits {
	uint32_t max_agents;
	uint64_t max_mem_bytes;
	rvm_bp min_mutual; /* 2 w(a,b) / (deg a + deg b) must reach this */
};

/*
 * Merges partition `from` into partition `into` (caps in caller's table, both
 * with RVM_MERGE_RIGHTS). Preconditions, in order, each with its own code and
 * each refusal witnessed: rvm_proof_merge_check (INVAL, NOTFOUND, STATE, BUSY,
 * cap errors, PERM, QUOTA); RVM_E_DEGRADED while the engine is degraded
 * (DC-6: no reshaping); RVM_E_NOTFOUND if the two exchange no traffic (not
 * adjacent in coh's graph, node = pool slot); RVM_E_POLICY if their mutual
 * coherence is below lim->min_mutual. Applied: into takes from's agents and
 * memory, from is destroyed (its id goes stale) and its traffic folds into
 * into's graph node. Witness PARTITION_MERGE (target into, arg0 from's slot,
 * arg1 into's slot). The caps from held MOVE into into's table (CAP_MOVE
 * each, derivation tree intact; lease caps excepted, revoked with from's
 * table by a final CAP_REVOKE); rvm_partition_merge_env also hands over
 * regions and edges and reports where each cap went.
 */
enum rvm_err rvm_partition_merge(struct rvm_part_pool *pp, struct rvm_coherence *coh,
				 uint32_t caller, rvm_cap_t from_cap, rvm_cap_t into_cap,
				 const struct rvm_merge_limits *lim);

/*
 * Where capabilities went when a split or merge moved them between cap tables,
 * in the order they moved. A moved cap keeps its rights, depth, epoch, place
 * in its parent's child list and its children (whatever table they are in);
 * it gets a slot in the new table and is resealed with its whole subtree. The
 * old handle goes stale (RVM_E_STALE); rvm_cap_moves_find gives the new one.
 */
struct rvm_cap_move {
	rvm_cap_t old_handle;
	rvm_cap_t new_handle;
	uint32_t old_table;
	uint32_t new_table;
};

struct rvm_cap_moves {
	uint32_t n;
	struct rvm_cap_move m[RVM_CAP_TABLE_SLOTS];
};

/*
 * Where the cap old_handle of table `table` lives now: RVM_OK with *new_table
 * and *new_handle, or RVM_E_NOTFOUND if it did not move.
 */
enum rvm_err rvm_cap_moves_find(const struct rvm_cap_moves *mv, uint32_t table,
				rvm_cap_t old_handle, uint32_t *new_table, rvm_cap_t *new_handle);

/*
 * Caller-owned scratch of a split or merge, and its record of what moved
 * (kept after the call: `moves` is the remap holders need). About 100 KiB on
 * the appliance profile: never on a kernel stack.
 */
struct rvm_reshape_work {
	struct rvm_cap_moves moves;		 /* caps moved, in order */
	rvm_region_id regions[RVM_REGION_SLOTS]; /* regions handed over, in order */
	uint32_t nregions;
	uint32_t edges[RVM_IPC_MAX_EDGES]; /* edges re-pointed, in order: index | ends << 16 */
	uint32_t nedges;
	uint64_t score[2][RVM_CAP_TABLE_SLOTS];	 /* split: [stay, move] use per cap slot */
	uint8_t cap_go[RVM_CAP_TABLE_SLOTS];	 /* split: bit 0 the cap moves, bit 1 decided */
	uint64_t rscore[2][RVM_REGION_SLOTS];	 /* split: [stay, move] use per region slot */
	uint8_t region_go[RVM_REGION_SLOTS];	 /* split: 1 = the region moves */
	uint8_t edge_go[RVM_IPC_MAX_EDGES];	 /* split: 1 = the edge is re-pointed */
	uint64_t moved_w[RVM_MAX_PARTITIONS];	 /* split: re-pointed edge weight per peer */
	uint64_t total_w[RVM_MAX_PARTITIONS];	 /* split: all edge weight per peer */
};

/*
 * The subsystems a split or merge touches. pp and work are required; a NULL
 * coh / ipc / regions means that subsystem is not in this kernel (nothing of
 * it is touched). coh is the partition-level graph (node = pool slot, as the
 * IPC layer feeds it). fault_step is fault injection for tests: the step with
 * that 1-based number fails as if its gate had refused it with RVM_E_IO, and
 * the operation rolls back; 0 never fails.
 */
struct rvm_reshape_env {
	struct rvm_part_pool *pp;
	struct rvm_coherence *coh;
	struct rvm_ipc *ipc;
	struct rvm_region_space *regions;
	struct rvm_reshape_work *work;
	uint32_t fault_step;
};

/* Rights the caller's cap must hold on the partition it splits. */
#define RVM_SPLIT_RIGHTS (RVM_RIGHT_WRITE | RVM_RIGHT_GRANT)

/* What one rvm_split_use entry counts. */
enum rvm_use_kind {
	RVM_USE_CAP = 1,    /* handle is a cap in the partition's own table */
	RVM_USE_REGION = 2, /* handle is a region the partition owns */
};

/* Agent `agent` (a node number, as in the agent-level coherence graph) used handle `weight` times. */
struct rvm_split_use {
	uint64_t handle;
	uint32_t agent;
	uint32_t weight;
	uint8_t kind; /* enum rvm_use_kind */
};

struct rvm_split_req {
	rvm_cap_t cap;		    /* caller's cap to the partition (RVM_SPLIT_RIGHTS) */
	struct rvm_nodeset members; /* its agents, as node numbers */
	struct rvm_nodeset move;    /* those that leave for the new partition (the min-cut side) */
	const struct rvm_split_use *use;
	uint32_t nuse;
	uint32_t cut_weight; /* traffic across the cut: seeds the graph edge old-new */
};

struct rvm_split_result {
	uint32_t slot;	/* the new partition's pool slot */
	rvm_obj_id id;	/* its id */
	rvm_cap_t cap;	/* root cap to it, every right, in the caller's table */
	uint32_t agents, caps, regions, edges; /* what moved to it */
};

/*
 * DC-8: splits the partition req->cap names into itself and a new partition
 * that takes the agents in req->move. Every cap of the partition's table and
 * every region it owns goes to the side whose agents use it more (sum of the
 * use weights of that side's agents); ties, and anything no agent uses, stay.
 * All caps naming one object decide together (their uses add up), so an edge
 * and every cap to it stay on one side; an IPC edge whose caps move has its
 * end re-pointed to the new partition. Lease caps stay (a lease is bound to
 * its holder). Memory charged (mem_bytes) follows the regions; agents follow
 * req->move.
 *
 * Preconditions, in order, each refused with its own code and witnessed:
 *   RVM_E_INVAL: NULL arguments, a bad caller, no work area;
 *   cap errors / RVM_E_PERM: the cap does not resolve or lacks RVM_SPLIT_RIGHTS
 *     (CAP_DENIED);
 *   RVM_E_DEGRADED: the engine (coh) is degraded: no reshaping (DC-6);
 *   RVM_E_STATE: the partition is not Running or Suspended;
 *   RVM_E_BUSY: it is migrating;
 *   RVM_E_INVAL: move is empty, not inside members, or all of members;
 *     members does not match the partition's agent count;
 *   RVM_E_INVAL / RVM_E_NOTFOUND: a use entry has an unknown kind or an agent
 *     outside members / names a cap or region the partition does not hold;
 *   RVM_E_BUSY: a region that would move is mapped (unmap it first);
 *   RVM_E_NOMEM: no free partition slot, registry slot or room in the
 *     caller's table for the new cap;
 *   RVM_E_FULL: the witness log cannot take every record of the split and
 *     of its rollback.
 * Then, each step through the gate and witnessed: PARTITION_CREATE + CAP_MINT
 * (the new partition), PARTITION_RESUME / _SUSPEND (it takes the old one's
 * state), CAP_MOVE per cap (arg0 old table << 32 | slot, arg1 new), REGION_
 * TRANSFER per region, EDGE_REPOINT per edge (arg0 edge index, arg1 old slot
 * << 32 | new slot), then PARTITION_SPLIT (target the old partition, arg0 its
 * slot, arg1 the new slot). If a step fails, every step done is undone in
 * reverse, each undo witnessed, the new partition is destroyed and
 * SPLIT_ABORT is witnessed (arg0 the failed step, arg1 the error): caps are
 * back in their old slots with their old handles, regions and edges with
 * their old owners, and the step's error is returned.
 */
enum rvm_err rvm_partition_split(const struct rvm_reshape_env *env, uint32_t caller,
				 const struct rvm_split_req *req, struct rvm_split_result *out);

/*
 * rvm_partition_merge with every subsystem: besides what rvm_partition_merge
 * does, from's caps MOVE into into's table (env->work->moves says where;
 * lease caps are revoked with from's table, a lease being bound to its
 * holder), from's regions are handed to into (RVM_E_BUSY, refused before
 * anything changes, while one is mapped) and edges ending at from are
 * re-pointed to into (an edge between the two becomes internal: src == dst).
 * Steps are gated and witnessed as for a split; a failed step rolls every
 * step back and returns its error (witness SPLIT_ABORT is not used: the
 * merge's own refusal is witnessed as GATE_DENIED).
 */
enum rvm_err rvm_partition_merge_env(const struct rvm_reshape_env *env, uint32_t caller,
				     rvm_cap_t from_cap, rvm_cap_t into_cap,
				     const struct rvm_merge_limits *lim);

/* DC-7: a migration not finished within this time is aborted and rolled back. */
#define RVM_MIGRATE_TIMEOUT_NS 100000000u

/* One migration in flight (caller-owned). */
struct rvm_migration {
	uint64_t started_ns;
	uint32_t part;
	uint32_t from_cpu, to_cpu;
	bool active;
};

/*
 * Starts moving the partition cap names (WRITE) from the CPU it is queued on
 * to to_cpu. RVM_E_RANGE for a bad cpu, RVM_E_INVAL if it is already there,
 * RVM_E_STATE unless it is Running and queued, RVM_E_BUSY if it is already
 * migrating. While migrating, lifecycle ops and merges are refused (BUSY) and
 * it keeps running where it was. Witness PARTITION_MIGRATE (arg0 from << 32 |
 * to, arg1 0 = begun).
 */
enum rvm_err rvm_migrate_begin(struct rvm_part_pool *pp, struct rvm_sched *s, uint32_t caller,
			       rvm_cap_t cap, uint32_t to_cpu, uint64_t now_ns,
			       struct rvm_migration *m);
/*
 * Completes m at now_ns. Within RVM_MIGRATE_TIMEOUT_NS of the start: the
 * partition's queue entry moves to to_cpu, witness PARTITION_MIGRATE (arg1
 * 1 = done). Later: rvm_migrate_abort, and RVM_E_TIMEOUT.
 */
enum rvm_err rvm_migrate_finish(struct rvm_part_pool *pp, struct rvm_sched *s,
				struct rvm_migration *m, uint64_t now_ns);
/*
 * Rolls m back: the partition stays where it was, exactly as before the
 * begin, no longer migrating. Witness MIGRATE_ABORT (arg0 from << 32 | to,
 * arg1 elapsed ns). RVM_E_STATE if m is not active.
 */
enum rvm_err rvm_migrate_abort(struct rvm_part_pool *pp, struct rvm_migration *m,
			       uint64_t now_ns);

#endif
