/* arch/aarch64/start.S - entry at EL2 for the boot CPU and for secondaries started by PSCI. */
#include "a64_asm.h"

	.section .text.boot, "ax"
	.global _start
/*
 * Boot CPU. QEMU enters here at EL2 with the MMU off; x0 may hold the DTB
 * address (0 for ELF images: the board code then looks at the start of RAM).
 */
_start:
	mov	x19, x0			// keep the DTB pointer across the setup below
	mrs	x1, CurrentEL
	ubfx	x1, x1, #2, #2		// x1 = exception level we were entered at
	mov	x0, #0			// boot CPU is CPU 0: its stack and per-CPU block
	bl	cpu_setup
	cmp	x1, #2
	b.ne	wrong_el
	/* Zero .bss (stacks included: nothing lives on them yet). */
	ldr	x2, =__bss_start
	ldr	x3, =__bss_end
1:	cmp	x2, x3
	b.hs	2f
	str	xzr, [x2], #8
	b	1b
2:	bl	el2_setup
	mov	x0, x19
	bl	rvm_qemu_main		// board code; returns only to power off
	b	rvm_psci_system_off

/* Entered at EL1 or EL3: say so in C (x0 = EL, x1 = DTB) and stop. */
wrong_el:
	mov	x0, x1
	mov	x1, x19
	bl	rvm_a64_wrong_el
3:	wfi
	b	3b

	.text
/*
 * Secondary CPU started by PSCI CPU_ON at EL2, MMU off; x0 = the context id
 * the boot CPU passed, which is this CPU's index.
 */
	.global rvm_a64_secondary_entry
rvm_a64_secondary_entry:
	cmp	x0, #RVM_A64_MAX_CPUS
	b.hs	4f			// an index we have no stack for: park
	mov	x19, x0
	mov	x1, #2			// PSCI starts secondaries at the caller's EL: EL2
	bl	cpu_setup
	bl	el2_setup
	mov	x0, x19
	bl	rvm_qemu_secondary	// returns when the CPU has nothing left to do
4:	wfi
	b	4b

/*
 * cpu_setup: x0 = CPU index. Points sp at the top of that CPU's stack and
 * TPIDR_EL2 (TPIDR_EL1 below EL2, for the wrong-EL path) at its per-CPU block.
 * Clobbers x2, x3; keeps x1.
 */
cpu_setup:
	ldr	x2, =rvm_a64_stacks
	add	x3, x0, #1
	mov	x4, #RVM_A64_STACK_SIZE
	madd	x2, x3, x4, x2		// top of stack = base + (index + 1) * size
	mov	sp, x2
	ldr	x2, =rvm_a64_cpus
	add	x2, x2, x0, lsl #RVM_A64_CPU_SHIFT
	cmp	x1, #2
	b.ne	5f
	msr	tpidr_el2, x2
5:	ret

/* el2_setup: FP/SIMD untrapped (wasm/ needs it), EL1 is AArch64, our vectors. */
el2_setup:
	mov	x2, #CPTR_EL2_RES1	// TFP = 0: FP/SIMD usable at EL2 and below
	msr	cptr_el2, x2
	mov	x2, #HCR_EL2_RW
	msr	hcr_el2, x2
	adr	x2, rvm_a64_vectors
	msr	vbar_el2, x2
	isb
	ret

	.bss
	.balign	16
	.global rvm_a64_stacks
rvm_a64_stacks:
	.space	RVM_A64_STACK_SIZE * RVM_A64_MAX_CPUS
