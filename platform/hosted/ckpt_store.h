/* platform/hosted/ckpt_store.h - the hosted checkpoint store: files in RUN/checkpoints, written
 * in place (checkpoint_put) or by one writer thread (checkpoint_put_async). Private to hosted. */
#ifndef RVM_HOSTED_CKPT_STORE_H
#define RVM_HOSTED_CKPT_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/platform.h>

/* Puts queued for the writer (each holds a copy of its bytes) before put_async blocks. */
#define RVM_HOSTED_STORE_DEPTH 4u

/* One queued put: the writer owns buf once it takes the job. */
struct rvm_hosted_store_job {
	uint64_t id;
	void *buf;
	size_t n;
};

/* One finished put, kept until checkpoint_done reports it. */
struct rvm_hosted_store_done {
	uint64_t id;
	enum rvm_err err;
};

/*
 * Where the time of a put goes (summed over every put, sync or async), for the benchmarks and
 * docs/recovery.md: writing the temporary file, its fsync, the rename, the directory's fsync.
 */
struct rvm_hosted_store_stats {
	uint64_t puts, failed;
	uint64_t write_ns, fsync_ns, rename_ns, dirsync_ns;
};

/*
 * The store's state (in struct rvm_hosted). Invariants, under mu: q[qhead..qhead+nq) are
 * queued in put order; writing is 1 while the writer has taken a job out of q and not yet
 * reported it; d[dhead..dhead+nd) are finished puts not yet reported; nq <= DEPTH and
 * nd + nq + writing <= RVM_PLATFORM_STORE_UNREPORTED (put_async refuses beyond). The thread
 * runs from the first put_async (started) until rvm_hosted_store_stop.
 */
struct rvm_hosted_store {
	const char *dir; /* the run directory (struct rvm_hosted's), "" none */
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	pthread_t thread;
	bool inited, started, stopping;
	bool hold; /* tests: the writer takes no job while set (a disk that stalls) */
	uint32_t qhead, nq, writing, dhead, nd;
	struct rvm_hosted_store_job q[RVM_HOSTED_STORE_DEPTH];
	struct rvm_hosted_store_done d[RVM_PLATFORM_STORE_UNREPORTED];
	struct rvm_hosted_store_stats stats;
};

/* Writes all n bytes to fd (EINTR retried): RVM_OK or RVM_E_IO. */
enum rvm_err rvm_hosted_write_all(int fd, const void *buf, size_t n);
/* fsync of a directory, so the entries created or renamed in it are durable. */
enum rvm_err rvm_hosted_sync_dir(const char *path);

/* Sets the store up over run directory dir (not copied: it must outlive the store). */
enum rvm_err rvm_hosted_store_init(struct rvm_hosted_store *s, const char *dir);
/* Lets the writer finish every queued put (a hold is lifted), stops and joins it, and frees the
 * store's locks; finished puts not reported are dropped (their files are written). Idempotent;
 * put_async fails with RVM_E_STATE afterwards. */
void rvm_hosted_store_stop(struct rvm_hosted_store *s);
/* Tests: while hold is set the writer starts no put (a stalled disk); queued puts wait. */
void rvm_hosted_store_hold(struct rvm_hosted_store *s, bool hold);

/* What the rvm_platform entries do (contracts in rvm/platform.h); RVM_E_UNSUPPORTED without a
 * run directory. put_async: RVM_E_NOMEM when the copy cannot be made, RVM_E_IO when the writer
 * thread cannot be started. */
enum rvm_err rvm_hosted_store_put(struct rvm_hosted_store *s, uint64_t id, const void *buf,
				  size_t n);
enum rvm_err rvm_hosted_store_get(struct rvm_hosted_store *s, uint64_t id, void *buf, size_t cap,
				  size_t *len);
enum rvm_err rvm_hosted_store_put_async(struct rvm_hosted_store *s, uint64_t id, const void *buf,
					size_t n);
enum rvm_err rvm_hosted_store_done(struct rvm_hosted_store *s, bool wait, uint64_t *id,
				   enum rvm_err *result);

#endif
