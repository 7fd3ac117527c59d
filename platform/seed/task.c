/* platform/seed/task.c - runs one event of a task unprivileged in its partition (kernel side). */
#include "seed.h"
#include "task.h"

/* Filled by the MemManage handler (task_switch.S) before it ends the task's event. */
struct rvm_seed_fault rvm_seed_last_fault;

#define XPSR_THUMB (1u << 24)

/* SVC #1 into task_switch.S; only r0 changes across it (the rest is restored). */
static uint32_t enter(uint32_t *psp)
{
	register uint32_t r0 __asm__("r0") = (uint32_t)(uintptr_t)psp;

	__asm__ volatile("svc #1" : "+r"(r0) : : "memory");
	return r0;
}

uint32_t rvm_seed_task_run(rvm_seed_task_fn fn, struct rvm_seed_part_mem *part, uint32_t event,
			   struct rvm_seed_fault *fault)
{
	/* The exception frame the SVC return pops: r0 r1 r2 r3 r12 lr pc xpsr, 8-byte aligned
	 * at the top of the partition, where the task's stack starts. */
	uint32_t *frame = &part->words[RVM_SEED_PART_BYTES / 4 - 8];
	uint32_t r;

	frame[0] = event;
	frame[1] = (uint32_t)(uintptr_t)part->words;
	frame[2] = frame[3] = frame[4] = 0;
	frame[5] = (uint32_t)(uintptr_t)rvm_seed_task_exit;
	frame[6] = (uint32_t)(uintptr_t)fn & ~1u;
	frame[7] = XPSR_THUMB;
	rvm_seed_mpu_partition(part);
	r = enter(frame);
	if (r == RVM_SEED_TASK_FAULTED)
		*fault = rvm_seed_last_fault;
	return r;
}
