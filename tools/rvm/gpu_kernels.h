/* tools/rvm/gpu_kernels.h - the cpu backend's C versions of the OpenCL kernels in examples/gpu. */
#ifndef RVM_TOOL_GPU_KERNELS_H
#define RVM_TOOL_GPU_KERNELS_H

#if defined(RVM_HAS_GPU)
#include <rvm/gpu_backend.h>

/* matmul, reduce (examples/gpu/matmul.cl, reduce.cl) and empty, by name. */
extern const struct rvm_gpu_cpu_kernel rvm_tool_gpu_kernels[];
extern const uint32_t rvm_tool_gpu_nkernels;
#endif

#endif
