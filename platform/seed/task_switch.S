/* platform/seed/task_switch.S - enter an unprivileged task on its process stack, and come back. */
	.syntax unified
	.thumb
	.text

/*
 * SVC: from the kernel (thread mode on MSP), r0 = the task's process stack holding a prepared
 * exception frame: save the kernel's callee-saved registers on MSP, drop thread mode to
 * unprivileged and return into the task on PSP. From a task (SVC #0 in rvm_seed_task_exit),
 * r0 = its result: undo all that and make the kernel's own SVC return r0.
 * Ten registers are saved so MSP stays 8-byte aligned for C code in later handlers.
 */
	.global rvm_seed_svc_handler
	.type rvm_seed_svc_handler, %function
	.thumb_func
rvm_seed_svc_handler:
	tst lr, #4
	bne rvm_seed_task_return
	push {r3-r11, lr}
	msr psp, r0
	movs r1, #1			/* CONTROL.nPRIV */
	msr control, r1
	isb
	ldr lr, =0xFFFFFFFD		/* thread mode, process stack */
	bx lr
	.size rvm_seed_svc_handler, . - rvm_seed_svc_handler

/* Back to the kernel with status r0 (handler mode, MSP as left by the SVC above). */
	.global rvm_seed_task_return
	.type rvm_seed_task_return, %function
	.thumb_func
rvm_seed_task_return:
	movs r1, #0			/* privileged thread mode again */
	msr control, r1
	isb
	pop {r3-r11, lr}
	str r0, [sp]			/* the stacked r0 of the kernel's SVC */
	bx lr
	.size rvm_seed_task_return, . - rvm_seed_task_return

/*
 * MemManage: from a task (EXC_RETURN bit 2 = process stack), record CFSR, MMFAR and the
 * faulting PC, clear CFSR and end the task's event with RVM_SEED_TASK_FAULTED. From the
 * kernel (the stack guard or a bug): move MSP back to the top of the kernel stack, which
 * the fault may have run into the guard, and panic in C.
 */
	.global rvm_seed_memmanage_handler
	.type rvm_seed_memmanage_handler, %function
	.thumb_func
rvm_seed_memmanage_handler:
	tst lr, #4
	beq 1f
	ldr r0, =0xE000ED28		/* CFSR */
	ldr r1, [r0]
	ldr r2, =0xE000ED34		/* MMFAR */
	ldr r2, [r2]
	mrs r3, psp
	ldr r3, [r3, #24]		/* the stacked PC */
	ldr r12, =rvm_seed_last_fault
	stm r12, {r1-r3}
	str r1, [r0]			/* write-one-to-clear */
	mov r0, #0xFFFFFFFF		/* RVM_SEED_TASK_FAULTED */
	b rvm_seed_task_return
1:	ldr r0, =__main_stack_top
	mov sp, r0
	b rvm_seed_kernel_fault
	.size rvm_seed_memmanage_handler, . - rvm_seed_memmanage_handler

/* HardFault and the other faults: a fresh kernel stack, then the C panic. */
	.global rvm_seed_fatal_handler
	.type rvm_seed_fatal_handler, %function
	.thumb_func
rvm_seed_fatal_handler:
	ldr r0, =__main_stack_top
	mov sp, r0
	b rvm_seed_kernel_fault
	.size rvm_seed_fatal_handler, . - rvm_seed_fatal_handler
