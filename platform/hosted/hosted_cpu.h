/* platform/hosted/hosted_cpu.h - virtual CPUs as POSIX threads and the kernel lock as a mutex. */
#ifndef RVM_HOSTED_CPU_H
#define RVM_HOSTED_CPU_H

#include <pthread.h>
#include <stdbool.h>

#include <rvm/world.h>

#include "hosted.h"

/* The CPUs of one run: caller-owned. fn runs once per CPU on its own thread (bound with
 * rvm_hosted_bind_cpu, so the platform's cpu_id answers its number). */
struct rvm_hosted_cpus {
	pthread_t th[RVM_MAX_CPUS];
	uint32_t n;
	bool started;
	pthread_mutex_t lock;
	void (*fn)(void *ctx, uint32_t cpu);
	void *ctx;
};

/* Prepares the mutex and fills *lock with hooks for rvm_kernel_config.lock. */
enum rvm_err rvm_hosted_cpus_init(struct rvm_hosted_cpus *c, struct rvm_kernel_lock *lock);
/* Starts n threads (1..RVM_MAX_CPUS). RVM_E_IO if a thread cannot start (those started are
 * joined). One run of CPUs at a time per process. */
enum rvm_err rvm_hosted_cpus_start(struct rvm_hosted_cpus *c, uint32_t n,
				   void (*fn)(void *ctx, uint32_t cpu), void *ctx);
/* Waits for every CPU thread to return. */
void rvm_hosted_cpus_join(struct rvm_hosted_cpus *c);
void rvm_hosted_cpus_destroy(struct rvm_hosted_cpus *c);

#endif
