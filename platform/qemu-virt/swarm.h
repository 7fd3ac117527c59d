/* platform/qemu-virt/swarm.h - the demo swarm: EL1 guest partitions under stage 2, run per CPU. */
#ifndef RVM_QEMU_SWARM_H
#define RVM_QEMU_SWARM_H

#include <stdint.h>

#include <rvm/err.h>

#include "../../arch/aarch64/mmu.h"

#define RVM_SWARM_MAX_PARTS 8u
/* F1 restarts a faulting partition at most this many times, then suspends it. */
#define RVM_SWARM_MAX_RESTARTS 3u

enum rvm_part_state { RVM_PART_READY = 0, RVM_PART_EXITED, RVM_PART_SUSPENDED };

/*
 * One partition running an EL1 guest.
 * Invariants: only the CPU it is placed on (cpu) runs it or changes it once the
 * swarm started; s2 maps exactly code (RO, executable) and data (RW) pages.
 */
struct rvm_part {
	uint32_t id; /* witness actor; also its VMID */
	uint32_t cpu;
	const char *name;
	struct rvm_s2 s2;
	struct rvm_a64_regs regs;
	struct rvm_a64_fpsimd fp; /* FP/SIMD registers while it is switched out */
	struct rvm_a64_el1 el1;	  /* EL1/EL0 system registers while it is switched out */
	uint64_t param; /* x1 at entry */
	uint64_t code_pa, data_pa;
	uint32_t restarts, progress, slices, preempted;
	uint64_t result;
	volatile enum rvm_part_state state;
};

/* The swarm: partitions, and the handshake between the boot CPU and the others. */
struct rvm_swarm {
	struct rvm_part part[RVM_SWARM_MAX_PARTS];
	uint32_t nparts;
	uint64_t tick;		     /* timer ticks per scheduler slice */
	volatile uint32_t go;	     /* set by the boot CPU once every partition exists */
	volatile uint32_t cpus_done; /* CPUs whose partitions have all finished */
	volatile uint32_t preemptions[RVM_A64_MAX_CPUS];
};

/* Creates the demo partitions (boot CPU, before go): a faulter and counters placed
 * round-robin over ncpus CPUs; every step witnessed. */
enum rvm_err rvm_swarm_create(struct rvm_swarm *sw, uint32_t ncpus, uint64_t tick);
/* Runs, on CPU cpu, every partition placed there until each has exited or been suspended. */
void rvm_swarm_run_cpu(struct rvm_swarm *sw, uint32_t cpu);

#endif
