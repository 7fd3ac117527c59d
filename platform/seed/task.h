/* platform/seed/task.h - event-driven tasks in MPU-isolated partitions, run unprivileged. */
#ifndef RVM_SEED_TASK_H
#define RVM_SEED_TASK_H

#include <stdalign.h>
#include <stdint.h>

/* Each partition's stack and data: one MPU region, so a power of two aligned to its size. */
#define RVM_SEED_PART_BYTES 1024u
/* How many task partitions the board runs. */
#define RVM_SEED_TASKS 3u

/* A task handles one event and returns; data is the start of its partition (zeroed at start). */
typedef uint32_t (*rvm_seed_task_fn)(uint32_t event, uint32_t *data);

/* The status rvm_seed_task_run returns when the task faulted instead of returning. */
#define RVM_SEED_TASK_FAULTED 0xFFFFFFFFu

/* What the MemManage handler saw when a task faulted. */
struct rvm_seed_fault {
	uint32_t cfsr;  /* configurable fault status (MMFSR in bits 0..7) */
	uint32_t mmfar; /* the faulting data address, valid when CFSR bit 7 (MMARVALID) */
	uint32_t pc;    /* the task's faulting instruction */
};

/* The partition memories (in the .partitions section, each aligned to its size). */
struct rvm_seed_part_mem {
	alignas(RVM_SEED_PART_BYTES) uint32_t words[RVM_SEED_PART_BYTES / 4];
};
_Static_assert(sizeof(struct rvm_seed_part_mem) == RVM_SEED_PART_BYTES, "one MPU region each");

/*
 * Runs fn(event, part) unprivileged on a stack at the top of part, with the MPU
 * giving it part (read-write, no execute) and the task code (read-only) only.
 * Returns fn's result, or RVM_SEED_TASK_FAULTED with *fault filled when the task
 * touched memory outside its partition (the MemManage fault ends the event).
 * Kernel-privileged, not reentrant.
 */
uint32_t rvm_seed_task_run(rvm_seed_task_fn fn, struct rvm_seed_part_mem *part, uint32_t event,
			   struct rvm_seed_fault *fault);

/* MPU: task code region, kernel stack guard; the partition region is set per run. */
void rvm_seed_mpu_init(void);
/* Makes the partition at base (RVM_SEED_PART_BYTES, size-aligned) the one tasks can access. */
void rvm_seed_mpu_partition(const void *base);

/* The demo's tasks (platform/seed/tasks.c, in the .task_text section). */
uint32_t rvm_seed_task_counter(uint32_t event, uint32_t *data);
uint32_t rvm_seed_task_intruder(uint32_t event, uint32_t *data);
/* Every task returns through this: SVC #0 with the result in r0. */
void rvm_seed_task_exit(void);

#endif
