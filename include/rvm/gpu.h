/* rvm/gpu.h - GPU compute as kernel objects: devices, contexts, buffers, queues, kernels, launches.
 */
#ifndef RVM_GPU_H
#define RVM_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/err.h>
#include <rvm/gate.h>
#include <rvm/gpu_backend.h>
#include <rvm/platform.h>
#include <rvm/profile.h>
#include <rvm/proof.h>

/*
 * Pools. A partition has at most one GPU context (its budget); the other
 * pools are shared by every context of the space.
 */
#ifndef RVM_GPU_DEVICES
#define RVM_GPU_DEVICES 4u
#endif
#ifndef RVM_GPU_CONTEXTS
#define RVM_GPU_CONTEXTS 64u
#endif
#ifndef RVM_GPU_BUFFERS
#define RVM_GPU_BUFFERS 256u
#endif
#ifndef RVM_GPU_QUEUES
#define RVM_GPU_QUEUES 64u
#endif
#ifndef RVM_GPU_KERNELS
#define RVM_GPU_KERNELS 64u
#endif
/* Bytes of buffer contents agents' checkpoints may hold at once (kernel/agent_gpu_ckpt.c). */
#ifndef RVM_GPU_CAPTURE_BYTES
#define RVM_GPU_CAPTURE_BYTES (1u << 20)
#endif
/* Bytes of kernel sources (with their names) kept so a restore can build a freed kernel again. */
#ifndef RVM_GPU_KSRC_BYTES
#define RVM_GPU_KSRC_BYTES (64u << 10)
#endif
_Static_assert(RVM_GPU_BUFFERS < 0xffffu && RVM_GPU_CONTEXTS < 0xffffu, "pool index in 16 bits");

/* Rights each operation needs on the capability it presents. */
#define RVM_GPU_LAUNCH_RIGHTS (RVM_RIGHT_EXECUTE | RVM_RIGHT_WRITE) /* on the device cap */
#define RVM_GPU_CTX_RIGHTS    (RVM_RIGHT_WRITE)			    /* alloc, queue, kernel load */
#define RVM_GPU_BUF_RIGHTS    (RVM_RIGHT_READ | RVM_RIGHT_WRITE)    /* minted on a buffer */

/* The four budget dimensions. */
enum rvm_gpu_dim {
	RVM_GPU_DIM_COMPUTE = 0,  /* ns of device time per epoch */
	RVM_GPU_DIM_MEMORY = 1,	  /* bytes of device memory held (a level, not reset per epoch) */
	RVM_GPU_DIM_TRANSFER = 2, /* bytes moved host <-> device per epoch */
	RVM_GPU_DIM_LAUNCHES = 3, /* launches per epoch */
	RVM_GPU_DIM_COUNT
};

/*
 * A partition's GPU budget. Invariant: used[d] <= limit[d] for every d, at
 * every moment: a request is charged in all its dimensions at once or in
 * none (rvm_gpu_budget_charge), and a launch is charged its whole deadline
 * before it runs, the unused part given back after.
 */
struct rvm_gpu_budget {
	uint64_t limit[RVM_GPU_DIM_COUNT];
	uint64_t used[RVM_GPU_DIM_COUNT];
};

/* The error a refusal in dimension d returns (RVM_E_BUDGET_COMPUTE, ...). */
enum rvm_err rvm_gpu_dim_err(enum rvm_gpu_dim d);
/*
 * Check and record in one step: adds cost[d] to used[d] for every d if every
 * sum stays within its limit (and does not overflow); otherwise changes
 * nothing and returns the error of the first dimension that does not fit.
 */
enum rvm_err rvm_gpu_budget_charge(struct rvm_gpu_budget *b,
				   const uint64_t cost[RVM_GPU_DIM_COUNT]);
/* Gives back up to amount in dimension d (never below zero). */
void rvm_gpu_budget_release(struct rvm_gpu_budget *b, enum rvm_gpu_dim d, uint64_t amount);
/* A new epoch: compute, transfer and launches start again from zero; memory stays held. */
void rvm_gpu_budget_epoch(struct rvm_gpu_budget *b);

/*
 * Checks a launch against the device before anything reaches it, in this
 * order: RVM_E_INVAL for dims outside 1..3, an unused dimension not 1, or
 * a zero size or count; RVM_E_RANGE for a work-group size over a dimension's
 * limit or more work-items per group than the device takes, a group count
 * over its limit, shared memory over the device's, or a deadline over
 * RVM_GPU_MAX_TIMEOUT_NS; RVM_E_OVERFLOW when the total number of
 * work-items (or of one dimension's global size) does not fit in 64 bits.
 * *threads (may be NULL) gets the total work-items and *timeout_ns the
 * deadline in force (the default for 0).
 */
