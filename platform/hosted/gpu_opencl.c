/* platform/hosted/gpu_opencl.c - the OpenCL backend: buffers, queues, kernels and deadline-bounded
 * launches. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_opencl.h"

#define OCL_SLOTS   256u
#define OCL_LOG_MAX 4096u

struct ocl_kernel {
	cl_program prog;
	cl_kernel k;
	size_t wg; /* most work-items per group this kernel takes (0: unknown) */
};

/*
 * A launch's wait for its event, in two phases: the launching thread first
 * polls fin (no lock: polling the event itself took the event's lock from
 * the device thread completing it), then sleeps on cv until the completion
 * callback signals it or the deadline passes. refs counts the
 * holders, the waiter and a pending callback, under mu; whoever drops the last
 * reference owns w. A waiter that gave up at its deadline leaves w to the
 * callback, which frees it, so it never sees a dangling pointer. Otherwise
 * the callback's last touch of w, after it unlocked mu, is storing the
 * launch's seq into fin (release): a waiter returns only once it has seen
 * that, so it may reuse w for its queue's next launch (a later seq) or free
 * it, and a poller that sees it never contends for mu with the callback.
 */
struct ocl_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;	 /* under mu */
	int done;	 /* under mu */
	cl_int status;	 /* under mu; stable once fin == seq */
	uint32_t seq;	 /* the launch armed, under mu */
	atomic_uint fin; /* seq of the last launch whose callback let go of w */
};

/*
 * How long a launch polls before it sleeps. Most launches end within tens of
 * microseconds; waking a sleeping thread costs ~20-30 us on a virtual machine
 * (clFinish pays that on every launch). The poller yields the core between
 * looks, so on a busy machine the device's threads still get it.
 */
#define OCL_POLL_NS 200000u
/*
 * A poll that did not see its launch end (a long kernel, or a machine too
 * busy to run the device's threads) makes the queue's next 1, 2, 4, ... up to
 * this many launches sleep at once; one that did resets that.
 */
#define OCL_POLL_BACKOFF_MAX 256u

/*
 * How long after a launch's completion callback the device's next command waits, on a CPU device
 * (see settle). PoCL calls the callback before its device thread frees the command and wakes the
 * queue's waiters; a command enqueued in those few microseconds contends with it for the
 * runtime's locks, and a contended lock there sleeps in the kernel (futex). Measured with PoCL 3.1
 * on 2 cores, an agent's back-to-back empty launches against enqueue + clFinish: no wait
 * 1.08-1.24, a 3-4 us wait 0.71-0.90; in a scratch test 2 us was worse than none (the enqueue
 * met the teardown). A GPU's driver completes commands on its own threads and hardware: no
 * wait by default.
 * RVM_OPENCL_SETTLE_NS overrides it (0 to OCL_SETTLE_MAX_NS).
 */
#define OCL_SETTLE_CPU_NS 4000u
#define OCL_SETTLE_MAX_NS 100000u

/* Per queue: when to poll again (only the thread launching on the queue touches it). */
struct ocl_poll {
	uint16_t skip;	  /* launches left that sleep at once */
	uint16_t backoff; /* the skip after the next poll that misses (0: 1) */
};

struct rvm_gpu_opencl {
	cl_platform_id plat;
	cl_device_id dev;
	cl_context ctx;
	cl_command_queue io; /* transfers and buffer fills, blocking */
	cl_mem bufs[OCL_SLOTS];
	cl_command_queue queues[OCL_SLOTS];
	cl_command_queue retired[OCL_SLOTS]; /* reset after a timeout; finished at close */
	/* Per queue: its idle wait, reused launch after launch (NULL: none yet, or left to a
	 * callback after a timeout). Only the one thread launching on the queue touches it. */
	struct ocl_wait *waits[OCL_SLOTS];
	struct ocl_poll poll[OCL_SLOTS];
	struct ocl_kernel kernels[OCL_SLOTS];
	struct rvm_gpu_limits lim;
	uint64_t settle_ns;	     /* see OCL_SETTLE_CPU_NS */
	_Atomic uint64_t quiet_at; /* monotonic ns before which no command is enqueued */
	char name[256];
	char log[OCL_LOG_MAX];
};

