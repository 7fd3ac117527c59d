/* rvm/partition.h - partitions: a fixed pool, the lifecycle state machine, all through the gate. */
#ifndef RVM_PARTITION_H
#define RVM_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/err.h>
#include <rvm/gate.h>
#include <rvm/profile.h>

/*
 * Lifecycle. Legal moves (everything else is RVM_E_STATE):
 *   Created   --start-->     Running     (witness PARTITION_RESUME, arg0 from, arg1 to)
 *   Running   --suspend-->   Suspended   (PARTITION_SUSPEND)
 *   Suspended --resume-->    Running     (PARTITION_RESUME)
 *   Suspended --hibernate--> Hibernated  (PARTITION_HIBERNATE)
 *   Hibernated --wake-->     Suspended   (PARTITION_WAKE)
 *   Created | Suspended | Hibernated --destroy--> Destroyed (PARTITION_DESTROY)
 * A Running partition must be suspended before it is destroyed (its vCPUs
 * may be on a CPU). Destroyed is final: the registry id goes stale at once
 * and, because registry generations never repeat, no capability to the old
 * partition ever names a new one (the pool slot itself may be reused).
 */
enum rvm_part_state {
	RVM_PART_FREE = 0, /* slot never used */
	RVM_PART_CREATED = 1,
	RVM_PART_RUNNING = 2,
	RVM_PART_SUSPENDED = 3,
	RVM_PART_HIBERNATED = 4,
	RVM_PART_DESTROYED = 5,
	RVM_PART_STATE_COUNT
};

enum rvm_part_op {
	RVM_PART_START = 0,
	RVM_PART_SUSPEND = 1,
	RVM_PART_RESUME = 2,
	RVM_PART_HIBERNATE = 3,
	RVM_PART_WAKE = 4,
	RVM_PART_DESTROY = 5,
	RVM_PART_OP_COUNT
};

/* Rights a caller's cap must hold for a lifecycle op (destroy also needs REVOKE). */
#define RVM_PART_RIGHTS (RVM_RIGHT_WRITE)
#define RVM_PART_DESTROY_RIGHTS (RVM_RIGHT_WRITE | RVM_RIGHT_REVOKE)
/* Slot 0 is the kernel's (cap table 0): partitions use slots 1..RVM_MAX_PARTITIONS-1. */
#define RVM_PART_FIRST 1u
#define RVM_VMID_NONE 0xffffu

/*
 * One partition. Invariants: state == FREE iff id == RVM_OBJ_NULL and the
 * slot was never used; while state is CREATED..HIBERNATED, id is live in the
 * registry with type RVM_OBJ_PARTITION and by_obj[slot of id] is this slot.
 */
struct rvm_partition {
	rvm_obj_id id;
	uint64_t mem_bytes; /* memory charged to it (merge capacity) */
	uint32_t agents;    /* agents it hosts (merge capacity) */
	uint16_t vmid;      /* hardware VMID, RVM_VMID_NONE when none */
	uint8_t state;      /* enum rvm_part_state */
	uint8_t migrating;  /* 1 while a migration is in flight */
};
_Static_assert(sizeof(struct rvm_partition) == 24, "a partition is 24 bytes");

/* The pool, caller-owned. live counts partitions in CREATED..HIBERNATED. */
struct rvm_part_pool {
	struct rvm_partition p[RVM_MAX_PARTITIONS];
	uint16_t by_obj[RVM_OBJ_SLOTS]; /* registry slot -> pool slot (checked against p[].id) */
	struct rvm_gate *gate;
	uint32_t live;
};

/* Empty pool over a gate (whose cap space holds the registry). */
void rvm_part_pool_init(struct rvm_part_pool *pp, struct rvm_gate *gate);

/*
 * Pure: the state op leads to from `from`. RVM_E_STATE if the move is not
 * legal, RVM_E_INVAL for an unknown op or state.
 */
enum rvm_err rvm_part_next_state(uint8_t from, enum rvm_part_op op, uint8_t *to);

/*
 * Kernel-only: a new partition in state Created, and a root cap to it with
 * every right in cap table `table` (the creator's). RVM_E_NOMEM when the pool,
 * the registry or the table is full (nothing is left behind). Witness
 * PARTITION_CREATE (arg0 = pool slot) then CAP_MINT.
 */
enum rvm_err rvm_partition_create(struct rvm_part_pool *pp, uint32_t table, uint32_t *slot,
				  rvm_obj_id *id, rvm_cap_t *cap);

/*
 * A lifecycle op on the partition cap names (cap in caller's table). Gate
 * errors for a bad cap (E_STALE once destroyed, E_PERM for missing rights),
 * RVM_E_STATE for an illegal move, RVM_E_BUSY while migrating. Destroy also
 * frees the partition's own cap table (witness CAP_REVOKE).
 */
enum rvm_err rvm_partition_op(struct rvm_part_pool *pp, uint32_t caller, rvm_cap_t cap,
			      enum rvm_part_op op);

/* The partition id names, or NULL if id is not a live partition. */
struct rvm_partition *rvm_partition_find(struct rvm_part_pool *pp, rvm_obj_id id);
/* Pool slot of a partition found by rvm_partition_find. */
uint32_t rvm_partition_slot(const struct rvm_part_pool *pp, const struct rvm_partition *p);

#endif
