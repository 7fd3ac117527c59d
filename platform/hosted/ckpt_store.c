/* platform/hosted/ckpt_store.c - the hosted checkpoint store: atomic file replace, in place or on
 * one writer thread with a bounded queue, so a kernel never waits for a disk under its lock. */
#include "ckpt_store.h"
#include "hosted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum rvm_err rvm_hosted_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return RVM_E_IO;
		p += w;
		n -= (size_t)w;
	}
	return RVM_OK;
}

enum rvm_err rvm_hosted_sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum rvm_err err = RVM_OK;

	if (fd < 0)
		return RVM_E_IO;
	if (fsync(fd) != 0)
		err = RVM_E_IO;
	close(fd);
	return err;
}

static int object_path(const struct rvm_hosted_store *s, uint64_t id, const char *suffix, char *out,
		       size_t cap)
{
	int n = snprintf(out, cap, "%s/checkpoints/%016llx.ckpt%s", s->dir, (unsigned long long)id,
			 suffix);

	return n > 0 && (size_t)n < cap ? 0 : -1;
}

enum rvm_err rvm_hosted_store_init(struct rvm_hosted_store *s, const char *dir)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		return RVM_E_IO;
	if (pthread_cond_init(&s->work, NULL) != 0) {
		pthread_mutex_destroy(&s->mu);
		return RVM_E_IO;
	}
	if (pthread_cond_init(&s->done, NULL) != 0) {
		pthread_cond_destroy(&s->work);
		pthread_mutex_destroy(&s->mu);
		return RVM_E_IO;
	}
	s->inited = true;
	return RVM_OK;
}

/*
 * Write to a temporary name, fsync, rename over, fsync the directory: atomic replace. The
 * file's fsync is about two thirds of the time on ext4, the directory's the rest (a journal
 * commit each, docs/recovery.md); both are needed for the replace to be atomic and durable.
 */
static enum rvm_err write_object(struct rvm_hosted_store *s, uint64_t id, const void *buf, size_t n)
{
	char tmp[RVM_HOSTED_PATH_MAX + 64], dst[RVM_HOSTED_PATH_MAX + 64];
	char dir[RVM_HOSTED_PATH_MAX + 16];
	uint64_t t0, t1, t2, t3, t4;
	enum rvm_err err;
	int fd;

	if (!s->dir || !s->dir[0])
		return RVM_E_UNSUPPORTED;
	if (object_path(s, id, ".tmp", tmp, sizeof(tmp)) ||
	    object_path(s, id, "", dst, sizeof(dst)))
		return RVM_E_RANGE;
	t0 = mono_ns();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return RVM_E_IO;
	err = rvm_hosted_write_all(fd, buf, n);
	t1 = mono_ns();
	if (err == RVM_OK && fsync(fd) != 0)
		err = RVM_E_IO;
	close(fd);
	t2 = mono_ns();
	if (err == RVM_OK && rename(tmp, dst) != 0)
		err = RVM_E_IO;
	t3 = mono_ns();
	if (err != RVM_OK) {
		unlink(tmp);
		return err;
	}
	snprintf(dir, sizeof(dir), "%s/checkpoints", s->dir);
	err = rvm_hosted_sync_dir(dir);
	t4 = mono_ns();
	pthread_mutex_lock(&s->mu);
	s->stats.write_ns += t1 - t0;
	s->stats.fsync_ns += t2 - t1;
	s->stats.rename_ns += t3 - t2;
	s->stats.dirsync_ns += t4 - t3;
	pthread_mutex_unlock(&s->mu);
	return err;
}

/* Counts a finished put (sync or async) in the stats. */
static void count_put(struct rvm_hosted_store *s, enum rvm_err err)
{
	pthread_mutex_lock(&s->mu);
	s->stats.puts++;
	s->stats.failed += err != RVM_OK;
	pthread_mutex_unlock(&s->mu);
}

enum rvm_err rvm_hosted_store_put(struct rvm_hosted_store *s, uint64_t id, const void *buf,
				  size_t n)
{
	enum rvm_err err = write_object(s, id, buf, n);

	count_put(s, err);
	return err;
}