static void wait_free(struct ocl_wait *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static void CL_CALLBACK on_complete(cl_event ev, cl_int status, void *user)
{
	struct ocl_wait *w = user;
	uint32_t seq;
	int refs;

	(void)ev;
	pthread_mutex_lock(&w->mu);
	w->status = status;
	w->done = 1;
	refs = --w->refs;
	seq = w->seq;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (refs == 0)
		wait_free(w); /* its waiter gave up at the deadline */
	else
		atomic_store_explicit(&w->fin, seq, memory_order_release);
}

/*
 * The queue slot's idle wait armed for one launch (refs 2, not done, *seq its new seq), or NULL
 * (no memory).
 */
static struct ocl_wait *wait_arm(struct rvm_gpu_opencl *o, unsigned slot, uint32_t *seq)
{
	struct ocl_wait *w = o->waits[slot];
	pthread_condattr_t ca;

	if (!w) {
		if (!(w = calloc(1, sizeof(*w))))
			return NULL;
		pthread_mutex_init(&w->mu, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cv, &ca);
		pthread_condattr_destroy(&ca);
		o->waits[slot] = w;
	}
	pthread_mutex_lock(&w->mu);
	w->refs = 2;
	w->done = 0;
	w->status = CL_COMPLETE;
	*seq = ++w->seq;
	pthread_mutex_unlock(&w->mu);
	return w;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Waits until the device's last completed launch is settle_ns behind, giving the core away
 * meanwhile: a device thread that shares it needs it for that teardown (a spin measured 0.1 worse
 * than no wait at all with one busy process on the machine; yielding, 0.05 better).
 */
static void settle(struct rvm_gpu_opencl *o)
{
	uint64_t at = atomic_load_explicit(&o->quiet_at, memory_order_relaxed);

	while (at && mono_ns() < at)
		sched_yield();
}

/* ---- opening a device ---- */

static int name_has(cl_platform_id p, cl_device_id d, const char *match, char *name, size_t cap)
{
	char pn[128] = "", dn[128] = "";

	clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof(pn) - 1, pn, NULL);
	clGetDeviceInfo(d, CL_DEVICE_NAME, sizeof(dn) - 1, dn, NULL);
	snprintf(name, cap, "%s / %s", pn, dn);
	return !match || !*match || strstr(pn, match) || strstr(dn, match);
}

/* First device matching, preferring a GPU when nothing is asked for. */
static enum rvm_err pick(struct rvm_gpu_opencl *o, const char *match, char *msg, size_t msg_cap)
{
	cl_platform_id ps[8];
	cl_uint np = 0;
	const cl_device_type order[2] = {CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_ALL};

	if (clGetPlatformIDs(8, ps, &np) != CL_SUCCESS || np == 0) {
		snprintf(msg, msg_cap,
			 "no OpenCL platform (is an ICD installed in /etc/OpenCL/vendors?)");
		return RVM_E_NOTFOUND;
	}
	if (np > 8)
		np = 8;
	for (int pass = (match && *match) ? 1 : 0; pass < 2; pass++)
		for (cl_uint i = 0; i < np; i++) {
			cl_device_id ds[8];
			cl_uint nd = 0;

			if (clGetDeviceIDs(ps[i], order[pass], 8, ds, &nd) != CL_SUCCESS)
				continue;
			for (cl_uint j = 0; j < nd && j < 8; j++)
				if (name_has(ps[i], ds[j], match, o->name, sizeof(o->name))) {
					o->plat = ps[i];
					o->dev = ds[j];
					return RVM_OK;
				}
		}
	snprintf(msg, msg_cap, "no OpenCL device%s%s (PoCL also needs a writable POCL_CACHE_DIR)",
		 match && *match ? " matching " : "", match && *match ? match : "");
	return RVM_E_NOTFOUND;
}

static void read_limits(struct rvm_gpu_opencl *o)
{
	cl_ulong gm = 0, ma = 0, lm = 0;
	size_t wi[3] = {1, 1, 1}, wg = 1;

	clGetDeviceInfo(o->dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(gm), &gm, NULL);
	clGetDeviceInfo(o->dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(ma), &ma, NULL);
	clGetDeviceInfo(o->dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(lm), &lm, NULL);
	clGetDeviceInfo(o->dev, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof(wi), wi, NULL);
	clGetDeviceInfo(o->dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(wg), &wg, NULL);
	o->lim.global_mem = gm;
	o->lim.max_alloc = ma;
	o->lim.local_mem = lm;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++) {
		o->lim.max_wi_size[d] = wi[d] > UINT32_MAX ? UINT32_MAX : (uint32_t)wi[d];
		o->lim.max_groups[d] = UINT32_MAX; /* OpenCL bounds only the global size (size_t) */
	}
	o->lim.max_wg_size = wg > UINT32_MAX ? UINT32_MAX : (uint32_t)wg;
	o->lim.max_args = RVM_GPU_MAX_ARGS;
	o->lim.can_cancel = false; /* OpenCL cannot stop a kernel once it runs */
}

