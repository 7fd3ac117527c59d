/* platform/qemu-virt/swarm.h - the EL1 guests: partitions of the kernel running native code under
 * stage 2, a slice at a time on the CPU they are placed on. */
#ifndef RVM_QEMU_SWARM_H
#define RVM_QEMU_SWARM_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/partition.h>
#include <rvm/vmid.h>

#include "../../arch/aarch64/mmu.h"

#define RVM_SWARM_MAX_PARTS 8u
/* F1 restarts a faulting partition at most this many times, then suspends it. */
#define RVM_SWARM_MAX_RESTARTS 3u

/* Whether the swarm still runs a partition (its kernel state is in the partition pool). */
enum rvm_swarm_run { RVM_RUN_READY = 0, RVM_RUN_EXITED, RVM_RUN_SUSPENDED };

/*
 * What the guests need from the full kernel: its partition pool (each guest is a partition of the
 * kernel's world, created, started, suspended and destroyed through the security gate with the
 * kernel's root cap, every step witnessed) and a per-CPU VMID table over that pool. Every call
 * into them holds the board's kernel lock.
 */
struct rvm_swarm_kernel {
	struct rvm_part_pool *pool;
	struct rvm_vmid_table vmids;
};

/*
 * One partition running an EL1 guest: the board's half (guest state, stage 2); the kernel's
 * half is pool slot id.
 * Invariants: only the CPU it is placed on (cpu) runs it or changes it once the
 * swarm started; s2 maps exactly code (RO, executable) and data (RW) pages; s2.vmid is
 * the VMID the kernel's table gave it on this CPU for the current slice.
 */
struct rvm_part {
	uint32_t id;	/* pool slot and cap table: the witness actor */
	rvm_obj_id obj; /* the partition object */
	rvm_cap_t cap;	/* the kernel's root cap to it (kernel table) */
	uint32_t cpu;
	const char *name;
	struct rvm_s2 s2;
	struct rvm_a64_regs regs;
	struct rvm_a64_fpsimd fp; /* FP/SIMD registers while it is switched out */
	struct rvm_a64_el1 el1;	  /* EL1/EL0 system registers while it is switched out */
	uint64_t param;		  /* x1 at entry */
	uint64_t code_pa, data_pa;
	uint32_t restarts, progress, slices, preempted;
	uint64_t result;
	volatile enum rvm_swarm_run state;
};

/* The swarm: partitions, and the handshake between the boot CPU and the others. */
struct rvm_swarm {
	struct rvm_part part[RVM_SWARM_MAX_PARTS];
	struct rvm_swarm_kernel *k;
	uint32_t nparts;
	uint64_t tick;			 /* timer ticks per scheduler slice */
	uint32_t next[RVM_A64_MAX_CPUS]; /* round-robin cursor per CPU */
	volatile uint32_t preemptions[RVM_A64_MAX_CPUS];
};

/* Creates the guest partitions (boot CPU, before go) in the kernel's pool and starts them: a
 * faulter, counters and register checkers placed round-robin over ncpus CPUs; every step
 * witnessed. A guest counts as its partition's one agent, so the kernel's epochs never take
 * its partition for an empty one. */
enum rvm_err rvm_swarm_create(struct rvm_swarm *sw, struct rvm_part_pool *pool, uint32_t ncpus,
			      uint64_t tick);
/* Once every CPU is done: releases each partition's VMIDs and destroys it through the gate
 * (suspending it first if it still runs); witnessed. */
void rvm_swarm_destroy(struct rvm_swarm *sw);
/* Runs one slice of the next runnable guest placed on CPU cpu (round robin); false when none
 * is left there (each has exited or been suspended). */
bool rvm_swarm_slice(struct rvm_swarm *sw, uint32_t cpu);

#endif
