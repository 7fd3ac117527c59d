/* platform/seed/tasks.c - the demo's tasks: code in .task_text, the only code tasks may run. */
#include "task.h"

/* Event word: low 16 bits the round, high 16 bits how often the kernel restarted the task. */
#define ROUND(ev)    ((ev) & 0xFFFFu)
#define RESTARTS(ev) ((ev) >> 16)

#define TASK_CODE __attribute__((section(".task_text"), noinline))

/* A sensor-like task: keeps a running sum of the rounds it has seen in its own data. */
TASK_CODE uint32_t rvm_seed_task_counter(uint32_t event, uint32_t *data)
{
	data[0] += ROUND(event);
	data[1]++;
	return data[0];
}

/*
 * The misbehaving task: in round 2 of its first life it writes to the partition two below
 * its own (partition 1's counter). The MPU stops the write; after its restart it behaves.
 */
TASK_CODE uint32_t rvm_seed_task_intruder(uint32_t event, uint32_t *data)
{
	if (ROUND(event) == 2 && RESTARTS(event) == 0) {
		volatile uint32_t *victim =
		    (volatile uint32_t *)((uintptr_t)data - 2 * RVM_SEED_PART_BYTES);

		*victim = 0xBAD;
	}
	data[1]++;
	return data[1];
}

TASK_CODE __attribute__((naked)) void rvm_seed_task_exit(void)
{
	__asm__ volatile("svc #0");
}