/* The settle time for dev: RVM_OPENCL_SETTLE_NS when set and valid, else by the device's type. */
static uint64_t settle_default(cl_device_id dev)
{
	const char *env = getenv("RVM_OPENCL_SETTLE_NS");
	cl_device_type type = 0;
	char *end;

	if (env && *env) {
		unsigned long long v = strtoull(env, &end, 10);

		if (*end == '\0' && v <= OCL_SETTLE_MAX_NS)
			return v;
		fprintf(stderr, "rvm: RVM_OPENCL_SETTLE_NS=%s ignored (0 to %u)\n", env,
			OCL_SETTLE_MAX_NS);
	}
	clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof(type), &type, NULL);
	return (type & CL_DEVICE_TYPE_CPU) ? OCL_SETTLE_CPU_NS : 0;
}

enum rvm_err rvm_gpu_opencl_open(const char *match, struct rvm_gpu_opencl **out, char *msg,
				 size_t msg_cap)
{
	struct rvm_gpu_opencl *o = calloc(1, sizeof(*o));
	cl_int err = CL_SUCCESS;
	enum rvm_err e;

	*out = NULL;
	if (!o) {
		snprintf(msg, msg_cap, "out of memory");
		return RVM_E_NOMEM;
	}
	if (!match)
		match = getenv("RVM_OPENCL_DEVICE");
	if ((e = pick(o, match, msg, msg_cap)) != RVM_OK) {
		free(o);
		return e;
	}
	o->ctx = clCreateContext(NULL, 1, &o->dev, NULL, NULL, &err);
	if (err == CL_SUCCESS)
		o->io = clCreateCommandQueue(o->ctx, o->dev, 0, &err);
	if (err != CL_SUCCESS) {
		snprintf(msg, msg_cap, "OpenCL context on %s failed (%d)", o->name, (int)err);
		if (o->ctx)
			clReleaseContext(o->ctx);
		free(o);
		return RVM_E_IO;
	}
	read_limits(o);
	o->settle_ns = settle_default(o->dev);
	*out = o;
	return RVM_OK;
}

