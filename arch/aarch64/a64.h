/* arch/aarch64/a64.h - AArch64 at EL2: system registers, per-CPU state, traps and vCPU entry. */
#ifndef RVM_A64_H
#define RVM_A64_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>

#define RVM_A64_STR(x) #x
/* Read / write a system register by name (the name is pasted into the instruction). */
#define rvm_a64_read(reg)                                                                          \
	({                                                                                         \
		uint64_t v_;                                                                       \
		__asm__ volatile("mrs %0, " RVM_A64_STR(reg) : "=r"(v_));                          \
		v_;                                                                                \
	})
#define rvm_a64_write(reg, v)                                                                      \
	__asm__ volatile("msr " RVM_A64_STR(reg) ", %0" ::"r"((uint64_t)(v)) : "memory")

static inline void rvm_a64_isb(void)
{
	__asm__ volatile("isb" ::: "memory");
}

static inline void rvm_a64_dsb_sy(void)
{
	__asm__ volatile("dsb sy" ::: "memory");
}

/* RVM_A64_MAX_CPUS, RVM_A64_STACK_SIZE and the layouts context.S relies on. */
#include "a64_asm.h"

/* Exception classes (ESR_ELx.EC) the hypervisor tells apart. */
enum rvm_a64_ec {
	RVM_EC_UNKNOWN = 0x00,
	RVM_EC_WFX = 0x01,
	RVM_EC_FP = 0x07,
	RVM_EC_HVC64 = 0x16,
	RVM_EC_SMC64 = 0x17,
	RVM_EC_SYSREG = 0x18,
	RVM_EC_IABT_LOW = 0x20,
	RVM_EC_IABT_CUR = 0x21,
	RVM_EC_DABT_LOW = 0x24,
	RVM_EC_DABT_CUR = 0x25,
};

/*
 * A guest vCPU's registers as the trap path saves them. Offsets are used by
 * context.S: x[0..30] at 0, sp_el1 at 248, elr at 256, spsr at 264.
 */
struct rvm_a64_regs {
	uint64_t x[31];
	uint64_t sp_el1;
	uint64_t elr;
	uint64_t spsr;
};
_Static_assert(offsetof(struct rvm_a64_regs, sp_el1) == 248, "context.S layout");
_Static_assert(offsetof(struct rvm_a64_regs, spsr) == 264, "context.S layout");

/*
 * A vCPU's FP/SIMD state. Offsets are used by fpsimd.S: q0..q31 at 0 (two
 * words each, low word first), fpsr at 512, fpcr at 520.
 */
struct rvm_a64_fpsimd {
	alignas(16) uint64_t q[32][2];
	uint64_t fpsr, fpcr;
};
_Static_assert(offsetof(struct rvm_a64_fpsimd, fpsr) == 512, "fpsimd.S layout");
_Static_assert(offsetof(struct rvm_a64_fpsimd, fpcr) == 520, "fpsimd.S layout");

/*
 * A vCPU's EL1 (and EL0) system registers: everything a guest kernel may set
 * that outlives a switch to another guest on the same CPU. SP_EL1 travels
 * with struct rvm_a64_regs. The EL1 virtual timer is part of it, so a guest's
 * pending timer never fires while another guest runs.
 */
struct rvm_a64_el1 {
	uint64_t sctlr, cpacr, ttbr0, ttbr1, tcr, mair, amair, contextidr;
	uint64_t vbar, esr, far, afsr0, afsr1, par, elr, spsr;
	uint64_t tpidr, tpidr_el0, tpidrro_el0, sp_el0, cntkctl, cntv_ctl, cntv_cval, csselr;
};

/*
 * Per-CPU block; TPIDR_EL2 points at it from entry on. Offsets are used by
 * context.S: host[] (x19..x30 then sp) at 0, guest at 104.
 */
struct rvm_a64_cpu {
	uint64_t host[13];	    /* EL2 callee-saved registers while a guest runs */
	struct rvm_a64_regs *guest; /* the vCPU running on this CPU, or NULL */
	uint32_t index;		    /* 0 = boot CPU */
	uint32_t online;	    /* set by the CPU once its C code runs */
	uint64_t mpidr;
};
_Static_assert(offsetof(struct rvm_a64_cpu, guest) == 104, "context.S layout");

/* Why rvm_a64_vcpu_run returned. */
enum rvm_a64_exit { RVM_A64_EXIT_SYNC = 0, RVM_A64_EXIT_IRQ = 1 };

/* Registers saved by the EL2 panic path (vectors.S): x0..x30, then the faulting context. */
struct rvm_a64_frame {
	uint64_t x[31];
	uint64_t sp;
	uint64_t elr, spsr, esr, far;
};

static inline struct rvm_a64_cpu *rvm_a64_this_cpu(void)
{
	return (struct rvm_a64_cpu *)(uintptr_t)rvm_a64_read(tpidr_el2);
}

/*
 * Enters the guest whose registers are in regs (at EL1, stage 2 already set up)
 * and returns when it traps to EL2: regs then hold the guest's state at the trap.
 */
enum rvm_a64_exit rvm_a64_vcpu_run(struct rvm_a64_cpu *cpu, struct rvm_a64_regs *regs);

/* Stores the calling CPU's FP/SIMD registers in s / loads them from s (fpsimd.S). EL2 code
 * between the two holds no FP state of its own (kernel/, lib/ and the board are built with
 * -mgeneral-regs-only), so nothing of the host's needs saving around a guest. */
void rvm_a64_fpsimd_save(struct rvm_a64_fpsimd *s);
void rvm_a64_fpsimd_load(const struct rvm_a64_fpsimd *s);
/* Stores the calling CPU's EL1/EL0 system registers in s / loads them from s (el1.c).
 * Save stops the EL1 virtual timer, so it cannot fire for the next guest. */
void rvm_a64_el1_save(struct rvm_a64_el1 *s);
void rvm_a64_el1_load(const struct rvm_a64_el1 *s);

/* Installs the EL2 vector table on the calling CPU. */
void rvm_a64_vectors_install(void);

/* Called by vectors.S for an unexpected exception at EL2: prints it and powers off. */
void rvm_a64_panic(const struct rvm_a64_frame *f, uint64_t kind);
/* Called by vectors.S for an IRQ taken at EL2 (the host was interrupted). */
void rvm_a64_irq(void);

/* PSCI (SMC conduit at EL2). Returns the PSCI status (0 = success). */
int64_t rvm_psci_cpu_on(uint64_t mpidr, uint64_t entry, uint64_t ctx);
void rvm_psci_system_off(void) __attribute__((noreturn));
uint32_t rvm_psci_version(void);

/* The entry point secondaries start at (start.S); x0 = their CPU index. */
void rvm_a64_secondary_entry(void);

/* Current exception level, 0..3. */
static inline unsigned rvm_a64_current_el(void)
{
	return (unsigned)(rvm_a64_read(CurrentEL) >> 2) & 3u;
}

#endif
