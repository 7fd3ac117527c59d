/* kernel/agent_gpu_ckpt.c - an agent's GPU state at a checkpoint: captured with its snapshot,
 * brought back when it restarts from that snapshot, released when it restarts from its module or
 * is stopped. */
#include <rvm/bytes.h>
#include <rvm/fnv.h>
#include <rvm/world.h>

#include "kernel_gpu.h"

#if RVM_AGENT_GPU_IMPORTS > 0 && defined(RVM_HAS_GPU)

static bool is_object(uint8_t type)
{
	return type == RVM_OBJ_GPU_BUFFER || type == RVM_OBJ_GPU_QUEUE ||
	       type == RVM_OBJ_GPU_KERNEL;
}

/* Drops a's run from the capture store, packing the runs after it down. */
static void drop_capture(struct rvm_agent *a)
{
	struct rvm_world *w = a->w;
	struct rvm_gpu_space *s = w->gpu;
	uint32_t off = a->gpu.snap_off, len = a->gpu.snap_len;

	a->gpu.snap_tag = 0;
	a->gpu.snap_off = a->gpu.snap_len = 0;
	if (!len)
		return;
	rvm_memmove(s->capture + off, s->capture + off + len, s->capture_len - off - len);
	s->capture_len -= len;
	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].gpu.snap_len && w->agents[i].gpu.snap_off > off)
			w->agents[i].gpu.snap_off -= len;
}

/* Frees the object entry i names (gated and witnessed as the agent's own free would be). */
static void free_entry(struct rvm_agent *a, uint32_t i)
{
	rvm_cap_t cap;

	if (rvm_agent_gpu_entry_cap(a, i, &cap) == RVM_OK)
		(void)rvm_gpu_free(a->w->gpu, a->part, cap);
	a->gpu.h[i].type = RVM_OBJ_NONE;
}

/*
 * The capture, in table order: every buffer's contents read through the gate (witnessed
 * GPU_TRANSFER, not charged: the checkpoint is the kernel's) and every kernel's kept name and
 * source (rvm_gpu_kernel_source), so a restore can rebuild one the agent freed since; snap[i].size
 * is the bytes entry i has there. Buffers that fail leave no capture (a restore from this snapshot
 * then releases the agent's GPU objects instead); a kernel whose source was not kept or does not
 * fit is captured without it (size 0, counted in capture_no_src): only its rebuild is lost.
 */
void rvm_agent_gpu_capture(struct rvm_agent *a, const uint8_t *blob, size_t len)
{
	struct rvm_gpu_space *s = a->w->gpu;
	const uint8_t *rec[RVM_AGENT_GPU_HANDLES];
	uint32_t klen[RVM_AGENT_GPU_HANDLES] = {0}, need = 0, off, no_src = 0;

	if (!s)
		return;
	drop_capture(a);
	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++)
		if (a->gpu.h[i].type == RVM_OBJ_GPU_BUFFER) {
			if (a->gpu.h[i].size > RVM_GPU_CAPTURE_BYTES - need)
				return;
			need += (uint32_t)a->gpu.h[i].size;
		}
	if (need > RVM_GPU_CAPTURE_BYTES - s->capture_len)
		return;
	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++) {
		if (a->gpu.h[i].type != RVM_OBJ_GPU_KERNEL)
			continue;
		if (rvm_gpu_kernel_source(s, a->gpu.h[i].obj, &rec[i], &klen[i]) != RVM_OK ||
		    klen[i] > RVM_GPU_CAPTURE_BYTES - s->capture_len - need) {
			klen[i] = 0;
			no_src++;
			continue;
		}
		need += klen[i];
	}
	off = s->capture_len;
	for (uint32_t i = 0, at = off; i < RVM_AGENT_GPU_HANDLES; i++) {
		const struct rvm_agent_gpu_handle *h = &a->gpu.h[i];
		rvm_cap_t cap;

		if (h->type == RVM_OBJ_GPU_KERNEL) {
			rvm_memcpy(s->capture + at, rec[i], klen[i]);
			at += klen[i];
		}
		if (h->type != RVM_OBJ_GPU_BUFFER)
			continue;
		if (rvm_agent_gpu_entry_cap(a, i, &cap) != RVM_OK ||
		    rvm_gpu_ckpt_xfer(s, a->part, cap, s->capture + at, h->size, false) != RVM_OK)
			return;
		at += (uint32_t)h->size;
	}
	rvm_memcpy(a->gpu.snap, a->gpu.h, sizeof(a->gpu.snap));
	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++)
		if (a->gpu.snap[i].type == RVM_OBJ_GPU_KERNEL)
			a->gpu.snap[i].size = klen[i];
	s->capture_no_src += no_src;
	s->capture_len += need;
	a->gpu.snap_off = off;
	a->gpu.snap_len = need;
	a->gpu.snap_tag = rvm_fnv1a64(blob, len) | 1u; /* never 0: 0 is "no capture" */
}

