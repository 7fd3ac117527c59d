/* platform/seed/ipc.c - the sensor -> filter channel, every send authorised by the security gate. */
#include "ipc.h"

enum rvm_err rvm_seed_ipc_init(struct rvm_seed_ipc *ipc, struct rvm_witness_log *log,
			       const struct rvm_sha256_impl *sha)
{
	static const uint8_t rights[RVM_SEED_TASKS + 1] = {
		0, RVM_RIGHT_WRITE, RVM_RIGHT_READ, RVM_RIGHT_READ};
	enum rvm_err e;

	rvm_obj_init(&ipc->objs);
	rvm_cap_space_init(&ipc->caps, &ipc->objs, sha);
	rvm_gate_init(&ipc->gate, &ipc->caps, log, NULL);
	ipc->last_nonce = 0;
	ipc->mailbox = 0;
	e = rvm_obj_create(&ipc->objs, RVM_OBJ_EDGE, &ipc->edge);
	if (e == RVM_OK)
		e = rvm_cap_mint(&ipc->gate, RVM_CAP_KERNEL_TABLE, RVM_OBJ_EDGE, ipc->edge,
				 RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_GRANT, &ipc->cap[0]);
	for (uint32_t p = 1; e == RVM_OK && p <= RVM_SEED_TASKS; p++)
		e = rvm_cap_grant(&ipc->gate, RVM_CAP_KERNEL_TABLE, ipc->cap[0], p, rights[p],
				  &ipc->cap[p]);
	return e;
}

/* The gate's apply: cannot fail. */
static void deliver(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	(void)req;
	((struct rvm_seed_ipc *)ctx)->mailbox = (uint32_t)args[0];
}

enum rvm_err rvm_seed_ipc_send_nonce(struct rvm_seed_ipc *ipc, uint32_t from, uint32_t value,
				     uint64_t nonce)
{
	struct rvm_gate_req req = {
		.action = RVM_ACT_IPC_SEND,
		.checks = RVM_GATE_OWNER | RVM_GATE_EPOCH | RVM_GATE_NONCE | RVM_GATE_P3,
		.caller = from,
		.cap = from <= RVM_SEED_TASKS ? ipc->cap[from] : RVM_CAP_NULL,
		.rights = RVM_RIGHT_WRITE,
		.obj_type = RVM_OBJ_EDGE,
		.object = ipc->edge,
		.owner = RVM_OWNER_NONE,
		.epoch = ipc->caps.epoch,
		.nonce = nonce,
		.arg0 = value,
		.apply = deliver,
		.ctx = ipc,
	};

	ipc->last_nonce = nonce;
	return rvm_gate_invoke(&ipc->gate, &req);
}

enum rvm_err rvm_seed_ipc_send(struct rvm_seed_ipc *ipc, uint32_t from, uint32_t value)
{
	return rvm_seed_ipc_send_nonce(ipc, from, value, ipc->last_nonce + 1);
}
