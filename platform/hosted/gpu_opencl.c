/* platform/hosted/gpu_opencl.c - the OpenCL backend: buffers, queues, kernels and deadline-bounded
 * launches. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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

struct rvm_gpu_opencl {
	cl_platform_id plat;
	cl_device_id dev;
	cl_context ctx;
	cl_command_queue io; /* transfers and buffer fills, blocking */
	cl_mem bufs[OCL_SLOTS];
	cl_command_queue queues[OCL_SLOTS];
	cl_command_queue retired[OCL_SLOTS]; /* reset after a timeout; finished at close */
	struct ocl_kernel kernels[OCL_SLOTS];
	struct rvm_gpu_limits lim;
	char name[256];
	char log[OCL_LOG_MAX];
};

/*
 * A launch waiting for its event. Shared by the waiter and the completion
 * callback; whichever lets go last frees it (refs under mu), so a waiter
 * that gave up at its deadline never leaves the callback a dangling pointer.
 */
struct ocl_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	int done;
	cl_int status;
};

static void wait_put(struct ocl_wait *w)
{
	int refs;

	pthread_mutex_lock(&w->mu);
	refs = --w->refs;
	pthread_mutex_unlock(&w->mu);
	if (refs == 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
	}
}

static void CL_CALLBACK on_complete(cl_event ev, cl_int status, void *user)
{
	struct ocl_wait *w = user;

	(void)ev;
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	w->status = status;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	wait_put(w);
}

static struct ocl_wait *wait_new(void)
{
	struct ocl_wait *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;

	if (!w)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->refs = 2;
	return w;
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

/* Waits for w until timeout_ns from now; 1 if it completed. */
static int wait_until(struct ocl_wait *w, uint64_t timeout_ns)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(timeout_ns / 1000000000u);
	ts.tv_nsec += (long)(timeout_ns % 1000000000u);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	rc = w->done;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* How long a launch is polled before its waiter sleeps on the completion callback. */
#define OCL_POLL_NS 200000u

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Polls ev for at most OCL_POLL_NS (and the deadline): 1 complete, -1 failed, 0 still running. */
static int poll_event(cl_event ev, uint64_t timeout_ns)
{
	uint64_t t0 = mono_ns(), limit = timeout_ns < OCL_POLL_NS ? timeout_ns : OCL_POLL_NS;
	cl_int st;

	do {
		if (clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st), &st, NULL) !=
		    CL_SUCCESS)
			return -1;
		if (st == CL_COMPLETE)
			return 1;
		if (st < 0)
			return -1;
		sched_yield(); /* on a busy machine the device's threads need this core */
	} while (mono_ns() - t0 < limit);
	return 0;
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
	struct ocl_wait *w;
	enum rvm_err e;
	int done;

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
	if (clEnqueueNDRangeKernel(q, k, cfg->dims, NULL, global, local, 0, NULL, &ev) !=
	    CL_SUCCESS)
		return RVM_E_IO;
	clFlush(q);
	/* Most launches end within microseconds: poll first, no thread hand-off needed. */
	if ((done = poll_event(ev, cfg->timeout_ns)) != 0) {
		clReleaseEvent(ev);
		return done > 0 ? RVM_OK : RVM_E_IO;
	}
	if (!(w = wait_new())) {
		clFinish(q);
		clReleaseEvent(ev);
		return RVM_E_NOMEM;
	}
	/* A callback for a status already reached runs at once, so none is missed. */
	if (clSetEventCallback(ev, CL_COMPLETE, on_complete, w) != CL_SUCCESS) {
		clReleaseEvent(ev);
		clFinish(q);
		w->refs = 1;
		wait_put(w);
		return RVM_E_IO;
	}
	done = wait_until(w, cfg->timeout_ns);
	/* Deletion waits for completion; the callback still runs and drops its reference. */
	clReleaseEvent(ev);
	if (!done) {
		wait_put(w);
		run->timed_out = true;
		return RVM_E_TIMEOUT;
	}
	e = w->status == CL_COMPLETE ? RVM_OK : RVM_E_IO;
	wait_put(w);
	return e;
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
