/* tools/rvm/cmd_gpu.c - `rvm gpu demo`: matrix multiply and reduction through RVM on OpenCL and
 * cpu. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#if defined(RVM_HAS_GPU)
#include <rvm/gpu.h>

#include "gpu_kernels.h"
#include "hosted.h"
#include "logfile.h"
#if defined(RVM_HAS_OPENCL)
#include "gpu_opencl.h"
#endif

#define PART_OCL   1u
#define PART_CPU   2u
#define CPU_MEM	   (16u << 20)
#define CPU_SHARED (64u << 10)
#define REDUCE_WG  64u

/* ---- one small kernel ---- */

struct demo {
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_witness_log wlog;
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_map_table maps;
	struct rvm_gate gate;
	struct rvm_gpu_space gs;
	struct rvm_gpu_cpu cpu;
	uint8_t cpu_mem[CPU_MEM];
	uint8_t cpu_shared[CPU_SHARED];
};

struct part {
	uint32_t p;
	rvm_cap_t dev, ctx, q, kmat, kred;
	const char *backend;
};

struct opts {
	const char *out, *kernels, *device;
	uint32_t n;
	uint64_t launches;
	bool want_ocl, want_cpu;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: rvm gpu demo [--backend opencl|cpu|both] [--n N] [--kernels DIR]\n"
		"                    [--out DIR] [--device MATCH] [--launch-budget K]\n"
		"  Runs an N x N float matrix multiply and a reduction of N*N uints through RVM's\n"
		"  GPU objects (caps, budget, witness) on each backend and checks that they "
		"agree.\n"
		"  --kernels DIR   the OpenCL C sources (default examples/gpu)\n"
		"  --out DIR       keep the witness log in DIR/witness.log (rvm audit it)\n"
		"  --device MATCH  OpenCL device whose name contains MATCH (or RVM_OPENCL_DEVICE)\n"
		"  --launch-budget K  launches allowed per partition and epoch (default 100)\n"
		"  Exit: 0 the backends agree, 1 they differ, 2 bad usage or no device.\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	uint64_t v;

	memset(o, 0, sizeof(*o));
	o->kernels = "examples/gpu";
	o->n = 64;
	o->launches = 100;
	o->want_ocl = o->want_cpu = true;
	if (argc < 2 || strcmp(argv[1], "demo"))
		return -1;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			return -1;
		i++;
		if (!strcmp(a, "--backend") && !strcmp(val, "opencl"))
			o->want_cpu = false;
		else if (!strcmp(a, "--backend") && !strcmp(val, "cpu"))
			o->want_ocl = false;
		else if (!strcmp(a, "--backend") && !strcmp(val, "both"))
			o->want_ocl = o->want_cpu = true;
		else if (!strcmp(a, "--n") && rvm_tool_parse_u64(val, false, &v) && v >= 1 &&
			 v <= 1024)
			o->n = (uint32_t)v;
		else if (!strcmp(a, "--kernels"))
			o->kernels = val;
		else if (!strcmp(a, "--out"))
			o->out = val;
		else if (!strcmp(a, "--device"))
			o->device = val;
		else if (!strcmp(a, "--launch-budget") && rvm_tool_parse_u64(val, false, &v))
			o->launches = v;
		else
			return -1;
	}
	return 0;
}