void rvm_gpu_opencl_close(struct rvm_gpu_opencl *o)
{
	if (!o)
		return;
	for (unsigned i = 0; i < OCL_SLOTS; i++) {
		if (o->retired[i]) {
			clFinish(o->retired[i]);
			clReleaseCommandQueue(o->retired[i]);
		}
		if (o->queues[i]) {
			clFinish(o->queues[i]);
			clReleaseCommandQueue(o->queues[i]);
		}
		if (o->waits[i])
			wait_free(o->waits[i]);
		if (o->bufs[i])
			clReleaseMemObject(o->bufs[i]);
		if (o->kernels[i].k)
			clReleaseKernel(o->kernels[i].k);
		if (o->kernels[i].prog)
			clReleaseProgram(o->kernels[i].prog);
	}
	clReleaseCommandQueue(o->io);
	clReleaseContext(o->ctx);
	free(o);
}

const char *rvm_gpu_opencl_name(const struct rvm_gpu_opencl *o)
{
	return o->name;
}

const char *rvm_gpu_opencl_build_log(const struct rvm_gpu_opencl *o)
{
	return o->log;
}

uint64_t rvm_gpu_opencl_settle_ns(const struct rvm_gpu_opencl *o)
{
	return o->settle_ns;
}

cl_context rvm_gpu_opencl_context(const struct rvm_gpu_opencl *o)
{
	return o->ctx;
}

cl_device_id rvm_gpu_opencl_device(const struct rvm_gpu_opencl *o)
{
	return o->dev;
}

/* ---- the backend table ---- */

static enum rvm_err ocl_limits(void *dev, struct rvm_gpu_limits *out)
{
	*out = ((struct rvm_gpu_opencl *)dev)->lim;
	return RVM_OK;
}

/* Index of a free slot (handle - 1), or OCL_SLOTS. */
static unsigned free_slot(void *const *slots, size_t stride)
{
	for (unsigned i = 0; i < OCL_SLOTS; i++)
		if (!*(void *const *)((const char *)slots + i * stride))
			return i;
	return OCL_SLOTS;
}

static enum rvm_err ocl_buf_alloc(void *dev, uint64_t size, uint64_t *h)
{
	struct rvm_gpu_opencl *o = dev;
	unsigned i = free_slot((void *const *)o->bufs, sizeof(o->bufs[0]));
	const cl_uchar zero = 0;
	cl_int err;
	cl_mem m;

	if (i == OCL_SLOTS)
		return RVM_E_NOMEM;
	m = clCreateBuffer(o->ctx, CL_MEM_READ_WRITE, (size_t)size, NULL, &err);
	if (err != CL_SUCCESS)
		return RVM_E_NOMEM;
	/* Never show a buffer's old contents to its new owner. */
	settle(o);
	err = clEnqueueFillBuffer(o->io, m, &zero, 1, 0, (size_t)size, 0, NULL, NULL);
	if (err == CL_SUCCESS)
		err = clFinish(o->io);
	if (err != CL_SUCCESS) {
		clReleaseMemObject(m);
		return RVM_E_IO;
	}
	o->bufs[i] = m;
	*h = i + 1u;
	return RVM_OK;
}

static cl_mem buf_of(const struct rvm_gpu_opencl *o, uint64_t h)
{
	return h >= 1 && h <= OCL_SLOTS ? o->bufs[h - 1] : NULL;
}

static void ocl_buf_free(void *dev, uint64_t h)
{
	struct rvm_gpu_opencl *o = dev;
	cl_mem m = buf_of(o, h);

	if (m) {
		clReleaseMemObject(m);
		o->bufs[h - 1] = NULL;
	}
}

static enum rvm_err ocl_buf_write(void *dev, uint64_t h, uint64_t off, const void *src, uint64_t n)
{
	struct rvm_gpu_opencl *o = dev;
	cl_mem m = buf_of(o, h);

	if (!m)
		return RVM_E_INVAL;
	settle(o);
	return clEnqueueWriteBuffer(o->io, m, CL_TRUE, (size_t)off, (size_t)n, src, 0, NULL,
				    NULL) == CL_SUCCESS
		       ? RVM_OK
		       : RVM_E_IO;
}