enum rvm_err rvm_gpu_validate(const struct rvm_gpu_limits *lim, const struct rvm_gpu_launch_cfg *c,
			      uint64_t extra_local, uint64_t *threads, uint64_t *timeout_ns);

/* ---- The objects ---- */

/* A device the kernel registered: a backend and its state. */
struct rvm_gpu_device {
	rvm_obj_id id;
	const struct rvm_gpu_backend *be;
	void *dev; /* the backend's state */
	struct rvm_gpu_limits lim;
	uint64_t mem_used; /* device memory held by every context */
	uint8_t used;
};

/*
 * A partition's context on one device. Invariants: live iff id is live in
 * the registry as RVM_OBJ_GPU_CONTEXT; owner's by_part entry points here;
 * budget.used[MEMORY] is the sum of its live buffers' sizes; while faulted
 * (a launch overran its deadline) only rvm_gpu_recover and teardown work;
 * while busy (a launch is on the device with the embedder's lock dropped)
 * every other operation on it is refused with RVM_E_BUSY.
 */
struct rvm_gpu_context {
	rvm_obj_id id;
	struct rvm_gpu_budget budget;
	uint64_t overrun_ns; /* deadline overruns seen (device time beyond a charged deadline) */
	rvm_cap_t dev_cap;   /* the caps rvm_gpu_attach minted in owner's table (rvm.gpu_open) */
	rvm_cap_t ctx_cap;
	uint32_t owner;	     /* partition */
	uint16_t device;     /* index into devices */
	uint8_t used;
	uint8_t faulted;
	uint8_t busy; /* a launch runs with the embedder's lock dropped: other calls get E_BUSY */
};

/*
 * A buffer, queue or kernel: an object of one context. Invariants: used iff
 * id is live in the registry with the pool's type; ctx names a used context;
 * handle is the backend's; its capability lives in the context owner's table.
 */
struct rvm_gpu_obj {
	rvm_obj_id id;
	uint64_t handle; /* backend handle */
	uint64_t size;	 /* buffers: bytes */
	uint16_t ctx;
	uint8_t used;
	uint8_t pad[5];
};

/*
 * Every GPU object of a kernel, caller-owned. by_obj maps a registry slot to
 * the index in the pool of that object's type (0xffff: none); by_part maps
 * a partition to its context (0xffff: none).
 */
struct rvm_gpu_space {
	struct rvm_gate *gate;
	const struct rvm_platform *plat; /* clock for device time */
	struct rvm_gpu_device devices[RVM_GPU_DEVICES];
	struct rvm_gpu_context ctxs[RVM_GPU_CONTEXTS];
	struct rvm_gpu_obj bufs[RVM_GPU_BUFFERS];
	struct rvm_gpu_obj queues[RVM_GPU_QUEUES];
	struct rvm_gpu_obj kernels[RVM_GPU_KERNELS];
	uint16_t by_obj[RVM_OBJ_SLOTS];
	uint16_t by_part[RVM_CAP_TABLES];
	uint64_t epoch; /* budget epoch, +1 per rvm_gpu_epoch */
	/*
	 * What agents' checkpoints captured of their buffers (kernel/agent_gpu_ckpt.c): each
	 * agent's capture is one run [snap_off, snap_off + snap_len) of capture[0, capture_len),
	 * runs packed in no particular order.
	 */
	uint32_t capture_len;
	uint32_t capture_no_src; /* kernels a capture holds no source for (see ksrc): stale if
				  * the agent frees them before a restore */
	uint8_t capture[RVM_GPU_CAPTURE_BYTES];
	/*
	 * What each live kernel was built from, so a checkpoint's capture can keep it:
	 * kernels[i]'s record is ksrc[ksrc_off[i], + ksrc_len[i]) = name, NUL, source; records
	 * packed in no particular order. ksrc_len[i] == 0: not kept (no room when it was built).
	 * Invariant: the records of live kernels add up to ksrc_used; a free kernel has none.
	 */
	uint32_t ksrc_used;
	uint32_t ksrc_off[RVM_GPU_KERNELS];
	uint32_t ksrc_len[RVM_GPU_KERNELS];
	uint8_t ksrc[RVM_GPU_KSRC_BYTES];
	/*
	 * The embedder's lock (rvm_world's), dropped while a backend runs a launch (a first
	 * launch may compile for a second; a kernel may run to its deadline) so other agents
	 * keep running; the launching context is busy meanwhile. NULL hooks: held throughout.
	 */
	struct {
		void (*lock)(void *ctx);
		void (*unlock)(void *ctx);
		void *ctx;
	} drop;
};