/* Does the object entry e of the capture still live, named by a cap in a's partition's table? */
static bool still_lives(struct rvm_agent *a, uint32_t i)
{
	rvm_cap_t cap;
	const struct rvm_cap *c;

	return rvm_agent_gpu_entry_cap(a, i, &cap) == RVM_OK &&
	       rvm_cap_resolve(&a->w->caps, a->part, cap, &c) == RVM_OK &&
	       c->object == a->gpu.h[i].obj;
}

/*
 * Builds a kernel again from its captured record rec[0, len) (name, NUL, source) through the
 * gate (witnessed GPU_KERNEL) in partition part's context ctx. RVM_E_STALE without a record.
 */
static enum rvm_err rebuild(struct rvm_gpu_space *s, uint32_t part, rvm_cap_t ctx,
			    const uint8_t *rec, uint64_t len, rvm_cap_t *cap)
{
	uint64_t nl = 0;

	while (nl < len && rec[nl])
		nl++;
	if (nl == 0 || nl + 1 >= len)
		return RVM_E_STALE;
	return rvm_gpu_kernel(s, part, ctx, (const char *)rec + nl + 1, (size_t)(len - nl - 1),
			      (const char *)rec, cap);
}

/*
 * Entry i holds the captured entry again: the object if it lives, else a new one (a buffer, a
 * queue, or a kernel built again from its captured source: data), and a buffer gets its
 * captured contents (data) back. Whatever fails leaves the name stale, never wrong.
 */
static void bring_back(struct rvm_agent *a, uint32_t i, uint8_t *data)
{
	struct rvm_gpu_space *s = a->w->gpu;
	struct rvm_agent_gpu_handle *h = &a->gpu.h[i];
	const struct rvm_gpu_context *cx = rvm_gpu_context_of(s, a->part);
	const struct rvm_cap *c;
	rvm_cap_t cap = RVM_CAP_NULL;
	enum rvm_err e = RVM_OK;

	if (!still_lives(a, i)) {
		if (!cx)
			e = RVM_E_STALE;
		else if (h->type == RVM_OBJ_GPU_KERNEL)
			e = rebuild(s, a->part, cx->ctx_cap, data, h->size, &cap);
		else if (h->type == RVM_OBJ_GPU_BUFFER)
			e = rvm_gpu_alloc(s, a->part, cx->ctx_cap, h->size, &cap);
		else
			e = rvm_gpu_queue(s, a->part, cx->ctx_cap, &cap);
		if (e == RVM_OK && (e = rvm_cap_resolve(&a->w->caps, a->part, cap, &c)) == RVM_OK) {
			h->cap = cap;
			h->obj = c->object;
		}
	}
	if (e == RVM_OK && h->type == RVM_OBJ_GPU_BUFFER &&
	    (e = rvm_agent_gpu_entry_cap(a, i, &cap)) == RVM_OK)
		e = rvm_gpu_ckpt_xfer(s, a->part, cap, data, h->size, true);
	if (e != RVM_OK)
		h->type = RVM_OBJ_NONE; /* gen kept: the agent's name reports RVM_E_STALE */
}

void rvm_agent_gpu_restart(struct rvm_agent *a, const uint8_t *blob, size_t len)
{
	struct rvm_gpu_space *s = a->w->gpu;
	bool restore;
	uint32_t at;

	if (!s)
		return;
	restore = blob && a->gpu.snap_tag && (rvm_fnv1a64(blob, len) | 1u) == a->gpu.snap_tag;
	/* Objects the agent made after the snapshot (or, from its module, all of them) go. */
	for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++) {
		const struct rvm_agent_gpu_handle *h = &a->gpu.h[i], *c = &a->gpu.snap[i];

		if (!is_object(h->type))
			continue;
		if (!restore || c->type != h->type || c->obj != h->obj)
			free_entry(a, i);
	}
	if (!restore) {
		/* A fresh start opens the GPU again: every name it held goes stale. */
		for (uint32_t i = 0; i < RVM_AGENT_GPU_HANDLES; i++)
			a->gpu.h[i].type = RVM_OBJ_NONE;
		return;
	}
	for (uint32_t i = 0, at0 = a->gpu.snap_off; i < RVM_AGENT_GPU_HANDLES; i++) {
		uint32_t gen = a->gpu.h[i].gen;

		at = at0;
		a->gpu.h[i] = a->gpu.snap[i];
		/* A name handed out after the snapshot stays stale: the table's gen never falls
		 * below one the agent saw, even as its memory goes back. */
		if (a->gpu.h[i].type == RVM_OBJ_NONE && gen > a->gpu.h[i].gen)
			a->gpu.h[i].gen = gen;
		if (is_object(a->gpu.h[i].type))
			bring_back(a, i, s->capture + at);
		if (a->gpu.snap[i].type == RVM_OBJ_GPU_BUFFER ||
		    a->gpu.snap[i].type == RVM_OBJ_GPU_KERNEL)
			at0 += (uint32_t)a->gpu.snap[i].size;
	}
}

void rvm_agent_gpu_release(struct rvm_agent *a)
{
	if (!a->w->gpu)
		return;
	/* Without a snapshot to go back to, the restart frees every object and stales every
	 * name; no restart will ask for the capture again. */
	rvm_agent_gpu_restart(a, NULL, 0);
	drop_capture(a);
}

#endif