static char *read_source(const char *dir, const char *name, size_t *len)
{
	char path[4200];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "rb")))
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(buf = malloc((size_t)n + 1))) {
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static int boot(struct demo *d, const char *out)
{
	struct rvm_witness_config cfg;
	enum rvm_err e;

	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_SHA256;
	cfg.sig = RVM_SIG_NONE;
	e = rvm_hosted_open(&d->hosted, out, RVM_HOSTED_TRUNCATE | RVM_HOSTED_QUIET, &d->plat);
	if (e == RVM_OK)
		e = rvm_witness_init(&d->wlog, &d->plat, &cfg);
	if (e != RVM_OK) {
		fprintf(stderr, "rvm gpu: cannot start (%s: %s)\n", rvm_err_name(e),
			rvm_err_str(e));
		return 2;
	}
	rvm_obj_init(&d->objs);
	rvm_cap_space_init(&d->caps, &d->objs, d->plat.sha256);
	rvm_map_init(&d->maps);
	rvm_gate_init(&d->gate, &d->caps, &d->wlog, &d->maps);
	rvm_gpu_init(&d->gs, &d->gate, &d->plat);
	return 0;
}

static int fail(const char *what, enum rvm_err e)
{
	fprintf(stderr, "rvm gpu: %s: %s (%s)\n", what, rvm_err_name(e), rvm_err_str(e));
	return 2;
}

/* Attaches p to device index and loads both kernels. */
static int setup(struct demo *d, struct part *pt, uint32_t index, const struct opts *o,
		 const char *ms, size_t ml, const char *rs, size_t rl)
{
	const uint64_t lim[RVM_GPU_DIM_COUNT] = {60ull * 1000000000u, 256u << 20, 256u << 20,
						 o->launches};
	enum rvm_err e;

	if ((e = rvm_gpu_attach(&d->gs, pt->p, index, RVM_RIGHTS_ALL & ~RVM_RIGHT_GRANT, lim,
				&pt->dev, &pt->ctx)) != RVM_OK)
		return fail("attach", e);
	if ((e = rvm_gpu_queue(&d->gs, pt->p, pt->ctx, &pt->q)) != RVM_OK)
		return fail("queue", e);
	if ((e = rvm_gpu_kernel(&d->gs, pt->p, pt->ctx, ms, ml, "matmul", &pt->kmat)) != RVM_OK)
		return fail("build matmul.cl", e);
	if ((e = rvm_gpu_kernel(&d->gs, pt->p, pt->ctx, rs, rl, "reduce", &pt->kred)) != RVM_OK)
		return fail("build reduce.cl", e);
	return 0;
}

static struct rvm_gpu_launch_req launch_req(const struct part *pt, rvm_cap_t kernel)
{
	struct rvm_gpu_launch_req r;

	memset(&r, 0, sizeof(r));
	r.device = pt->dev;
	r.queue = pt->q;
	r.kernel = kernel;
	for (unsigned i = 0; i < RVM_GPU_DIMS; i++)
		r.cfg.local[i] = 1, r.cfg.groups[i] = 1;
	/* The longest deadline: PoCL compiles a kernel at its first launch (seconds, cold). */
	r.cfg.timeout_ns = RVM_GPU_MAX_TIMEOUT_NS;
	return r;
}

/* The agent's side: upload, launch, download. c gets n*n floats, *sum the reduction. */
static enum rvm_err run_part(struct demo *d, const struct part *pt, uint32_t n, const float *a,
			     const float *b, float *c, const uint32_t *v, uint32_t *sum)
{
	uint64_t nn = (uint64_t)n * n, bytes = nn * 4, groups = (nn + REDUCE_WG - 1) / REDUCE_WG;
	uint32_t tile = n < 8 ? n : 8, *partial = calloc(groups, 4);
	rvm_cap_t ba, bb, bc, bv, bp;
	struct rvm_gpu_launch_req r;
	enum rvm_err e;

	if (!partial)
		return RVM_E_NOMEM;
	if ((e = rvm_gpu_alloc(&d->gs, pt->p, pt->ctx, bytes, &ba)) ||
	    (e = rvm_gpu_alloc(&d->gs, pt->p, pt->ctx, bytes, &bb)) ||
	    (e = rvm_gpu_alloc(&d->gs, pt->p, pt->ctx, bytes, &bc)) ||
	    (e = rvm_gpu_alloc(&d->gs, pt->p, pt->ctx, bytes, &bv)) ||
	    (e = rvm_gpu_alloc(&d->gs, pt->p, pt->ctx, groups * 4, &bp)) ||
	    (e = rvm_gpu_write(&d->gs, pt->p, ba, 0, a, bytes)) ||
	    (e = rvm_gpu_write(&d->gs, pt->p, bb, 0, b, bytes)) ||
	    (e = rvm_gpu_write(&d->gs, pt->p, bv, 0, v, bytes)))
		goto out;
	r = launch_req(pt, pt->kmat);
	r.cfg.dims = 2;
	r.cfg.local[0] = r.cfg.local[1] = tile;
	r.cfg.groups[0] = r.cfg.groups[1] = (n + tile - 1) / tile;
	r.nargs = 4;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, ba};
	r.args[1] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, bb};
	r.args[2] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, bc};
	r.args[3] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 4, n};
	if ((e = rvm_gpu_launch(&d->gs, pt->p, &r)) ||
	    (e = rvm_gpu_read(&d->gs, pt->p, bc, 0, c, bytes)))
		goto out;
	r = launch_req(pt, pt->kred);
	r.cfg.dims = 1;
	r.cfg.local[0] = REDUCE_WG;
	r.cfg.groups[0] = groups;
	r.nargs = 4;
	r.args[0] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, bv};
	r.args[1] = (struct rvm_gpu_arg){RVM_GPU_ARG_BUFFER, 0, bp};
	r.args[2] = (struct rvm_gpu_arg){RVM_GPU_ARG_LOCAL, REDUCE_WG * 4, 0};
	r.args[3] = (struct rvm_gpu_arg){RVM_GPU_ARG_SCALAR, 4, (uint32_t)nn};
	if ((e = rvm_gpu_launch(&d->gs, pt->p, &r)) ||
	    (e = rvm_gpu_read(&d->gs, pt->p, bp, 0, partial, groups * 4)))
		goto out;
	*sum = 0;
	for (uint64_t i = 0; i < groups; i++)
		*sum += partial[i];
