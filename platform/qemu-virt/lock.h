/* platform/qemu-virt/lock.h - a ticket-free test-and-set spinlock for the board's shared devices.
 */
#ifndef RVM_QEMU_LOCK_H
#define RVM_QEMU_LOCK_H

#include <stdbool.h>
#include <stdint.h>

/* 0 = free, 1 = held. Uses exclusives (ARMv8.0: no LSE atomics, -mno-outline-atomics). */
struct rvm_lock {
	volatile uint32_t held;
};

static inline void rvm_lock_take(struct rvm_lock *l)
{
	while (__atomic_exchange_n(&l->held, 1u, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->held, __ATOMIC_RELAXED))
			;
}

/* Takes l if it is free; never waits. */
static inline bool rvm_lock_try(struct rvm_lock *l)
{
	return __atomic_exchange_n(&l->held, 1u, __ATOMIC_ACQUIRE) == 0;
}

static inline void rvm_lock_give(struct rvm_lock *l)
{
	__atomic_store_n(&l->held, 0u, __ATOMIC_RELEASE);
}

#endif
