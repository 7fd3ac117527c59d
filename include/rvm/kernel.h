/* rvm/kernel.h - struct rvm_kernel: every subsystem's state, and the boot sequence that witnesses itself. */
#ifndef RVM_KERNEL_H
#define RVM_KERNEL_H

#include <stdint.h>

#include <rvm/err.h>
#include <rvm/platform.h>
#include <rvm/witness.h>

/*
 * Boot phases; each is witnessed as RVM_ACT_BOOT_PHASE with target = phase. The
 * values are in witness records (append only). The full boot runs all seven in the
 * order platform, memory, capabilities, witness, partitions, coherence, agents;
 * the minimal boot (boards that bring their own objects) runs platform and witness.
 */
enum rvm_boot_phase {
	RVM_BOOT_PLATFORM = 1,	 /* the platform table is up (arg0 = CPU count) */
	RVM_BOOT_WITNESS = 2,	 /* witness genesis (minimal: arg0 = chain, arg1 = signatures) */
	RVM_BOOT_PHASE_COUNT = 2, /* phases of the minimal boot */
	RVM_BOOT_MEMORY = 3,	 /* agent memory pool registered (arg0 = slots) */
	RVM_BOOT_CAPS = 4,	 /* object registry, capability space, security gate */
	RVM_BOOT_PARTITIONS = 5, /* partition pool, IPC, scheduler (arg0 = virtual CPUs) */
	RVM_BOOT_COHERENCE = 6,	 /* coherence engines (arg0 = 1 enabled, 0 static placement) */
	RVM_BOOT_AGENTS = 7,	 /* agent table, host functions, journal (arg0 = agent slots) */
	RVM_BOOT_FULL_PHASES = 7,
};

enum rvm_kernel_state { RVM_KERNEL_OFF = 0, RVM_KERNEL_RUNNING, RVM_KERNEL_HALTED };

/* The object model of a full kernel (<rvm/world.h>). */
struct rvm_world;

/*
 * The kernel: caller-owned, one per machine (tests may build many).
 * Invariant: while RUNNING, every mutation of a field below has a witness record.
 */
struct rvm_kernel {
	const struct rvm_platform *plat; /* the only door to the machine */
	struct rvm_witness_log witness;	 /* hash-chained record of every privileged action */
	struct rvm_world *w;		 /* the object model (full boot), NULL after a minimal boot */
	enum rvm_kernel_state state;
	uint32_t phases_done;		/* boot phases witnessed so far */
	uint64_t boot_start_ns;		/* platform clock when the boot began */
	uint8_t attest[32];		/* boot attestation: the phases' measurements, chained */
	uint64_t measure[RVM_BOOT_FULL_PHASES + 1]; /* first 8 bytes of each phase's measurement */
};

/* Minimal boot: platform and witness genesis, each phase witnessed, then BOOT_COMPLETE
 * (arg0 = boot time in ns) and a sync, so the boot is durable. */
enum rvm_err rvm_kernel_boot(struct rvm_kernel *k, const struct rvm_platform *plat,
			     const struct rvm_witness_config *wcfg);
/* Witnesses SHUTDOWN and closes the log with a signed shutdown checkpoint (and the journal). */
enum rvm_err rvm_kernel_shutdown(struct rvm_kernel *k);

#endif
