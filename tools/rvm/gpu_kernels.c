/* tools/rvm/gpu_kernels.c - the cpu backend's C versions of the OpenCL kernels in examples/gpu. */
#include "gpu_kernels.h"

#if defined(RVM_HAS_GPU)

/* matmul.cl: c = a x b for n x n floats; work-item (col, row). */
static void c_matmul(const struct rvm_gpu_cpu_item *it, const struct rvm_gpu_cpu_args *a)
{
	const float *x = a->ptr[0], *y = a->ptr[1];
	float *z = a->ptr[2], acc = 0.0f;
	uint64_t col = it->global_id[0], row = it->global_id[1], n = (uint32_t)a->val[3];

	if (row >= n || col >= n)
		return;
	for (uint64_t k = 0; k < n; k++)
		acc += x[row * n + k] * y[k * n + col];
	z[row * n + col] = acc;
}

/* reduce.cl: one partial sum per work-group. Work-items of a group run in order on the cpu,
 * so the first sums the group's range (no barriers needed). */
static void c_reduce(const struct rvm_gpu_cpu_item *it, const struct rvm_gpu_cpu_args *a)
{
	const uint32_t *in = a->ptr[0];
	uint32_t *partial = a->ptr[1], sum = 0;
	uint64_t n = (uint32_t)a->val[3], first = it->group_id[0] * it->local_size[0];

	if (it->local_id[0] != 0)
		return;
	for (uint64_t i = first; i < first + it->local_size[0] && i < n; i++)
		sum += in[i];
	partial[it->group_id[0]] = sum;
}

static void c_empty(const struct rvm_gpu_cpu_item *it, const struct rvm_gpu_cpu_args *a)
{
	(void)it;
	(void)a;
}

const struct rvm_gpu_cpu_kernel rvm_tool_gpu_kernels[] = {
	{"matmul", c_matmul},
	{"reduce", c_reduce},
	{"empty", c_empty},
};
const uint32_t rvm_tool_gpu_nkernels = sizeof(rvm_tool_gpu_kernels) / sizeof(rvm_tool_gpu_kernels[0]);

#endif