static enum rvm_err ocl_buf_read(void *dev, uint64_t h, uint64_t off, void *dst, uint64_t n)
{
	struct rvm_gpu_opencl *o = dev;
	cl_mem m = buf_of(o, h);

	if (!m)
		return RVM_E_INVAL;
	settle(o);
	return clEnqueueReadBuffer(o->io, m, CL_TRUE, (size_t)off, (size_t)n, dst, 0, NULL, NULL) ==
			       CL_SUCCESS
		       ? RVM_OK
		       : RVM_E_IO;
}

static enum rvm_err ocl_queue_create(void *dev, uint64_t *h)
{
	struct rvm_gpu_opencl *o = dev;
	unsigned i = free_slot((void *const *)o->queues, sizeof(o->queues[0]));
	cl_int err;

	if (i == OCL_SLOTS)
		return RVM_E_NOMEM;
	o->queues[i] = clCreateCommandQueue(o->ctx, o->dev, 0, &err);
	if (err != CL_SUCCESS) {
		o->queues[i] = NULL;
		return RVM_E_IO;
	}
	o->poll[i] = (struct ocl_poll){0};
	*h = i + 1u;
	return RVM_OK;
}

static void ocl_queue_free(void *dev, uint64_t h)
{
	struct rvm_gpu_opencl *o = dev;

	if (h >= 1 && h <= OCL_SLOTS && o->queues[h - 1]) {
		clReleaseCommandQueue(o->queues[h - 1]);
		o->queues[h - 1] = NULL;
	}
	if (h >= 1 && h <= OCL_SLOTS && o->waits[h - 1]) {
		wait_free(o->waits[h - 1]); /* idle: its last launch completed */
		o->waits[h - 1] = NULL;
	}
}

/*
 * Recovery: a fresh queue in the same slot. OpenCL cannot stop the kernel
 * that overran, so the old queue is kept aside (close waits for it); a
 * queue already set aside in this slot is released first (the runtime
 * deletes it once its work ends).
 */
static enum rvm_err ocl_queue_reset(void *dev, uint64_t h)
{
	struct rvm_gpu_opencl *o = dev;
	cl_command_queue q;
	cl_int err;

	if (h < 1 || h > OCL_SLOTS || !o->queues[h - 1])
		return RVM_E_INVAL;
	q = clCreateCommandQueue(o->ctx, o->dev, 0, &err);
	if (err != CL_SUCCESS)
		return RVM_E_IO;
	if (o->retired[h - 1])
		clReleaseCommandQueue(o->retired[h - 1]);
	o->retired[h - 1] = o->queues[h - 1];
	o->queues[h - 1] = q;
	return RVM_OK;
}

static enum rvm_err ocl_kernel_load(void *dev, const char *src, size_t src_len, const char *name,
				    uint64_t *h)
{
	struct rvm_gpu_opencl *o = dev;
	unsigned i = 0;
	struct ocl_kernel *k;
	cl_int err;

	while (i < OCL_SLOTS && o->kernels[i].k)
		i++;
	if (i == OCL_SLOTS)
		return RVM_E_NOMEM;
	k = &o->kernels[i];
	o->log[0] = 0;
	k->prog = clCreateProgramWithSource(o->ctx, 1, &src, &src_len, &err);
	if (err != CL_SUCCESS)
		return RVM_E_INVAL;
	if (clBuildProgram(k->prog, 1, &o->dev, "-cl-std=CL1.2", NULL, NULL) != CL_SUCCESS) {
		clGetProgramBuildInfo(k->prog, o->dev, CL_PROGRAM_BUILD_LOG, sizeof(o->log) - 1,
				      o->log, NULL);
		o->log[sizeof(o->log) - 1] = 0;
		clReleaseProgram(k->prog);
		k->prog = NULL;
		return RVM_E_INVAL;
	}
	k->k = clCreateKernel(k->prog, name, &err);
	if (err != CL_SUCCESS) {
		snprintf(o->log, sizeof(o->log), "no kernel named %s in the program", name);
		clReleaseProgram(k->prog);
		k->prog = NULL;
		k->k = NULL;
		return RVM_E_NOTFOUND;
	}
	k->wg = 0;
	clGetKernelWorkGroupInfo(k->k, o->dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof(k->wg), &k->wg,
				 NULL);
	*h = i + 1u;
	return RVM_OK;
}