void rvm_gpu_init(struct rvm_gpu_space *s, struct rvm_gate *gate, const struct rvm_platform *plat);

/*
 * Kernel-only: registers a device run by backend be over its state dev.
 * *index gets its number for rvm_gpu_attach. RVM_E_NOMEM when the pool or
 * the registry is full; the backend's error if it cannot report limits.
 * Witness GPU_ATTACH (target the device id, arg0 index, arg1 device memory).
 */
enum rvm_err rvm_gpu_device_add(struct rvm_gpu_space *s, const struct rvm_gpu_backend *be,
				void *dev, uint32_t *index);

/*
 * Kernel-only (the manifest's grant): gives partition a context on device
 * index with budget limits limit[] and mints, in the partition's table, a
 * device cap with dev_rights and a context cap with READ|WRITE. RVM_E_EXISTS
 * if the partition already has a context, RVM_E_NOTFOUND for no such device,
 * RVM_E_RANGE for a partition number out of range, RVM_E_NOMEM when a pool
 * or the table is full (nothing is left behind). Witness GPU_ATTACH
 * (target context, arg0 partition, arg1 device index) and two CAP_MINTs.
 */
enum rvm_err rvm_gpu_attach(struct rvm_gpu_space *s, uint32_t partition, uint32_t index,
			    uint8_t dev_rights, const uint64_t limit[RVM_GPU_DIM_COUNT],
			    rvm_cap_t *dev_cap, rvm_cap_t *ctx_cap);
/*
 * Kernel-only teardown: frees every buffer, queue and kernel of the
 * partition's context, deletes their caps and the context's. Witness
 * GPU_DETACH (arg0 partition, arg1 objects freed). RVM_E_NOTFOUND without one.
 */
enum rvm_err rvm_gpu_detach(struct rvm_gpu_space *s, uint32_t partition);

/*
 * The operations an agent reaches through host functions. caller is the
 * partition (cap table) asking; every cap is looked up in caller's table.
 * Each passes the gate (P1 rights, P2.1 ownership: an object of another
 * partition is refused even with a cap that names it), is charged to the
 * caller's budget and is witnessed; a refusal is witnessed too (CAP_DENIED
 * or GATE_DENIED, arg1 the error). RVM_E_STATE while the context is faulted.
 */

/*
 * A buffer of size bytes (zeroed) on the context's device; *buf gets a
 * READ|WRITE cap. RVM_E_BUDGET_MEMORY over the memory budget, RVM_E_RANGE
 * for 0 or more than the device's largest allocation, RVM_E_NOMEM when the
 * device or a pool is full. Witness GPU_ALLOC (target buffer, arg0 size).
 */
enum rvm_err rvm_gpu_alloc(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t ctx_cap,
			   uint64_t size, rvm_cap_t *buf);
/* Frees a buffer, queue or kernel (cap with WRITE) and its cap. Witness GPU_FREE. */
enum rvm_err rvm_gpu_free(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t cap);
/*
 * Copies n bytes into (write) or out of (read) the buffer at off. Needs WRITE
 * or READ. RVM_E_RANGE outside the buffer, RVM_E_BUDGET_TRANSFER over the
 * transfer budget. Witness GPU_TRANSFER (arg0 off | direction << 63, arg1 n).
 */
enum rvm_err rvm_gpu_write(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t buf, uint64_t off,
			   const void *src, uint64_t n);
enum rvm_err rvm_gpu_read(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t buf, uint64_t off,
			  void *dst, uint64_t n);
/*
 * Kernel-only, for checkpoints of the agents' GPU state (kernel/agent_gpu_ckpt.c): the whole
 * buffer (n its size) into data (read) or from it (write), on behalf of partition, whose cap
 * buf is. The same gate and checks as rvm_gpu_read / rvm_gpu_write, but not charged to the
 * budget (the kernel's checkpoint is not the agent's traffic). Witness GPU_TRANSFER with bit 62
 * of arg0 set.
 */
enum rvm_err rvm_gpu_ckpt_xfer(struct rvm_gpu_space *s, uint32_t partition, rvm_cap_t buf,
			       void *data, uint64_t n, bool write);
