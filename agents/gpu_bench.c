/* agents/gpu_bench.c - an agent that launches an empty kernel through rvm.gpu_launch, for the
 * gpu_launch benchmark (bench/rows_gpu.c). */
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("rvm"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

IMPORT("gpu_open") int32_t rvm_gpu_open(uint64_t caps[2]);
IMPORT("gpu_queue") int64_t rvm_gpu_queue(int64_t ctx);
IMPORT("gpu_kernel") int64_t rvm_gpu_kernel(int64_t ctx, const char *src, int32_t src_len,
					   const char *name, int32_t name_len);
IMPORT("gpu_launch") int32_t rvm_gpu_launch(const void *req, int32_t len);

static const char src[] = "__kernel void empty(void) { }\n";
/* The launch request (include/rvm/gpu.h): 88 bytes, no arguments. */
static uint8_t req[88];
static uint64_t caps[2];

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Opens the partition's device, makes a queue, builds `empty` and fills the request for one
 * work-item with deadline ns (0: the default). Returns 0 or the host's negative error. */
EXPORT("setup") int32_t setup(int64_t deadline)
{
	int64_t q, k;
	int32_t r = rvm_gpu_open(caps);

	if (r < 0)
		return r;
	if ((q = rvm_gpu_queue((int64_t)caps[1])) < 0)
		return (int32_t)q;
	if ((k = rvm_gpu_kernel((int64_t)caps[1], src, sizeof(src) - 1, "empty", 5)) < 0)
		return (int32_t)k;
	put64(req, caps[0]);
	put64(req + 8, (uint64_t)q);
	put64(req + 16, (uint64_t)k);
	req[24] = 1; /* dims */
	for (int d = 0; d < 3; d++) {
		req[32 + 4 * d] = 1;  /* local */
		req[48 + 8 * d] = 1;  /* groups */
	}
	put64(req + 80, (uint64_t)deadline);
	return 0;
}

/* Sets the launches' deadline (ns; 0: the default, 100 ms). */
EXPORT("deadline") int32_t deadline(int64_t ns)
{
	put64(req + 80, (uint64_t)ns);
	return 0;
}

/* n launches; the first error, or 0. */
EXPORT("launch_n") int32_t launch_n(int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		int32_t r = rvm_gpu_launch(req, sizeof(req));

		if (r < 0)
			return r;
	}
	return 0;
}

EXPORT("run") void run(void)
{
}
