/* examples/gpu/reduce.cl - sum of n uints: one partial sum per work-group, tree-reduced in local memory. */
__kernel void reduce(__global const uint *in, __global uint *partial, __local uint *scratch,
		     const uint n)
{
	const uint gid = get_global_id(0);
	const uint lid = get_local_id(0);

	scratch[lid] = gid < n ? in[gid] : 0u;
	barrier(CLK_LOCAL_MEM_FENCE);
	/* The work-group size is a power of two. */
	for (uint s = get_local_size(0) / 2; s > 0; s >>= 1) {
		if (lid < s)
			scratch[lid] += scratch[lid + s];
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	if (lid == 0)
		partial[get_group_id(0)] = scratch[0];
}