/*
 * Kernel-only, for checkpoints (kernel/agent_gpu_ckpt.c): what the live kernel object was built
 * from, *rec = name, NUL, source (*len bytes, in the space: valid until the next kernel load or
 * free). RVM_E_NOTFOUND for no live kernel, RVM_E_NOMEM when its source was not kept (the
 * RVM_GPU_KSRC_BYTES store was full when it was built).
 */
enum rvm_err rvm_gpu_kernel_source(const struct rvm_gpu_space *s, rvm_obj_id kernel,
				   const uint8_t **rec, uint32_t *len);
/* A command queue on the context. Witness GPU_QUEUE. */
enum rvm_err rvm_gpu_queue(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t ctx_cap,
			   rvm_cap_t *queue);
/*
 * Builds kernel name from src (OpenCL C) on the context's device; *kernel
 * gets a READ|EXECUTE cap. Its name and source are kept (rvm_gpu_kernel_source) while it lives,
 * if they fit the RVM_GPU_KSRC_BYTES store. RVM_E_INVAL for an empty name or source the
 * backend rejects (a build error). Witness GPU_KERNEL (arg0 source bytes).
 */
enum rvm_err rvm_gpu_kernel(struct rvm_gpu_space *s, uint32_t caller, rvm_cap_t ctx_cap,
			    const char *src, size_t src_len, const char *name, rvm_cap_t *kernel);

/* A launch request: caps plus configuration. Buffer arguments carry a buffer cap in value. */
struct rvm_gpu_launch_req {
	rvm_cap_t device; /* needs RVM_GPU_LAUNCH_RIGHTS */
	rvm_cap_t queue;  /* needs WRITE */
	rvm_cap_t kernel; /* needs EXECUTE */
	struct rvm_gpu_launch_cfg cfg;
	struct rvm_gpu_arg args[RVM_GPU_MAX_ARGS];
	uint32_t nargs;
};

/*
 * The launch request as an agent passes it to the rvm.gpu_launch host function: bytes in its
 * linear memory, little-endian, version 1:
 *   0 device cap u64 | 8 queue cap u64 | 16 kernel cap u64 | 24 dims u32 | 28 nargs u32 |
 *   32 local[3] u32 | 44 zero u32 | 48 groups[3] u64 | 72 local_mem u64 | 80 timeout_ns u64 |
 *   88 nargs x { kind u32 | size u32 | value u64 } (a buffer argument's value is its cap).
 */
#define RVM_GPU_WIRE_HEAD 88u
#define RVM_GPU_WIRE_ARG  16u
#define RVM_GPU_WIRE_MAX  (RVM_GPU_WIRE_HEAD + RVM_GPU_MAX_ARGS * RVM_GPU_WIRE_ARG)

/*
 * Decodes len bytes into *out. RVM_E_MALFORMED when len is not exactly the head plus nargs
 * arguments, nargs exceeds RVM_GPU_MAX_ARGS or the reserved word is not zero. Only the
 * layout is checked here; rvm_gpu_launch checks the contents.
 */
enum rvm_err rvm_gpu_wire_decode(const uint8_t *buf, size_t len, struct rvm_gpu_launch_req *out);
/* The inverse, for agents written in C and for tests: RVM_GPU_WIRE_HEAD + 16 * nargs bytes. */
size_t rvm_gpu_wire_encode(const struct rvm_gpu_launch_req *req, uint8_t out[RVM_GPU_WIRE_MAX]);

/*
 * Validates (rvm_gpu_validate), charges one launch and the whole deadline to
 * the budget (RVM_E_BUDGET_LAUNCHES, RVM_E_BUDGET_COMPUTE), runs the kernel
 * and gives back the unused time. A launch that completes is folded into the
 * log's epoch batch (rvm_witness_batch_add: GPU_LAUNCH, actor caller, target
 * kernel, arg0 device ns charged; the batch record, written at the next epoch
 * or another actor's batched event, holds the count and the ns summed). A
 * kernel past its deadline returns RVM_E_TIMEOUT and is witnessed on its own:
 * GPU_LAUNCH (target kernel, arg0 work-items, arg1 device ns charged), then
 * GPU_CANCEL (arg0 1 if stopped, arg1 ns); it faults the context until
 * rvm_gpu_recover, the partition's recovery path. A device error likewise.
 */
enum rvm_err rvm_gpu_launch(struct rvm_gpu_space *s, uint32_t caller,
			    const struct rvm_gpu_launch_req *req);
/*
 * Kernel-only recovery after a timeout: resets every queue of the
 * partition's context and clears the fault. Witness GPU_RECOVER.
 */
enum rvm_err rvm_gpu_recover(struct rvm_gpu_space *s, uint32_t partition);

