/* arch/aarch64/context.S - world switch between the EL2 host and an EL1 guest vCPU. */
#include "a64_asm.h"

	.text
/*
 * enum rvm_a64_exit rvm_a64_vcpu_run(struct rvm_a64_cpu *cpu, struct rvm_a64_regs *regs)
 * Saves the host's callee-saved registers and sp in cpu->host, records regs
 * as cpu->guest, loads the guest's registers and erets into it. "Returns"
 * from rvm_a64_guest_exit when the guest traps.
 */
	.global rvm_a64_vcpu_run
rvm_a64_vcpu_run:
	stp	x19, x20, [x0, #CPU_HOST + 0]
	stp	x21, x22, [x0, #CPU_HOST + 16]
	stp	x23, x24, [x0, #CPU_HOST + 32]
	stp	x25, x26, [x0, #CPU_HOST + 48]
	stp	x27, x28, [x0, #CPU_HOST + 64]
	stp	x29, x30, [x0, #CPU_HOST + 80]
	mov	x2, sp
	str	x2, [x0, #CPU_HOST + 96]
	str	x1, [x0, #CPU_GUEST]
	ldr	x2, [x1, #REGS_SP_EL1]
	msr	sp_el1, x2
	ldp	x2, x3, [x1, #REGS_ELR]	// elr, spsr
	msr	elr_el2, x2
	msr	spsr_el2, x3
	ldp	x2, x3, [x1, #16]
	ldp	x4, x5, [x1, #32]
	ldp	x6, x7, [x1, #48]
	ldp	x8, x9, [x1, #64]
	ldp	x10, x11, [x1, #80]
	ldp	x12, x13, [x1, #96]
	ldp	x14, x15, [x1, #112]
	ldp	x16, x17, [x1, #128]
	ldp	x18, x19, [x1, #144]
	ldp	x20, x21, [x1, #160]
	ldp	x22, x23, [x1, #176]
	ldp	x24, x25, [x1, #192]
	ldp	x26, x27, [x1, #208]
	ldp	x28, x29, [x1, #224]
	ldr	x30, [x1, #240]
	ldp	x0, x1, [x1, #0]	// x1 last: it was the base
	eret

/*
 * Trap from the guest (vectors.S jumps here with the guest's x0, x1 pushed
 * on the EL2 stack and x0 = exit kind). Saves every guest register into
 * cpu->guest, restores the host context saved by rvm_a64_vcpu_run and
 * returns from it with the exit kind.
 */
	.global rvm_a64_guest_exit
rvm_a64_guest_exit:
	mrs	x1, tpidr_el2
	ldr	x1, [x1, #CPU_GUEST]
	stp	x2, x3, [x1, #16]
	stp	x4, x5, [x1, #32]
	stp	x6, x7, [x1, #48]
	stp	x8, x9, [x1, #64]
	stp	x10, x11, [x1, #80]
	stp	x12, x13, [x1, #96]
	stp	x14, x15, [x1, #112]
	stp	x16, x17, [x1, #128]
	stp	x18, x19, [x1, #144]
	stp	x20, x21, [x1, #160]
	stp	x22, x23, [x1, #176]
	stp	x24, x25, [x1, #192]
	stp	x26, x27, [x1, #208]
	stp	x28, x29, [x1, #224]
	str	x30, [x1, #240]
	ldp	x2, x3, [sp], #16	// the guest's x0, x1
	stp	x2, x3, [x1, #0]
	mrs	x2, sp_el1
	str	x2, [x1, #REGS_SP_EL1]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [x1, #REGS_ELR]
	mrs	x1, tpidr_el2
	ldr	x2, [x1, #CPU_HOST + 96]
	mov	sp, x2
	ldp	x19, x20, [x1, #CPU_HOST + 0]
	ldp	x21, x22, [x1, #CPU_HOST + 16]
	ldp	x23, x24, [x1, #CPU_HOST + 32]
	ldp	x25, x26, [x1, #CPU_HOST + 48]
	ldp	x27, x28, [x1, #CPU_HOST + 64]
	ldp	x29, x30, [x1, #CPU_HOST + 80]
	ret				// x0 = exit kind
