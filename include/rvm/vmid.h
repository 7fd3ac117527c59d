/* rvm/vmid.h - hardware VMIDs: more partitions than VMIDs, multiplexed per CPU (DC-12). */
#ifndef RVM_VMID_H
#define RVM_VMID_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/partition.h>

/* 8-bit VMIDs (VTCR_EL2.VS = 0): 256 per CPU. Partitions may number more. */
#define RVM_VMIDS 256u
#define RVM_VMID_FREE 0xffffu

/*
 * One CPU's VMIDs. Invariants (rvm_vmid_check_invariants): owner[v] is a
 * pool slot or RVM_VMID_FREE; owner[v] == p iff table.vmid_of[p][cpu] == v,
 * so no two partitions hold one VMID on a CPU and no partition holds two.
 * last_use orders VMIDs for least-recently-used reassignment.
 */
struct rvm_vmid_cpu {
	uint16_t owner[RVM_VMIDS];
	uint32_t last_use[RVM_VMIDS];
	uint32_t clock;
	uint16_t running; /* pool slot running on this CPU now, RVM_VMID_FREE for none */
};

struct rvm_vmid_table {
	struct rvm_vmid_cpu cpu[RVM_MAX_CPUS];
	uint16_t vmid_of[RVM_MAX_PARTITIONS][RVM_MAX_CPUS];
	struct rvm_part_pool *parts;
	uint64_t reassigned; /* VMIDs taken from one partition for another */
};

void rvm_vmid_init(struct rvm_vmid_table *t, struct rvm_part_pool *parts);

/*
 * The VMID partition slot `part` runs with on cpu (called when it is switched
 * in; it becomes the CPU's running partition). Keeps the partition's VMID if
 * it still has one; else takes a free one; else takes the least recently used
 * VMID of a partition not running on that CPU (its TLB entries must be
 * invalidated by the caller before the switch: *flush is set). A new or
 * reassigned VMID is witnessed as VMID_ASSIGN (target the partition id,
 * arg0 cpu << 16 | vmid, arg1 the previous owner's slot or RVM_VMID_FREE).
 * RVM_E_INVAL / RVM_E_RANGE for bad arguments, RVM_E_STATE if the partition
 * is not alive, RVM_E_FULL if the witness log has no room (nothing changes).
 */
enum rvm_err rvm_vmid_acquire(struct rvm_vmid_table *t, uint32_t cpu, uint32_t part,
			      uint16_t *vmid, bool *flush);
/* Frees every VMID of part on every CPU (at destroy). Witness VMID_ASSIGN, arg0 | 0xffff. */
enum rvm_err rvm_vmid_release(struct rvm_vmid_table *t, uint32_t part);
/* RVM_OK, or RVM_E_CORRUPT if an invariant above is broken. */
enum rvm_err rvm_vmid_check_invariants(const struct rvm_vmid_table *t);

#endif
