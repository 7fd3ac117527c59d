/* platform/hosted/gpu_opencl.h - the OpenCL GPU backend (ICD loader: PoCL in CI, any vendor's
 * driver). */
#ifndef RVM_GPU_OPENCL_H
#define RVM_GPU_OPENCL_H

#include <stddef.h>
#include <stdint.h>

#include <CL/cl.h>

#include <rvm/gpu_backend.h>

struct rvm_gpu_opencl;

/*
 * Opens an OpenCL device. match (or, when NULL, the RVM_OPENCL_DEVICE
 * environment variable) picks the first device whose platform or device
 * name contains it; without either, the first GPU, else the first device of
 * any type. RVM_E_NOTFOUND (msg says why: no platform, no device, PoCL
 * without a writable POCL_CACHE_DIR), RVM_E_NOMEM.
 */
enum rvm_err rvm_gpu_opencl_open(const char *match, struct rvm_gpu_opencl **out, char *msg,
				 size_t msg_cap);
/* Releases every object the backend still holds, then the device. */
void rvm_gpu_opencl_close(struct rvm_gpu_opencl *o);
const struct rvm_gpu_backend *rvm_gpu_opencl_backend(void);
/* "platform / device" of an open backend. */
const char *rvm_gpu_opencl_name(const struct rvm_gpu_opencl *o);
/* The last build log (empty when the last build succeeded). */
const char *rvm_gpu_opencl_build_log(const struct rvm_gpu_opencl *o);
/*
 * How long the device's next command waits after a launch completes (ns): OCL_SETTLE_CPU_NS on a
 * CPU device (PoCL), 0 on others, or RVM_OPENCL_SETTLE_NS (0-100000) when set at open; an
 * invalid value is reported on stderr and ignored.
 */
uint64_t rvm_gpu_opencl_settle_ns(const struct rvm_gpu_opencl *o);
/* The raw objects, for measuring RVM against plain OpenCL on the same device. */
cl_context rvm_gpu_opencl_context(const struct rvm_gpu_opencl *o);
cl_device_id rvm_gpu_opencl_device(const struct rvm_gpu_opencl *o);

#endif
