/* platform/seed/ipc.h - the sensor -> filter channel, every send authorised by the security gate. */
#ifndef RVM_SEED_IPC_H
#define RVM_SEED_IPC_H

#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/gate.h>

#include "task.h"

/*
 * One edge object and a capability per partition in its own table (table 0 is the
 * kernel's): the sensor holds WRITE (granted from the kernel's root, so P3 walks a
 * chain of two), the filter and the intruder hold READ only.
 * Invariant: mailbox changes only in the gate's apply of an authorised IPC_SEND.
 */
struct rvm_seed_ipc {
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_gate gate;
	rvm_obj_id edge;
	rvm_cap_t cap[RVM_SEED_TASKS + 1]; /* the cap partition i presents; [0] the kernel's root */
	uint64_t last_nonce;               /* the nonce of the last send presented */
	uint32_t mailbox;                  /* the last value sent on the edge */
};

/* Creates the edge and mints and grants the caps (each witnessed). */
enum rvm_err rvm_seed_ipc_init(struct rvm_seed_ipc *ipc, struct rvm_witness_log *log,
			       const struct rvm_sha256_impl *sha);
/* Partition `from` sends value on the edge with a fresh nonce: P1 (WRITE), P2 (the cap names
 * the edge, epoch current, nonce unseen) and P3, then apply and witness IPC_SEND. A refusal
 * is witnessed by the gate and returned. */
enum rvm_err rvm_seed_ipc_send(struct rvm_seed_ipc *ipc, uint32_t from, uint32_t value);
/* The same with a nonce of the caller's choosing (the demo replays one). */
enum rvm_err rvm_seed_ipc_send_nonce(struct rvm_seed_ipc *ipc, uint32_t from, uint32_t value,
				     uint64_t nonce);

#endif
