/* kernel/gpu_priv.h - what the GPU object files share: lookups, the operation record, cap helpers.
 */
#ifndef RVM_GPU_PRIV_H
#define RVM_GPU_PRIV_H

#include <rvm/gpu.h>

#define GPU_NONE 0xffffu

/* The pool of objects of one type (buffers, queues, kernels), or NULL for another type. */
struct rvm_gpu_obj *gpu_pool(struct rvm_gpu_space *s, uint8_t type, uint32_t *n);
/* Index of the live object id in the pool of its type, or GPU_NONE. */
uint32_t gpu_index(const struct rvm_gpu_space *s, uint8_t type, rvm_obj_id id);
/* A free slot of a pool, or n when full. */
uint32_t gpu_free_slot(const struct rvm_gpu_obj *pool, uint32_t n);
/*
 * Resolves cap in caller's table and finds what it names: type must match
 * (RVM_E_POLICY), the object must be live in our pools (RVM_E_STALE).
 * With rights non-zero, P1 too (RVM_E_PERM).
 * *obj gets the object id (0 if the cap does not resolve), *idx its index.
 */
enum rvm_err gpu_find(const struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t cap, uint8_t type,
		      uint8_t rights, rvm_obj_id *obj, uint32_t *idx);
/* Caps in table naming (type, object) are removed with their subtrees. */
void gpu_drop_caps(struct rvm_gpu_space *s, uint32_t table, uint8_t type, rvm_obj_id object);
/* Frees a pool object: backend handle, registry id, caps in the owner's table. */
void gpu_obj_release(struct rvm_gpu_space *s, uint8_t type, uint32_t idx);
/* Kernel idx goes: its kept source record too (packing the others down). */
void gpu_ksrc_drop(struct rvm_gpu_space *s, uint32_t idx);
/* Free cap slots of a table. */
uint32_t gpu_table_room(const struct rvm_gpu_space *s, uint32_t table);

#endif
