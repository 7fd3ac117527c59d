/* rvm/reshape.h - coherence-driven partition actions: merge (DC-11) and migration with a timeout (DC-7). */
#ifndef RVM_RESHAPE_H
#define RVM_RESHAPE_H

#include <stdint.h>

#include <rvm/coherence.h>
#include <rvm/err.h>
#include <rvm/fixed.h>
#include <rvm/partition.h>
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
 * arg1 into's slot), then CAP_REVOKE clearing from's table: caps from held
 * do not carry over (see docs/partitions.md).
 */
enum rvm_err rvm_partition_merge(struct rvm_part_pool *pp, struct rvm_coherence *coh,
				 uint32_t caller, rvm_cap_t from_cap, rvm_cap_t into_cap,
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