/* Kernel-only: starts a new budget epoch for every context, after writing the batch of launches
 * (rvm_witness_batch_flush). Witness GPU_EPOCH (arg0 epoch). */
enum rvm_err rvm_gpu_epoch(struct rvm_gpu_space *s);

/*
 * Ownership moves (kernel-only, for split, merge and migration to call).
 * move_owner gives partition from's whole context to partition to (which
 * must have none: RVM_E_EXISTS): every cap is minted again in to's table and
 * deleted from from's, buffers stay where they are on the device. map (may
 * be NULL, else room for `cap` pairs) receives old -> new handles, *n their
 * count. Witness GPU_MOVE (arg0 from, arg1 to).
 */
struct rvm_gpu_handle_map {
	rvm_cap_t from, to;
};
enum rvm_err rvm_gpu_move_owner(struct rvm_gpu_space *s, uint32_t from, uint32_t to,
				struct rvm_gpu_handle_map *map, uint32_t cap, uint32_t *n);
/*
 * Moves one buffer (split) from its context to partition to's context on the
 * same device; its memory is charged to to's budget (RVM_E_BUDGET_MEMORY if
 * it does not fit) and released from the old one. *new_cap gets the cap in
 * to's table. RVM_E_POLICY for a different device. Witness GPU_MOVE.
 */
enum rvm_err rvm_gpu_move_buffer(struct rvm_gpu_space *s, uint32_t from, rvm_cap_t buf, uint32_t to,
				 rvm_cap_t *new_cap);

/*
 * A swarm split or merge moves caps between partition tables itself (CAP_MOVE, new handles);
 * these make the GPU objects follow the caps (kernel-only, lock held).
 *
 * rvm_gpu_split_check: could rvm_gpu_follow_split of from's context succeed once the split
 * has made its partition (which itself needs spare registry slots)? RVM_OK when from has no
 * context; RVM_E_BUSY / RVM_E_STATE while it is busy / faulted, RVM_E_NOMEM for a full
 * context pool or registry, RVM_E_FULL for a full log. Changes nothing.
 *
 * rvm_gpu_follow_split: after a split moved to partition `to` the caps of the GPU objects its
 * agents use, `to` gets a context of its own on from's device holding exactly the objects its
 * table's caps name, a device cap with the rights of from's and a context cap (READ|WRITE).
 * The budget is shared: the buffers' bytes move exactly; every other dimension's limit and
 * per-epoch use are split num/den (the moving agents' share) to `to`, the rest stays, so
 * neither side's use exceeds its limit and the two limits add up to the old one (splitting
 * never creates budget). *moved (may be NULL) gets the objects moved. RVM_E_EXISTS if `to`
 * has a context, RVM_E_NOTFOUND if from has none, RVM_E_RANGE for bad partitions or num > den,
 * RVM_E_NOMEM, RVM_E_BUSY. Witness GPU_MOVE (target the new context, arg0 from, arg1 to) and
 * two CAP_MINTs.
 *
 * rvm_gpu_merge_check (before the merge): RVM_E_POLICY when both partitions have contexts on
 * different devices or with different device rights (a partition has one context), RVM_E_BUSY
 * / RVM_E_STATE while one is busy / faulted; RVM_OK otherwise. Changes nothing.
 *
 * rvm_gpu_follow_merge (after the merge moved from's caps into into's table): from's context
 * becomes into's (into had none), or its objects join into's context: limits and use add up
 * (saturating), from's context object and its caps go, into keeps its own device cap. RVM_OK
 * with nothing to do when from had no context. Witness GPU_MOVE (target from's context).
 */
enum rvm_err rvm_gpu_split_check(const struct rvm_gpu_space *s, uint32_t from, uint32_t spare);
enum rvm_err rvm_gpu_follow_split(struct rvm_gpu_space *s, uint32_t from, uint32_t to,
				  uint32_t num, uint32_t den, uint32_t *moved);
enum rvm_err rvm_gpu_merge_check(const struct rvm_gpu_space *s, uint32_t from, uint32_t into);
enum rvm_err rvm_gpu_follow_merge(struct rvm_gpu_space *s, uint32_t from, uint32_t into);

/* The context of a partition, or NULL (read-only view: the live view shows budget use). */
const struct rvm_gpu_context *rvm_gpu_context_of(const struct rvm_gpu_space *s, uint32_t partition);
/* Checks the invariants above; RVM_OK or RVM_E_CORRUPT. For tests and debug builds. */
enum rvm_err rvm_gpu_check_invariants(const struct rvm_gpu_space *s);

#endif
