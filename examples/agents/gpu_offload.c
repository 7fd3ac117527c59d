/* examples/agents/gpu_offload.c - offloads a matrix multiply and a reduction through rvm.gpu_*
 * and checks both against its own result. */
#include "rvm_agent.h"

#include "gpu_kernels_cl.h" /* matmul_cl, reduce_cl: examples/gpu, embedded at build time */

#define NMAX 32
#define RED_WG 64 /* reduce.cl's work-group: a power of two (as `rvm gpu demo`) */
#define TIMEOUT_NS 10000000000ull /* PoCL compiles a kernel at its first launch */
/* The launch request of rvm.gpu_launch (include/rvm/gpu.h): 88-byte head, 16 bytes per arg. */
#define REQ_HEAD 88
#define ARG_BUFFER 1
#define ARG_SCALAR 2
#define ARG_LOCAL 3

/* Freestanding: clang turns the clearing loop into a call to memset. */
void *memset(void *d, int c, unsigned long n);
void *memset(void *d, int c, unsigned long n)
{
	volatile uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

static float ma[NMAX * NMAX], mb[NMAX * NMAX], mc[NMAX * NMAX];
static uint32_t vec[NMAX * NMAX], partial[(NMAX * NMAX + RED_WG - 1) / RED_WG];
static uint8_t req[REQ_HEAD + 4 * 16];
static uint32_t n = 16, extra, trap_ms;
static uint64_t dev, ctx, queue, budget[8];

/* Arguments: matrix size n (1..32, default 16); extra reduce launches after the check (the
 * budget test: the agent stops at the first refusal and reports it); trap_ms > 0: the F1 test,
 * see trap_once. */
EXPORT("init") void init(int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
	(void)a3;
	n = a0 >= 1 && a0 <= NMAX ? (uint32_t)a0 : 16;
	extra = a1 > 0 && a1 < 1000000 ? (uint32_t)a1 : 0;
	trap_ms = a2 > 0 && a2 < 600000 ? (uint32_t)a2 : 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A request for kernel k: dims, work-group sizes and counts; the arguments follow. */
static int32_t req_head(uint64_t k, uint32_t dims, uint32_t nargs, const uint32_t local[3],
			const uint64_t groups[3])
{
	for (unsigned i = 0; i < sizeof(req); i++)
		req[i] = 0;
	put64(req, dev);
	put64(req + 8, queue);
	put64(req + 16, k);
	put32(req + 24, dims);
	put32(req + 28, nargs);
	for (int d = 0; d < 3; d++) {
		put32(req + 32 + 4 * d, local[d]);
		put64(req + 48 + 8 * d, groups[d]);
	}
	put64(req + 80, TIMEOUT_NS);
	return REQ_HEAD + 16 * (int32_t)nargs;
}

static void req_arg(uint32_t i, uint32_t kind, uint32_t size, uint64_t value)
{
	uint8_t *a = req + REQ_HEAD + 16 * i;

	put32(a, kind);
	put32(a + 4, size);
	put64(a + 8, value);
}

/* The same inputs as `rvm gpu demo`: small integers, so every float sum is exact. */
static void fill(void)
{
	uint64_t s = 0x5eed;

	for (uint32_t i = 0; i < n * n; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		ma[i] = (float)((s >> 33) % 16);
		mb[i] = (float)((s >> 45) % 16);
		vec[i] = (uint32_t)(s >> 17);
	}
}

/* "prefix" then v in hex (8 digits) at b + *len. */
static void put_hex(char *b, int *len, const char *prefix, uint32_t v)
{
	while (*prefix)
		b[(*len)++] = *prefix++;
	for (int i = 7; i >= 0; i--)
		b[(*len)++] = "0123456789abcdef"[(v >> (4 * i)) & 15];
}

static int32_t slen(const char *s)
{
	int32_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* The agent's work is done: it waits for mail that never comes (staying live, so the kernel
 * digests its memory and `rvm journal --check` replays its whole life). */
static void idle(void)
{
	uint8_t b[4];

	for (;;)
		if (rvm_recv(b, sizeof(b)) < 0)
			rvm_yield();
}

/* Logs "what <err>" and gives up. */
static void fail(const char *what, int64_t err)
{
	log_num(what, err);
	idle();
}

/*
 * The F1 test (trap_ms > 0), between the matmul and reading its result: the agent waits trap_ms
 * (yielding, so the kernel checkpoints it with the product on the device), then, in its first
 * life only, launches once more, spoils the product on the device and traps. Restarted from a
 * checkpoint taken while it waited, its memory is as it was then and the kernel has brought the
 * product back: it reads it and goes on as if nothing happened. The launch budget, which no
 * restart rolls back (one budget epoch for the run), tells the lives apart: 1 launch so far is
 * the first.
 */
static void trap_once(int64_t c, int64_t nbytes)
{
	int64_t until = rvm_now() + (int64_t)trap_ms * 1000000;

	while (rvm_now() < until)
		rvm_yield();
	if (rvm_gpu_budget(budget) < 0 || budget[4 + 3] != 1)
		return;
	(void)rvm_gpu_launch(req, REQ_HEAD + 4 * 16);
	for (uint32_t i = 0; i < NMAX * NMAX; i++)
		mc[i] = -1.0f;
	(void)rvm_gpu_write(c, 0, mc, (int32_t)nbytes);
	__builtin_trap();
}

EXPORT("run") void run(void)
{
	uint64_t caps[2], nn, groups_red;
	int64_t k_mm, k_red, bufs[5];
	uint32_t sum = 0, want = 0, hash = 2166136261u, bad = 0, tile = n < 8 ? n : 8;
	uint32_t local[3] = {tile, tile, 1};
	uint64_t groups[3] = {(n + tile - 1) / tile, (n + tile - 1) / tile, 1};
	int32_t r, len, stop = 0;
	char line[48];
	int ll = 0;

	if ((r = rvm_gpu_open(caps)) < 0)
		return fail("gpu denied", r);
	dev = caps[0];
	ctx = caps[1];
	nn = (uint64_t)n * n;
	groups_red = (nn + RED_WG - 1) / RED_WG;
	if ((int64_t)(queue = (uint64_t)rvm_gpu_queue((int64_t)ctx)) < 0)
		return fail("gpu queue", (int64_t)queue);
	k_mm = rvm_gpu_kernel((int64_t)ctx, matmul_cl, slen(matmul_cl), "matmul", 6);
	k_red = rvm_gpu_kernel((int64_t)ctx, reduce_cl, slen(reduce_cl), "reduce", 6);
	if (k_mm < 0 || k_red < 0)
		return fail("gpu kernel", k_mm < 0 ? k_mm : k_red);
	for (int i = 0; i < 5; i++)
		if ((bufs[i] = rvm_gpu_alloc((int64_t)ctx, (int64_t)(i < 4 ? nn * 4 : groups_red * 4))) <
		    0)
			return fail("gpu alloc", bufs[i]);
	fill();
	if ((r = rvm_gpu_write(bufs[0], 0, ma, (int32_t)nn * 4)) < 0 ||
	    (r = rvm_gpu_write(bufs[1], 0, mb, (int32_t)nn * 4)) < 0 ||
	    (r = rvm_gpu_write(bufs[3], 0, vec, (int32_t)nn * 4)) < 0)
		return fail("gpu write", r);
	/* c = a x b: one work-item per element. */
	len = req_head((uint64_t)k_mm, 2, 4, local, groups);
	req_arg(0, ARG_BUFFER, 0, (uint64_t)bufs[0]);
	req_arg(1, ARG_BUFFER, 0, (uint64_t)bufs[1]);
	req_arg(2, ARG_BUFFER, 0, (uint64_t)bufs[2]);
	req_arg(3, ARG_SCALAR, 4, n);
	if ((r = rvm_gpu_launch(req, len)) < 0)
		return fail("gpu matmul", r);
	if (trap_ms)
		trap_once(bufs[2], (int64_t)nn * 4);
	if ((r = rvm_gpu_read(bufs[2], 0, mc, (int32_t)nn * 4)) < 0)
		return fail("gpu matmul", r);
	/* One partial sum per work-group of RED_WG. */
	local[0] = RED_WG, local[1] = 1;
	groups[0] = groups_red, groups[1] = 1;
	len = req_head((uint64_t)k_red, 1, 4, local, groups);
	req_arg(0, ARG_BUFFER, 0, (uint64_t)bufs[3]);
	req_arg(1, ARG_BUFFER, 0, (uint64_t)bufs[4]);
	req_arg(2, ARG_LOCAL, RED_WG * 4, 0);
	req_arg(3, ARG_SCALAR, 4, nn);
	if ((r = rvm_gpu_launch(req, len)) < 0 ||
	    (r = rvm_gpu_read(bufs[4], 0, partial, (int32_t)groups_red * 4)) < 0)
		return fail("gpu reduce", r);
	for (uint32_t g = 0; g < groups_red; g++)
		sum += partial[g];
	/* The agent's own answer, on its own CPU. */
	for (uint32_t i = 0; i < nn; i++) {
		float acc = 0.0f;
		const uint8_t *p = (const uint8_t *)&mc[i];

		for (uint32_t k = 0; k < n; k++)
			acc += ma[(i / n) * n + k] * mb[k * n + i % n];
		bad += acc != mc[i];
		want += vec[i];
		for (int j = 0; j < 4; j++)
			hash = (hash ^ p[j]) * 16777619u;
	}
	/* Budget test: the same launch again until the budget refuses one. */
	for (uint32_t i = 0; i < extra; i++)
		if ((r = rvm_gpu_launch(req, len)) < 0) {
			stop = r;
			break;
		}
	/* The budget says what was spent: at least the two launches. */
	if (rvm_gpu_budget(budget) < 0 || budget[4 + 3] < 2)
		bad++;
	for (int i = 0; i < 5; i++)
		(void)rvm_gpu_free(bufs[i]);
	put_hex(line, &ll, bad || sum != want ? "BAD mm=" : "ok mm=", hash);
	put_hex(line, &ll, " sum=", sum);
	if (stop)
		put_hex(line, &ll, " stop=", (uint32_t)-stop);
	rvm_log(line, ll);
	idle();
}
