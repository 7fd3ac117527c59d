/* arch/aarch64/vectors.S - the EL2 exception vector table and its save/restore paths. */
#include "a64_asm.h"

/* One 128-byte slot of the table: a branch, with the slot's number for the panic report. */
.macro	slot target, kind
	.balign	128
	stp	x0, x1, [sp, #-16]!
	mov	x0, #\kind
	b	\target
.endm

	.text
	.balign	2048
	.global rvm_a64_vectors
rvm_a64_vectors:
	slot	panic_entry, 0		// current EL, SP_EL0: never used
	slot	panic_entry, 1
	slot	panic_entry, 2
	slot	panic_entry, 3
	slot	panic_entry, 4		// current EL, SP_EL2: a fault in the hypervisor
	slot	irq_entry, 5		// IRQ while EL2 code ran (idle loop)
	slot	panic_entry, 6
	slot	panic_entry, 7
	slot	rvm_a64_guest_exit, 0	// lower EL, AArch64: guest trap (sync)
	slot	rvm_a64_guest_exit, 1	// guest interrupted by an IRQ
	slot	panic_entry, 10
	slot	panic_entry, 11
	slot	panic_entry, 12		// lower EL, AArch32: we never run AArch32 guests
	slot	panic_entry, 13
	slot	panic_entry, 14
	slot	panic_entry, 15

/*
 * Fatal exception at EL2: build a struct rvm_a64_frame (x0..x30, sp, elr,
 * spsr, esr, far; 288 bytes) below the two registers the slot pushed and hand
 * it to C with x1 = the slot number; C reports and powers off. Never returns.
 */
panic_entry:
	sub	sp, sp, #288
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	ldp	x2, x3, [sp, #288]	// the x0, x1 the slot pushed
	stp	x2, x3, [sp, #0]
	add	x2, sp, #304		// sp as it was before the exception
	stp	x30, x2, [sp, #240]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [sp, #256]
	mrs	x2, esr_el2
	mrs	x3, far_el2
	stp	x2, x3, [sp, #272]
	mov	x1, x0			// slot number
	mov	x0, sp
	bl	rvm_a64_panic
1:	wfi
	b	1b

/*
 * IRQ taken at EL2: save what a C call may clobber (x0..x18, x29, x30) and
 * ELR/SPSR in a 192-byte frame, run the handler (interrupts stay masked),
 * restore, return to the interrupted code.
 */
irq_entry:
	ldp	x0, x1, [sp], #16	// undo the slot's push: the frame saves them
	sub	sp, sp, #192
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x29, [sp, #144]
	mrs	x0, elr_el2
	mrs	x1, spsr_el2
	str	x30, [sp, #160]
	stp	x0, x1, [sp, #168]
	bl	rvm_a64_irq
	ldp	x0, x1, [sp, #168]
	msr	elr_el2, x0
	msr	spsr_el2, x1
	ldr	x30, [sp, #160]
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x29, [sp, #144]
	add	sp, sp, #192
	eret
