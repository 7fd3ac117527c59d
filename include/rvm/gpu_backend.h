/* rvm/gpu_backend.h - what a GPU backend (cpu reference, OpenCL) provides to the GPU kernel
 * objects. */
#ifndef RVM_GPU_BACKEND_H
#define RVM_GPU_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/platform.h>

/* Work dimensions of a launch (OpenCL and CUDA both stop at three). */
#define RVM_GPU_DIMS 3u
/* Arguments one kernel launch may take. */
#define RVM_GPU_MAX_ARGS 8u
/* Deadline of a launch that names none: 100 ms. */
#define RVM_GPU_DEFAULT_TIMEOUT_NS 100000000ull
/* Longest deadline a launch may ask for: 10 s (a GPU watchdog's order of magnitude). */
#define RVM_GPU_MAX_TIMEOUT_NS 10000000000ull

/*
 * What a device can do, as its backend reports it. The core validates every
 * launch against these before anything reaches the device.
 */
struct rvm_gpu_limits {
	uint64_t global_mem;		    /* device memory in bytes */
	uint64_t max_alloc;		    /* largest single buffer */
	uint64_t local_mem;		    /* shared (local) memory per work-group */
	uint64_t max_groups[RVM_GPU_DIMS];  /* work-group count per dimension */
	uint32_t max_wi_size[RVM_GPU_DIMS]; /* work-group size per dimension */
	uint32_t max_wg_size;		    /* work-items in one work-group */
	uint32_t max_args;		    /* <= RVM_GPU_MAX_ARGS */
	bool can_cancel;		    /* a launch past its deadline is stopped */
};

/*
 * One launch: dims dimensions, groups[d] work-groups of local[d] work-items
 * in dimension d (unused dimensions must be 1), local_mem bytes of shared
 * memory per work-group and a deadline (0 = RVM_GPU_DEFAULT_TIMEOUT_NS).
 */
struct rvm_gpu_launch_cfg {
	uint32_t dims;
	uint32_t local[RVM_GPU_DIMS];
	uint64_t groups[RVM_GPU_DIMS];
	uint64_t local_mem;
	uint64_t timeout_ns;
};

/* Kinds of kernel argument. */
enum rvm_gpu_arg_kind {
	RVM_GPU_ARG_BUFFER = 1, /* a buffer; value is its capability (backend: buffer handle) */
	RVM_GPU_ARG_SCALAR = 2, /* size bytes (1, 2, 4 or 8) of value, little-endian */
	RVM_GPU_ARG_LOCAL =
		3, /* size bytes of shared memory per work-group (counts to local_mem) */
};

struct rvm_gpu_arg {
	uint32_t kind; /* enum rvm_gpu_arg_kind */
	uint32_t size;
	uint64_t value;
};

/* How a backend launch ended. */
struct rvm_gpu_run {
	bool timed_out; /* the deadline passed before the kernel finished */
	bool cancelled; /* ... and the backend stopped it (else it may still be running) */
};

/*
 * A backend: a table of operations on its own device state (dev). Handles
 * are backend-chosen non-zero numbers. Contracts:
 *  - the core calls these only after its own checks (caps, budget, bounds,
 *    launch validation), so a backend may trust sizes and offsets;
 *  - launch waits at most about timeout_ns for the kernel, fills *run and
 *    returns RVM_OK, RVM_E_TIMEOUT (run says whether it was cancelled) or
 *    RVM_E_IO for a device error;
 *  - queue_reset is the recovery path after a timeout: the queue is usable
 *    again afterwards even if the overrunning kernel could not be stopped;
 *  - every *_free accepts any handle it issued, exactly once.
 */
