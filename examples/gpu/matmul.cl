/* examples/gpu/matmul.cl - C = A x B for n x n row-major float matrices, one work-item per element. */
__kernel void matmul(__global const float *a, __global const float *b, __global float *c,
		     const uint n)
{
	const uint col = get_global_id(0);
	const uint row = get_global_id(1);
	float acc = 0.0f;

	if (row >= n || col >= n)
		return;
	for (uint k = 0; k < n; k++)
		acc += a[row * n + k] * b[k * n + col];
	c[row * n + col] = acc;
}
