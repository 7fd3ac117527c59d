/* kernel/agent_gpu_names.c - the GPU names an agent holds: handed out, looked up, found again after
 * its caps moved to another partition's table. */
#include <rvm/bytes.h>
#include <rvm/world.h>

#include "kernel_gpu.h"

#if RVM_AGENT_GPU_IMPORTS > 0 && defined(RVM_HAS_GPU)
#include <rvm/gpu.h>

/* Generations stay below 2^31 so a name is a non-negative i64 (a result the agent can test). */
#define NAME_GEN_MAX 0x7fffffffu

static uint64_t name_of(const struct rvm_agent *a, uint32_t i)
{
	return (uint64_t)a->gpu.h[i].gen << 32 | (uint64_t)(a->num & 0xffffu) << 16 | (i + 1u);
}

bool rvm_agent_gpu_room(const struct rvm_agent *a)
{
	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++)
		if (a->gpu.h[i].type == RVM_OBJ_NONE && a->gpu.h[i].gen < NAME_GEN_MAX)
			return true;
	return false;
}

enum rvm_err rvm_agent_gpu_name(struct rvm_agent *a, uint8_t type, rvm_cap_t cap, uint64_t size,
				uint64_t *name)
{
	const struct rvm_cap *c;
	rvm_obj_id obj = RVM_OBJ_NULL;

	if (type != RVM_OBJ_GPU && type != RVM_OBJ_GPU_CONTEXT) {
		if (rvm_cap_resolve(&a->w->caps, a->part, cap, &c) != RVM_OK)
			return RVM_E_STALE;
		obj = c->object;
	}
	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++) {
		struct rvm_agent_gpu_handle *h = &a->gpu.h[i];

		if (h->type != RVM_OBJ_NONE || h->gen >= NAME_GEN_MAX)
			continue;
		h->gen++;
		h->type = type;
		h->cap = cap;
		h->obj = obj;
		h->size = size;
		*name = name_of(a, i);
		return RVM_OK;
	}
	return RVM_E_NOMEM;
}

/* The entry a name denotes, or NULL with *err (NOTFOUND: not one of a's; STALE: freed). */
static struct rvm_agent_gpu_handle *entry(struct rvm_agent *a, uint64_t name, enum rvm_err *err)
{
	uint32_t i = (uint32_t)(name & 0xffffu) - 1u;
	struct rvm_agent_gpu_handle *h;

	if ((name & 0xffffu) == 0 || i >= RVM_AGENT_GPU_HANDLES ||
	    ((name >> 16) & 0xffffu) != (a->num & 0xffffu)) {
		*err = RVM_E_NOTFOUND;
		return NULL;
	}
	h = &a->gpu.h[i];
	if (h->gen != (uint32_t)(name >> 32) || h->type == RVM_OBJ_NONE) {
		/* Handed out once (a freed object's, or one a restore took back): stale. */
		*err = h->gen && name >> 32 ? RVM_E_STALE : RVM_E_NOTFOUND;
		return NULL;
	}
	return h;
}

enum rvm_err rvm_agent_gpu_entry_cap(struct rvm_agent *a, uint32_t i, rvm_cap_t *cap)
{
	struct rvm_agent_gpu_handle *h = &a->gpu.h[i];
	const struct rvm_gpu_context *cx;
	const struct rvm_cap_table *t;
	const struct rvm_cap *c;

	*cap = RVM_CAP_NULL;
	if (h->type == RVM_OBJ_GPU || h->type == RVM_OBJ_GPU_CONTEXT) {
		/* The device and the context are whatever the agent's partition has now. */
		if (!(cx = rvm_gpu_context_of(a->w->gpu, a->part)))
			return RVM_E_PERM;
		*cap = h->type == RVM_OBJ_GPU ? cx->dev_cap : cx->ctx_cap;
		return RVM_OK;
	}
	if (rvm_cap_resolve(&a->w->caps, a->part, h->cap, &c) != RVM_OK || c->object != h->obj) {
		/* A split or merge moved the cap (new table, new handle): find it by its object
		 * in the agent's own partition's table, the only caps it may use. */
		t = &a->w->caps.tables[a->part];
		for (uint32_t j = 0; j < t->hw; j++)
			if (t->slots[j].state == RVM_CAPS_LIVE && t->slots[j].object == h->obj &&
			    t->slots[j].type == h->type) {
				h->cap = rvm_cap_handle_of(&a->w->caps, rvm_cap_ref(a->part, j));
				break;
			}
	}
	*cap = h->cap;
	return RVM_OK;
}

enum rvm_err rvm_agent_gpu_lookup(struct rvm_agent *a, uint64_t name, rvm_cap_t *cap)
{
	enum rvm_err err = RVM_OK;
	struct rvm_agent_gpu_handle *h = entry(a, name, &err);

	*cap = RVM_CAP_NULL;
	if (!h)
		return err;
	return rvm_agent_gpu_entry_cap(a, (uint32_t)(h - a->gpu.h), cap);
}

void rvm_agent_gpu_forget(struct rvm_agent *a, uint64_t name)
{
	enum rvm_err err;
	struct rvm_agent_gpu_handle *h = entry(a, name, &err);

	if (h)
		h->type = RVM_OBJ_NONE;
}

enum rvm_err rvm_agent_gpu_unname_req(struct rvm_agent *a, struct rvm_gpu_launch_req *req)
{
	enum rvm_err e;

	if ((e = rvm_agent_gpu_lookup(a, req->device, &req->device)) != RVM_OK ||
	    (e = rvm_agent_gpu_lookup(a, req->queue, &req->queue)) != RVM_OK ||
	    (e = rvm_agent_gpu_lookup(a, req->kernel, &req->kernel)) != RVM_OK)
		return e;
	for (uint32_t i = 0; i < req->nargs && i < RVM_GPU_MAX_ARGS; i++)
		if (req->args[i].kind == RVM_GPU_ARG_BUFFER &&
		    (e = rvm_agent_gpu_lookup(a, req->args[i].value, &req->args[i].value)) != RVM_OK)
			return e;
	return RVM_OK;
}

#endif