static void ocl_kernel_free(void *dev, uint64_t h)
{
	struct rvm_gpu_opencl *o = dev;

	if (h >= 1 && h <= OCL_SLOTS && o->kernels[h - 1].k) {
		clReleaseKernel(o->kernels[h - 1].k);
		clReleaseProgram(o->kernels[h - 1].prog);
		o->kernels[h - 1].k = NULL;
		o->kernels[h - 1].prog = NULL;
	}
}

static enum rvm_err set_args(struct rvm_gpu_opencl *o, cl_kernel k, const struct rvm_gpu_arg *args,
			     uint32_t nargs)
{
	for (uint32_t i = 0; i < nargs; i++) {
		cl_int err;

		if (args[i].kind == RVM_GPU_ARG_BUFFER) {
			cl_mem m = buf_of(o, args[i].value);

			if (!m)
				return RVM_E_INVAL;
			err = clSetKernelArg(k, i, sizeof(m), &m);
		} else if (args[i].kind == RVM_GPU_ARG_LOCAL) {
			err = clSetKernelArg(k, i, args[i].size, NULL);
		} else {
			/* Scalars: the low size bytes of value (little-endian hosts). */
			err = clSetKernelArg(k, i, args[i].size, &args[i].value);
		}
		if (err != CL_SUCCESS)
			return RVM_E_INVAL;
	}
	return RVM_OK;
}

/*
 * Phase one: polls until launch seq's callback let go of w or poll_ns passed since t0, giving the
 * core away between looks (the device's threads may need it); 1 if so.
 */
static int poll_fin(struct ocl_wait *w, uint32_t seq, uint64_t t0, uint64_t poll_ns)
{
	do {
		if (atomic_load_explicit(&w->fin, memory_order_acquire) == seq)
			return 1;
		sched_yield();
	} while (mono_ns() - t0 < poll_ns);
	return atomic_load_explicit(&w->fin, memory_order_acquire) == seq;
}

/*
 * Waits for launch seq on w until timeout_ns after t0 (polling first when pp allows): 1 if it
 * completed (w is idle again and *status is the event's status), 0 if the deadline came first (w
 * is the callback's).
 */
static int wait_end(struct ocl_wait *w, uint32_t seq, struct ocl_poll *pp, uint64_t t0,
		    uint64_t timeout_ns, cl_int *status)
{
	uint64_t end = t0 + timeout_ns;
	struct timespec ts;
	int rc = 0, done;

	if (pp->skip) {
		pp->skip--;
	} else if (poll_fin(w, seq, t0, timeout_ns < OCL_POLL_NS ? timeout_ns : OCL_POLL_NS)) {
		pp->backoff = 0;
		*status = w->status;
		return 1;
	} else {
		pp->skip = pp->backoff ? pp->backoff : 1;
		if (pp->skip < OCL_POLL_BACKOFF_MAX)
			pp->backoff = (uint16_t)(pp->skip * 2u);
	}
	ts.tv_sec = (time_t)(end / 1000000000u);
	ts.tv_nsec = (long)(end % 1000000000u);
	pthread_mutex_lock(&w->mu);
	/* 0: signalled or woken spuriously; ETIMEDOUT (or an error): the deadline is over. */
	while (!w->done && rc == 0)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	done = w->done;
	*status = w->status;
	w->refs--;
	pthread_mutex_unlock(&w->mu);
	/* Done: the callback still holds its reference until its last store, nanoseconds away. */
	while (done && atomic_load_explicit(&w->fin, memory_order_acquire) != seq)
		sched_yield();
	return done;
}

