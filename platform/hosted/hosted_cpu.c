/* platform/hosted/hosted_cpu.c - virtual CPUs as POSIX threads, and the kernel's big lock as a mutex. */
#include "hosted_cpu.h"

#include <string.h>

static void lock_fn(void *ctx)
{
	pthread_mutex_lock(&((struct rvm_hosted_cpus *)ctx)->lock);
}

static void unlock_fn(void *ctx)
{
	pthread_mutex_unlock(&((struct rvm_hosted_cpus *)ctx)->lock);
}

struct cpu_arg {
	struct rvm_hosted_cpus *c;
	uint32_t cpu;
};

static void *cpu_main(void *p)
{
	struct cpu_arg *a = p;

	rvm_hosted_bind_cpu(a->cpu);
	a->c->fn(a->c->ctx, a->cpu);
	return NULL;
}

enum rvm_err rvm_hosted_cpus_init(struct rvm_hosted_cpus *c, struct rvm_kernel_lock *lock)
{
	memset(c, 0, sizeof(*c));
	if (pthread_mutex_init(&c->lock, NULL) != 0)
		return RVM_E_IO;
	lock->lock = lock_fn;
	lock->unlock = unlock_fn;
	lock->ctx = c;
	return RVM_OK;
}

enum rvm_err rvm_hosted_cpus_start(struct rvm_hosted_cpus *c, uint32_t n,
				   void (*fn)(void *ctx, uint32_t cpu), void *ctx)
{
	static struct cpu_arg args[RVM_MAX_CPUS];

	if (n == 0 || n > RVM_MAX_CPUS || c->started)
		return RVM_E_RANGE;
	c->fn = fn;
	c->ctx = ctx;
	for (uint32_t i = 0; i < n; i++) {
		args[i] = (struct cpu_arg){ .c = c, .cpu = i };
		if (pthread_create(&c->th[i], NULL, cpu_main, &args[i]) != 0) {
			c->n = i;
			rvm_hosted_cpus_join(c);
			return RVM_E_IO;
		}
	}
	c->n = n;
	c->started = true;
	return RVM_OK;
}

void rvm_hosted_cpus_join(struct rvm_hosted_cpus *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		pthread_join(c->th[i], NULL);
	c->n = 0;
	c->started = false;
}

void rvm_hosted_cpus_destroy(struct rvm_hosted_cpus *c)
{
	pthread_mutex_destroy(&c->lock);
}