enum rvm_err rvm_hosted_store_get(struct rvm_hosted_store *s, uint64_t id, void *buf, size_t cap,
				  size_t *len)
{
	char path[RVM_HOSTED_PATH_MAX + 64];
	struct stat st;
	size_t got = 0;
	int fd;

	if (!s->dir || !s->dir[0])
		return RVM_E_UNSUPPORTED;
	if (object_path(s, id, "", path, sizeof(path)))
		return RVM_E_RANGE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? RVM_E_NOTFOUND : RVM_E_IO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return RVM_E_IO;
	}
	*len = (size_t)st.st_size;
	while (got < cap && got < *len) {
		ssize_t r = read(fd, (char *)buf + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got == (cap < *len ? cap : *len) ? RVM_OK : RVM_E_IO;
}

/* The writer: takes queued puts in order, writes each, files its result. */
static void *writer(void *arg)
{
	struct rvm_hosted_store *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct rvm_hosted_store_job j;
		enum rvm_err err;
		uint32_t at;

		while ((!s->nq || s->hold) && !s->stopping)
			pthread_cond_wait(&s->work, &s->mu);
		if (!s->nq)
			break; /* stopping, and nothing left to write */
		j = s->q[s->qhead];
		s->qhead = (s->qhead + 1) % RVM_HOSTED_STORE_DEPTH;
		s->nq--;
		s->writing = 1;
		pthread_cond_broadcast(&s->done); /* a queue slot is free */
		pthread_mutex_unlock(&s->mu);
		err = write_object(s, j.id, j.buf, j.n);
		free(j.buf);
		count_put(s, err);
		pthread_mutex_lock(&s->mu);
		at = (s->dhead + s->nd) % RVM_PLATFORM_STORE_UNREPORTED;
		s->d[at] = (struct rvm_hosted_store_done){j.id, err};
		s->nd++;
		s->writing = 0;
		pthread_cond_broadcast(&s->done);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

enum rvm_err rvm_hosted_store_put_async(struct rvm_hosted_store *s, uint64_t id, const void *buf,
					size_t n)
{
	void *copy;

	if (!s->dir || !s->dir[0])
		return RVM_E_UNSUPPORTED;
	if (!s->inited)
		return RVM_E_STATE;
	if (!(copy = malloc(n ? n : 1)))
		return RVM_E_NOMEM;
	memcpy(copy, buf, n);
	pthread_mutex_lock(&s->mu);
	if (!s->started && !s->stopping) {
		if (pthread_create(&s->thread, NULL, writer, s) != 0) {
			pthread_mutex_unlock(&s->mu);
			free(copy);
			return RVM_E_IO;
		}
		s->started = true;
	}
	/* Bounded: while the queue is full the caller waits for the disk (it only fills when
	 * checkpoints come faster than the disk takes them). */
	while (s->nq == RVM_HOSTED_STORE_DEPTH && !s->stopping &&
	       s->nd + s->nq + s->writing < RVM_PLATFORM_STORE_UNREPORTED)
		pthread_cond_wait(&s->done, &s->mu);
	if (s->stopping || s->nd + s->nq + s->writing >= RVM_PLATFORM_STORE_UNREPORTED) {
		pthread_mutex_unlock(&s->mu);
		free(copy);
		return s->stopping ? RVM_E_STATE : RVM_E_BUSY;
	}
	s->q[(s->qhead + s->nq) % RVM_HOSTED_STORE_DEPTH] =
		(struct rvm_hosted_store_job){id, copy, n};
	s->nq++;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	return RVM_OK;
}

enum rvm_err rvm_hosted_store_done(struct rvm_hosted_store *s, bool wait, uint64_t *id,
				   enum rvm_err *result)
{
	enum rvm_err err = RVM_E_NOTFOUND;

	if (!s->inited)
		return RVM_E_NOTFOUND;
	pthread_mutex_lock(&s->mu);
	while (wait && !s->nd && (s->nq || s->writing))
		pthread_cond_wait(&s->done, &s->mu);
	if (s->nd) {
		*id = s->d[s->dhead].id;
		*result = s->d[s->dhead].err;
		s->dhead = (s->dhead + 1) % RVM_PLATFORM_STORE_UNREPORTED;
		s->nd--;
		err = RVM_OK;
		pthread_cond_broadcast(&s->done); /* room for another put */
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

void rvm_hosted_store_hold(struct rvm_hosted_store *s, bool hold)
{
	pthread_mutex_lock(&s->mu);
	s->hold = hold;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mu);
}

void rvm_hosted_store_stop(struct rvm_hosted_store *s)
{
	if (!s->inited)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->work);
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->mu);
	if (s->started)
		pthread_join(s->thread, NULL);
	/* Finished puts nobody reported: their files are written; nothing else is held. */
	pthread_cond_destroy(&s->done);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->mu);
	s->inited = s->started = false;
}