static enum rvm_err ocl_launch(void *dev, uint64_t queue, uint64_t kernel,
			       const struct rvm_gpu_launch_cfg *cfg, const struct rvm_gpu_arg *args,
			       uint32_t nargs, struct rvm_gpu_run *run)
{
	struct rvm_gpu_opencl *o = dev;
	size_t global[RVM_GPU_DIMS], local[RVM_GPU_DIMS], kwg;
	cl_command_queue q;
	cl_kernel k;
	cl_event ev;
	cl_int status, cb;
	struct ocl_wait *w;
	uint64_t t0;
	uint32_t seq;
	enum rvm_err e;

	run->timed_out = false;
	run->cancelled = false;
	if (queue < 1 || queue > OCL_SLOTS || kernel < 1 || kernel > OCL_SLOTS)
		return RVM_E_INVAL;
	q = o->queues[queue - 1];
	k = o->kernels[kernel - 1].k;
	kwg = o->kernels[kernel - 1].wg;
	if (!q || !k)
		return RVM_E_INVAL;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++) {
		local[d] = cfg->local[d];
		global[d] = (size_t)(cfg->groups[d] * cfg->local[d]); /* validated: no overflow */
	}
	/* A kernel may take fewer work-items per group than the device. */
	if (kwg && local[0] * local[1] * local[2] > kwg)
		return RVM_E_RANGE;
	if ((e = set_args(o, k, args, nargs)) != RVM_OK)
		return e;
	if (!(w = wait_arm(o, (unsigned)queue - 1, &seq)))
		return RVM_E_NOMEM;
	settle(o);
	t0 = mono_ns(); /* the deadline runs from the enqueue */
	if (clEnqueueNDRangeKernel(q, k, cfg->dims, NULL, global, local, 0, NULL, &ev) !=
	    CL_SUCCESS)
		return RVM_E_IO;
	/*
	 * A callback for a status already reached runs at once, so none is missed. Without one
	 * there is no bounded wait: a device error (the context takes the recovery path).
	 */
	cb = clSetEventCallback(ev, CL_COMPLETE, on_complete, w);
	/*
	 * The event is not needed past this point: the runtime keeps it until the command
	 * completes and its callbacks ran. Released now, while it is still pending, its last
	 * reference is the runtime's own, dropped by the device thread once it is done with it,
	 * as for a launch enqueued without an event; released after completion, it was freed on
	 * this thread, under locks the device thread may still hold.
	 */
	clReleaseEvent(ev);
	if (cb != CL_SUCCESS)
		return RVM_E_IO;
	clFlush(q);
	if (!wait_end(w, seq, &o->poll[queue - 1], t0, cfg->timeout_ns, &status)) {
		o->waits[queue - 1] = NULL; /* the callback frees it */
		run->timed_out = true;
		return RVM_E_TIMEOUT;
	}
	if (o->settle_ns)
		atomic_store_explicit(&o->quiet_at, mono_ns() + o->settle_ns, memory_order_relaxed);
	return status == CL_COMPLETE ? RVM_OK : RVM_E_IO;
}

static const struct rvm_gpu_backend ocl_backend = {
	.name = "opencl",
	.limits = ocl_limits,
	.buf_alloc = ocl_buf_alloc,
	.buf_free = ocl_buf_free,
	.buf_write = ocl_buf_write,
	.buf_read = ocl_buf_read,
	.queue_create = ocl_queue_create,
	.queue_free = ocl_queue_free,
	.queue_reset = ocl_queue_reset,
	.kernel_load = ocl_kernel_load,
	.kernel_free = ocl_kernel_free,
	.launch = ocl_launch,
};

const struct rvm_gpu_backend *rvm_gpu_opencl_backend(void)
{
	return &ocl_backend;
}
