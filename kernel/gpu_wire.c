/* kernel/gpu_wire.c - the launch request's byte layout, as agents pass it to rvm.gpu_launch. */
#include <rvm/bytes.h>
#include <rvm/gpu.h>

enum rvm_err rvm_gpu_wire_decode(const uint8_t *buf, size_t len, struct rvm_gpu_launch_req *out)
{
	uint32_t nargs;

	if (!buf || !out || len < RVM_GPU_WIRE_HEAD)
		return RVM_E_MALFORMED;
	nargs = rvm_load_le32(buf + 28);
	if (nargs > RVM_GPU_MAX_ARGS ||
	    len != RVM_GPU_WIRE_HEAD + (size_t)nargs * RVM_GPU_WIRE_ARG ||
	    rvm_load_le32(buf + 44) != 0)
		return RVM_E_MALFORMED;
	rvm_memset(out, 0, sizeof(*out));
	out->device = rvm_load_le64(buf);
	out->queue = rvm_load_le64(buf + 8);
	out->kernel = rvm_load_le64(buf + 16);
	out->cfg.dims = rvm_load_le32(buf + 24);
	out->nargs = nargs;
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++) {
		out->cfg.local[d] = rvm_load_le32(buf + 32 + 4 * d);
		out->cfg.groups[d] = rvm_load_le64(buf + 48 + 8 * d);
	}
	out->cfg.local_mem = rvm_load_le64(buf + 72);
	out->cfg.timeout_ns = rvm_load_le64(buf + 80);
	for (uint32_t i = 0; i < nargs; i++) {
		const uint8_t *a = buf + RVM_GPU_WIRE_HEAD + i * RVM_GPU_WIRE_ARG;

		out->args[i].kind = rvm_load_le32(a);
		out->args[i].size = rvm_load_le32(a + 4);
		out->args[i].value = rvm_load_le64(a + 8);
	}
	return RVM_OK;
}

size_t rvm_gpu_wire_encode(const struct rvm_gpu_launch_req *req, uint8_t out[RVM_GPU_WIRE_MAX])
{
	uint32_t nargs = req->nargs > RVM_GPU_MAX_ARGS ? RVM_GPU_MAX_ARGS : req->nargs;

	rvm_memset(out, 0, RVM_GPU_WIRE_HEAD);
	rvm_store_le64(out, req->device);
	rvm_store_le64(out + 8, req->queue);
	rvm_store_le64(out + 16, req->kernel);
	rvm_store_le32(out + 24, req->cfg.dims);
	rvm_store_le32(out + 28, nargs);
	for (unsigned d = 0; d < RVM_GPU_DIMS; d++) {
		rvm_store_le32(out + 32 + 4 * d, req->cfg.local[d]);
		rvm_store_le64(out + 48 + 8 * d, req->cfg.groups[d]);
	}
	rvm_store_le64(out + 72, req->cfg.local_mem);
	rvm_store_le64(out + 80, req->cfg.timeout_ns);
	for (uint32_t i = 0; i < nargs; i++) {
		uint8_t *a = out + RVM_GPU_WIRE_HEAD + i * RVM_GPU_WIRE_ARG;

		rvm_store_le32(a, req->args[i].kind);
		rvm_store_le32(a + 4, req->args[i].size);
		rvm_store_le64(a + 8, req->args[i].value);
	}
	return RVM_GPU_WIRE_HEAD + (size_t)nargs * RVM_GPU_WIRE_ARG;
}