out:
	free(partial);
	return e;
}

static void print_budget(const struct demo *d, const struct part *pt)
{
	const struct rvm_gpu_context *c = rvm_gpu_context_of(&d->gs, pt->p);

	printf("budget %s partition %u: compute %" PRIu64 " ns, memory %" PRIu64
	       " B, transfer %" PRIu64 " B, launches %" PRIu64 "/%" PRIu64 "\n",
	       pt->backend, pt->p, c->budget.used[RVM_GPU_DIM_COMPUTE],
	       c->budget.used[RVM_GPU_DIM_MEMORY], c->budget.used[RVM_GPU_DIM_TRANSFER],
	       c->budget.used[RVM_GPU_DIM_LAUNCHES], c->budget.limit[RVM_GPU_DIM_LAUNCHES]);
}

/* Fills the inputs: small integers, so every float sum is exact on any device. */
static void fill(uint32_t n, float *a, float *b, uint32_t *v)
{
	uint64_t s = 0x5eed;

	for (uint64_t i = 0; i < (uint64_t)n * n; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		a[i] = (float)((s >> 33) % 16);
		b[i] = (float)((s >> 45) % 16);
		v[i] = (uint32_t)(s >> 17);
	}
}

static int demo_run(struct demo *d, const struct opts *o, const char *ms, size_t ml, const char *rs,
		    size_t rl)
{
	uint64_t nn = (uint64_t)o->n * o->n;
	float *a = malloc(nn * 4), *b = malloc(nn * 4), *c[2] = {calloc(nn, 4), calloc(nn, 4)};
	uint32_t *v = malloc(nn * 4), sum[2] = {0, 0}, idx, ref = 0;
	struct part parts[2] = {{.p = PART_OCL, .backend = "opencl"},
				{.p = PART_CPU, .backend = "cpu"}};
	bool have[2] = {false, false};
	int rc = 0;
	enum rvm_err e;
#if defined(RVM_HAS_OPENCL)
	struct rvm_gpu_opencl *ocl = NULL;
	char msg[256];
#endif

	if (!a || !b || !c[0] || !c[1] || !v) {
		rc = fail("inputs", RVM_E_NOMEM);
		goto out;
	}
	fill(o->n, a, b, v);
	for (uint64_t i = 0; i < nn; i++)
		ref += v[i];
#if defined(RVM_HAS_OPENCL)
	if (o->want_ocl) {
		if ((e = rvm_gpu_opencl_open(o->device, &ocl, msg, sizeof(msg))) != RVM_OK) {
			fprintf(stderr, "rvm gpu: %s: %s\n", rvm_err_name(e), msg);
			rc = 2;
			goto out;
		}
		printf("opencl device: %s\n", rvm_gpu_opencl_name(ocl));
		if ((e = rvm_gpu_device_add(&d->gs, rvm_gpu_opencl_backend(), ocl, &idx)) !=
			    RVM_OK ||
		    (rc = setup(d, &parts[0], idx, o, ms, ml, rs, rl)) != 0) {
			if (rvm_gpu_opencl_build_log(ocl)[0])
				fprintf(stderr, "%s\n", rvm_gpu_opencl_build_log(ocl));
			rc = e != RVM_OK ? fail("device", e) : rc;
			goto out;
		}
		have[0] = true;
	}
#else
	if (o->want_ocl && !o->want_cpu) {
		fprintf(stderr, "rvm gpu: this rvm was built without OpenCL\n");
		rc = 2;
		goto out;
	}
#endif
	if (o->want_cpu) {
		rvm_gpu_cpu_init(&d->cpu, &d->plat, d->cpu_mem, CPU_MEM, d->cpu_shared, CPU_SHARED,
				 rvm_tool_gpu_kernels, rvm_tool_gpu_nkernels);
		if ((e = rvm_gpu_device_add(&d->gs, rvm_gpu_cpu_backend(), &d->cpu, &idx)) !=
		    RVM_OK) {
			rc = fail("cpu device", e);
			goto out;
		}
		if ((rc = setup(d, &parts[1], idx, o, ms, ml, rs, rl)) != 0)
			goto out;
		have[1] = true;
	}
	for (int i = 0; i < 2; i++) {
		if (!have[i])
			continue;
		if ((e = run_part(d, &parts[i], o->n, a, b, c[i], v, &sum[i])) != RVM_OK) {
			fprintf(stderr, "rvm gpu: %s partition refused: %s (%s)\n",
				parts[i].backend, rvm_err_name(e), rvm_err_str(e));
			rc = 2;
			goto out;
		}
		printf("%s: matmul %ux%u checksum %.0f, reduce sum %" PRIu32 " (host %" PRIu32
		       ")\n",
		       parts[i].backend, o->n, o->n, (double)c[i][nn / 2], sum[i], ref);
		print_budget(d, &parts[i]);
		if (sum[i] != ref)
			rc = 1;
	}
	if (have[0] && have[1]) {
		bool same = memcmp(c[0], c[1], nn * 4) == 0 && sum[0] == sum[1];

		printf("opencl vs cpu: %s\n", same ? "identical" : "DIFFERENT");
		if (!same)
			rc = 1;
	}
	printf("witness records: %" PRIu64 "\n", d->wlog.next_seq);
out:
	for (int i = 0; i < 2; i++)
		if (have[i])
			(void)rvm_gpu_detach(&d->gs, parts[i].p);
#if defined(RVM_HAS_OPENCL)
	rvm_gpu_opencl_close(ocl);
#endif
	free(a), free(b), free(c[0]), free(c[1]), free(v);
	return rc;
}

int rvm_cmd_gpu(int argc, char **argv)
{
	struct opts o;
	struct demo *d;
	char *ms = NULL, *rs = NULL;
	size_t ml = 0, rl = 0;
	int rc;

	if (parse(argc, argv, &o) != 0)
		return usage();
	ms = read_source(o.kernels, "matmul.cl", &ml);
	rs = read_source(o.kernels, "reduce.cl", &rl);
	if (!ms || !rs) {
		fprintf(stderr, "rvm gpu: cannot read matmul.cl and reduce.cl in %s\n", o.kernels);
		free(ms), free(rs);
		return 2;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		free(ms), free(rs);
		return 2;
	}
	rc = boot(d, o.out);
	if (rc == 0) {
		rc = demo_run(d, &o, ms, ml, rs, rl);
		if (rvm_witness_close(&d->wlog) != RVM_OK && o.out)
			rc = rc ? rc : 2;
		rvm_hosted_close(&d->hosted);
	}
	free(ms), free(rs), free(d);
	return rc;
}

#else

int rvm_cmd_gpu(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rvm gpu: this rvm was built without RVM_GPU\n");
	return 2;
}

#endif
