/* rvm/kernel.h - struct rvm_kernel: every subsystem's state, and the boot sequence that witnesses itself. */
#ifndef RVM_KERNEL_H
#define RVM_KERNEL_H

#include <stdint.h>

#include <rvm/err.h>
#include <rvm/platform.h>
#include <rvm/witness.h>

/* Boot phases, in order; each is witnessed as RVM_ACT_BOOT_PHASE with target = phase. */
enum rvm_boot_phase {
	RVM_BOOT_PLATFORM = 1, /* the platform table is up (arg0 = CPU count) */
	RVM_BOOT_WITNESS = 2,  /* witness genesis (arg0 = chain algorithm, arg1 = signatures) */
	RVM_BOOT_PHASE_COUNT = 2,
};

enum rvm_kernel_state { RVM_KERNEL_OFF = 0, RVM_KERNEL_RUNNING, RVM_KERNEL_HALTED };

/*
 * The kernel: caller-owned, one per machine (tests may build many).
 * Invariant: while RUNNING, every mutation of a field below has a witness record.
 */
struct rvm_kernel {
	const struct rvm_platform *plat; /* the only door to the machine */
	struct rvm_witness_log witness;  /* hash-chained record of every privileged action */
	enum rvm_kernel_state state;
	uint32_t phases_done;   /* boot phases witnessed so far */
	uint64_t boot_start_ns; /* platform clock when rvm_kernel_boot began */
};

/* Boots what exists so far: platform, witness genesis; each phase witnessed, then
 * BOOT_COMPLETE (arg0 = boot time in ns) and a sync, so the boot is durable. */
enum rvm_err rvm_kernel_boot(struct rvm_kernel *k, const struct rvm_platform *plat,
			     const struct rvm_witness_config *wcfg);
/* Witnesses SHUTDOWN and closes the log with a signed shutdown checkpoint. */
enum rvm_err rvm_kernel_shutdown(struct rvm_kernel *k);

#endif