struct rvm_gpu_backend {
	const char *name; /* "cpu", "opencl" */
	enum rvm_err (*limits)(void *dev, struct rvm_gpu_limits *out);
	enum rvm_err (*buf_alloc)(void *dev, uint64_t size, uint64_t *h);
	void (*buf_free)(void *dev, uint64_t h);
	enum rvm_err (*buf_write)(void *dev, uint64_t h, uint64_t off, const void *src, uint64_t n);
	enum rvm_err (*buf_read)(void *dev, uint64_t h, uint64_t off, void *dst, uint64_t n);
	enum rvm_err (*queue_create)(void *dev, uint64_t *h);
	void (*queue_free)(void *dev, uint64_t h);
	enum rvm_err (*queue_reset)(void *dev, uint64_t h);
	/* Builds kernel `name` from source (OpenCL C; the cpu backend looks name up instead). */
	enum rvm_err (*kernel_load)(void *dev, const char *src, size_t src_len, const char *name,
				    uint64_t *h);
	void (*kernel_free)(void *dev, uint64_t h);
	enum rvm_err (*launch)(void *dev, uint64_t queue, uint64_t kernel,
			       const struct rvm_gpu_launch_cfg *cfg, const struct rvm_gpu_arg *args,
			       uint32_t nargs, struct rvm_gpu_run *run);
};

/* ---- The cpu reference backend (kernel/gpu_cpu.c): kernels are C functions, memory an arena ----
 */

/* Where one work-item is; ids and sizes per dimension (unused dimensions: id 0, size 1). */
struct rvm_gpu_cpu_item {
	uint64_t global_id[RVM_GPU_DIMS];
	uint64_t group_id[RVM_GPU_DIMS];
	uint32_t local_id[RVM_GPU_DIMS];
	uint64_t global_size[RVM_GPU_DIMS];
	uint32_t local_size[RVM_GPU_DIMS];
	void *shared; /* the work-group's shared memory (cfg.local_mem bytes), zeroed per launch */
};

/* A launch's arguments as a C kernel sees them: buffers and local memory as pointers. */
struct rvm_gpu_cpu_args {
	void *ptr[RVM_GPU_MAX_ARGS];	 /* BUFFER, LOCAL */
	uint64_t val[RVM_GPU_MAX_ARGS];	 /* SCALAR */
	uint64_t size[RVM_GPU_MAX_ARGS]; /* bytes behind ptr */
	uint32_t n;
};

/*
 * A C kernel, called once per work-item. The work-items of one group run
 * one after another, so a kernel must not wait for another work-item
 * (no barriers); shared memory persists across the items of a group.
 */
typedef void rvm_gpu_cpu_fn(const struct rvm_gpu_cpu_item *it, const struct rvm_gpu_cpu_args *a);

struct rvm_gpu_cpu_kernel {
	const char *name;
	rvm_gpu_cpu_fn *fn;
};

#ifndef RVM_GPU_CPU_BUFS
#define RVM_GPU_CPU_BUFS 256u
#endif
#define RVM_GPU_CPU_ALIGN 64u

/*
 * State of one cpu device, caller-owned: device memory is mem[0..mem_size),
 * shared memory shared[0..shared_size). Invariant: used extents lie inside
 * mem, are RVM_GPU_CPU_ALIGN-aligned and never overlap. The deadline is
 * checked between work-groups, so a launch past it stops there (a single
 * work-item that never returns cannot be stopped).
 */
struct rvm_gpu_cpu {
	const struct rvm_platform *plat; /* clock for deadlines */
	uint8_t *mem;
	uint64_t mem_size;
	uint8_t *shared;
	uint64_t shared_size;
	const struct rvm_gpu_cpu_kernel *kernels;
	uint32_t nkernels;
	uint64_t next_queue;
	struct {
		uint64_t off, len;
		uint8_t used;
	} ext[RVM_GPU_CPU_BUFS];
};

/* The backend table of the cpu device. */
const struct rvm_gpu_backend *rvm_gpu_cpu_backend(void);
/* Sets up a cpu device over caller memory and a table of nkernels C kernels. */
void rvm_gpu_cpu_init(struct rvm_gpu_cpu *c, const struct rvm_platform *plat, uint8_t *mem,
		      uint64_t mem_size, uint8_t *shared, uint64_t shared_size,
		      const struct rvm_gpu_cpu_kernel *kernels, uint32_t nkernels);

#endif
