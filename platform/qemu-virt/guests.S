/* platform/qemu-virt/guests.S - the demo's EL1 guests: a few instructions each, copied into a
 * partition's code page (IPA 0x40000000) and run under stage-2 translation. Position independent.
 * Entry: x0 = how many times the partition was restarted, x1 = a parameter. Data page at
 * IPA 0x40001000. Hypercalls: hvc #0 with x0 = 0 exit (x1 result), 1 progress (x1 value). */
#define HC_EXIT 0
#define HC_PROGRESS 1

	.section .rodata.guests, "a"
	.balign	4

/* Touches its data page, then (first run only) an address outside its map: the stage-2 fault
 * takes it to EL2, which restarts it (F1). The restarted run reports 4 steps and exits. */
	.global rvm_guest_faulter, rvm_guest_faulter_end
rvm_guest_faulter:
	movz	x2, #0x4000, lsl #16
	movk	x2, #0x1000		// x2 = the data page, mapped read/write
	str	x0, [x2]		// a store inside the map: fine
	cbnz	x0, 1f			// a restarted run skips the bad access
	movz	x3, #0x5000, lsl #16	// 0x50000000 lies outside the stage-2 map
	str	x0, [x3]		// stage-2 data abort, taken to EL2
1:	mov	x4, #0
2:	add	x4, x4, #1
	str	x4, [x2, #8]
	mov	x0, #HC_PROGRESS
	mov	x1, x4
	hvc	#0
	cmp	x4, #4
	b.lo	2b
	mov	x0, #HC_EXIT
	ldr	x1, [x2, #8]		// result = steps done, read back through stage 2
	hvc	#0
	b	.
rvm_guest_faulter_end:

/* Counts: spins x1 iterations per step (long enough for the timer tick to preempt it),
 * stores the step in its data page, reports it; after 6 steps exits with the total. */
	.global rvm_guest_counter, rvm_guest_counter_end
rvm_guest_counter:
	movz	x2, #0x4000, lsl #16
	movk	x2, #0x1000
	mov	x6, x1			// x6 = spin count per step
	mov	x4, #0
1:	mov	x5, x6
2:	subs	x5, x5, #1		// busy work between reports
	b.ne	2b
	add	x4, x4, #1
	str	x4, [x2]
	mov	x0, #HC_PROGRESS
	mov	x1, x4
	hvc	#0
	cmp	x4, #6
	b.lo	1b
	mov	x0, #HC_EXIT
	ldr	x1, [x2]
	hvc	#0
	b	.
rvm_guest_counter_end:

/* Checks the world switch: fills x2..x30 with n * (2^32 + 1), traps by hvc, spins x1
 * iterations (the tick preempts it many times), traps again, then compares every register.
 * Exits with 0xc0de when all survived, else 100 + the number of the first one that changed. */
	.global rvm_guest_regcheck, rvm_guest_regcheck_end
rvm_guest_regcheck:
	mov	x9, x1			// spin count, parked until x9's own value is due
	.irp	n, 2,3,4,5,6,7,8,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
	mov	x\n, #\n
	add	x\n, x\n, x\n, lsl #32
	.endr
	mov	x0, #HC_PROGRESS
	mov	x1, #1
	hvc	#0			// a synchronous exit and return
1:	subs	x9, x9, #1		// spin: timer interrupts exit to EL2 and come back
	b.ne	1b
	mov	x9, #9
	add	x9, x9, x9, lsl #32
	mov	x0, #HC_PROGRESS
	mov	x1, #2
	hvc	#0
	.irp	n, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
	mov	x0, #\n
	add	x0, x0, x0, lsl #32
	cmp	x\n, x0
	b.ne	2f
	.endr
	mov	x1, #0xc0de
	b	3f
2:	and	x1, x0, #0xffff		// x0 still holds the expected value: its low half is n
	add	x1, x1, #100
3:	mov	x0, #HC_EXIT
	hvc	#0
	b	.
rvm_guest_regcheck_end:

/* Checks the switch of FP/SIMD and EL1 system registers. Two partitions run this on one CPU
 * with different x1 = k (1, 2): each enables FP/SIMD at EL1, fills v0..v31, FPCR, FPSR and a
 * set of EL1/EL0 system registers with values made from k, traps by hvc (the other one runs
 * and sets its own values), spins x1 << 20 iterations (the tick preempts it), traps again,
 * then reads everything back. Exits with 0xf00d when it saw only its own values, else with
 * 100 + n for the first changed v<n>, 200 for FPCR, 201 for FPSR, 210 + i for system
 * register i (the order of the .irp lists below). */
#define FP_SYSREGS tpidr_el1, tpidr_el0, tpidrro_el0, contextidr_el1, vbar_el1, ttbr0_el1, \
	mair_el1, far_el1, sp_el0, elr_el1, par_el1
	.global rvm_guest_fpcheck, rvm_guest_fpcheck_end
rvm_guest_fpcheck:
	mov	x9, x1			// x9 = k for the whole run
	mov	x2, #(3 << 20)		// CPACR_EL1.FPEN = 0b11: no FP/SIMD trap at EL1
	msr	cpacr_el1, x2
	isb
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	mov	x2, #\n			// v<n> = {k << 8 | n, ~(k << 8 | n)}
	orr	x2, x2, x9, lsl #8
	mvn	x3, x2
	fmov	d\n, x2
	mov	v\n\().d[1], x3
	.endr
	lsl	x2, x9, #22		// FPCR.RMode = k (1: towards +inf, 2: towards -inf)
	msr	fpcr, x2
	msr	fpsr, x9		// FPSR: k as cumulative flags (IOC, DZC)
	mov	x4, #0
	.irp	r, FP_SYSREGS
	add	x4, x4, #1		// register i gets k << 16 | i << 11 (aligned for VBAR)
	lsl	x2, x9, #16
	orr	x2, x2, x4, lsl #11
	msr	\r, x2
	.endr
	mov	x0, #HC_PROGRESS
	mov	x1, #1
	hvc	#0			// the other partition runs and sets its own values
	lsl	x5, x9, #20
1:	subs	x5, x5, #1		// spin: timer interrupts exit to EL2 and come back
	b.ne	1b
	mov	x0, #HC_PROGRESS
	mov	x1, #2
	hvc	#0
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	mov	x2, #\n
	orr	x2, x2, x9, lsl #8
	mvn	x3, x2
	fmov	x4, d\n
	mov	x5, v\n\().d[1]
	mov	x1, #(100 + \n)
	cmp	x4, x2
	b.ne	3f
	cmp	x5, x3
	b.ne	3f
	.endr
	mov	x1, #200
	mrs	x2, fpcr
	cmp	x2, x9, lsl #22
	b.ne	3f
	mov	x1, #201
	mrs	x2, fpsr
	cmp	x2, x9
	b.ne	3f
	mov	x4, #0
	.irp	r, FP_SYSREGS
	add	x4, x4, #1
	lsl	x2, x9, #16
	orr	x2, x2, x4, lsl #11
	mrs	x3, \r
	add	x1, x4, #209
	cmp	x3, x2
	b.ne	3f
	.endr
	mov	x1, #0xf00d
3:	mov	x0, #HC_EXIT
	hvc	#0
	b	.
rvm_guest_fpcheck_end:
