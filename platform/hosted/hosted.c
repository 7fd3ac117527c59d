/* platform/hosted/hosted.c - rvm_platform on Linux: clock, console, durable sinks, entropy. */
#include "hosted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rvm/sha256.h>

static const char *const rvm_hosted_sink_names[RVM_SINK_COUNT] = {
	[RVM_SINK_WITNESS] = "witness.log",
	[RVM_SINK_JOURNAL] = "journal.log",
};

/* Host threads are virtual CPUs; each knows its own number. */
static _Thread_local uint32_t rvm_hosted_cpu;
static _Thread_local bool rvm_hosted_irq_masked;

static uint64_t hosted_now_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void hosted_console_write(void *ctx, const char *s, size_t n)
{
	struct rvm_hosted *h = ctx;

	if (h->flags & RVM_HOSTED_QUIET)
		return;
	fwrite(s, 1, n, stdout);
	fflush(stdout);
}

static uint32_t hosted_cpu_id(void *ctx)
{
	(void)ctx;
	return rvm_hosted_cpu;
}

static uint32_t hosted_cpu_count(void *ctx)
{
	return ((struct rvm_hosted *)ctx)->ncpus;
}

static bool hosted_irq_mask(void *ctx, bool masked)
{
	bool old = rvm_hosted_irq_masked;

	(void)ctx;
	rvm_hosted_irq_masked = masked;
	return old;
}

static enum rvm_err hosted_sink_append(void *ctx, enum rvm_sink_stream s, const void *buf, size_t n)
{
	struct rvm_hosted *h = ctx;

	if ((unsigned)s >= RVM_SINK_COUNT)
		return RVM_E_INVAL;
	if (h->sink_fd[s] < 0)
		return RVM_E_UNSUPPORTED;
	return rvm_hosted_write_all(h->sink_fd[s], buf, n);
}

static enum rvm_err hosted_sink_sync(void *ctx, enum rvm_sink_stream s)
{
	struct rvm_hosted *h = ctx;

	if ((unsigned)s >= RVM_SINK_COUNT)
		return RVM_E_INVAL;
	if (h->sink_fd[s] < 0)
		return RVM_E_UNSUPPORTED;
	return fdatasync(h->sink_fd[s]) == 0 ? RVM_OK : RVM_E_IO;
}

/* The checkpoint store (ckpt_store.c) behind the platform's entries. */
static enum rvm_err hosted_checkpoint_put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	return rvm_hosted_store_put(&((struct rvm_hosted *)ctx)->store, id, buf, n);
}

static enum rvm_err hosted_checkpoint_get(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len)
{
	return rvm_hosted_store_get(&((struct rvm_hosted *)ctx)->store, id, buf, cap, len);
}

static enum rvm_err hosted_checkpoint_put_async(void *ctx, uint64_t id, const void *buf, size_t n)
{
	return rvm_hosted_store_put_async(&((struct rvm_hosted *)ctx)->store, id, buf, n);
}

static enum rvm_err hosted_checkpoint_done(void *ctx, bool wait, uint64_t *id,
					   enum rvm_err *result)
{
	return rvm_hosted_store_done(&((struct rvm_hosted *)ctx)->store, wait, id, result);
}

static enum rvm_err hosted_entropy(void *ctx, void *buf, size_t n)
{
	char *p = buf;

	(void)ctx;
	while (n) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return RVM_E_IO;
		p += r;
		n -= (size_t)r;
	}
	return RVM_OK;
}

static enum rvm_err make_dir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return RVM_OK;
	return RVM_E_IO;
}

static enum rvm_err open_run_dir(struct rvm_hosted *h, const char *run_dir)
{
	char path[RVM_HOSTED_PATH_MAX + 32];
	int oflags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;

	if (strlen(run_dir) >= sizeof(h->dir))
		return RVM_E_RANGE;
	strcpy(h->dir, run_dir);
	if (make_dir(h->dir) != RVM_OK)
		return RVM_E_IO;
	snprintf(path, sizeof(path), "%s/checkpoints", h->dir);
	if (make_dir(path) != RVM_OK)
		return RVM_E_IO;
	if (h->flags & RVM_HOSTED_TRUNCATE)
		oflags |= O_TRUNC;
	for (int s = 0; s < RVM_SINK_COUNT; s++) {
		snprintf(path, sizeof(path), "%s/%s", h->dir, rvm_hosted_sink_names[s]);
		h->sink_fd[s] = open(path, oflags, 0644);
		if (h->sink_fd[s] < 0)
			return RVM_E_IO;
	}
	/* The new files' directory entries must be durable too. */
	return rvm_hosted_sync_dir(h->dir);
}

enum rvm_err rvm_hosted_open(struct rvm_hosted *h, const char *run_dir, unsigned flags,
			     struct rvm_platform *out)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	enum rvm_err err = RVM_OK;

	memset(h, 0, sizeof(*h));
	for (int s = 0; s < RVM_SINK_COUNT; s++)
		h->sink_fd[s] = -1;
	h->flags = flags;
	h->ncpus = n > 0 ? (uint32_t)n : 1u;
	if (rvm_hosted_store_init(&h->store, h->dir) != RVM_OK)
		return RVM_E_IO;
	if (run_dir)
		err = open_run_dir(h, run_dir);
	if (err != RVM_OK) {
		rvm_hosted_close(h);
		return err;
	}
	*out = (struct rvm_platform){
		.ctx = h,
		.name = "hosted",
		.now_ns = hosted_now_ns,
		.console_write = hosted_console_write,
		.cpu_id = hosted_cpu_id,
		.cpu_count = hosted_cpu_count,
		.irq_mask = hosted_irq_mask,
		.sink_append = hosted_sink_append,
		.sink_sync = hosted_sink_sync,
		.checkpoint_put = hosted_checkpoint_put,
		.checkpoint_get = hosted_checkpoint_get,
		.checkpoint_put_async = (flags & RVM_HOSTED_SYNC_STORE) ? NULL
									: hosted_checkpoint_put_async,
		.checkpoint_done = (flags & RVM_HOSTED_SYNC_STORE) ? NULL : hosted_checkpoint_done,
		.entropy = hosted_entropy,
		.sha256 = rvm_sha256_detect(),
	};
	return RVM_OK;
}

void rvm_hosted_close(struct rvm_hosted *h)
{
	/* Every queued checkpoint is written before the files are let go. */
	rvm_hosted_store_stop(&h->store);
	for (int s = 0; s < RVM_SINK_COUNT; s++) {
		if (h->sink_fd[s] >= 0)
			close(h->sink_fd[s]);
		h->sink_fd[s] = -1;
	}
	h->dir[0] = 0;
}

void rvm_hosted_bind_cpu(uint32_t cpu)
{
	rvm_hosted_cpu = cpu;
}
