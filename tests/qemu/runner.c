/* tests/qemu/runner.c - rvm-qemu-run: boots the bare-metal image under QEMU, captures its console
 * and turns the framed witness lines back into run/qemu-witness.log. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rvm/sha256.h>
#include <rvm/witness_file.h>

#include "twin_cmp.h"

#define FRAME_PREFIX   "@rvm:"
#define WITNESS_HEADER 128u
#define WITNESS_UNIT   64u
#define MAX_ARGS       64

struct opts {
	const char *elf, *out, *qemu, *machine, *cpu;
	const char *board; /* "virt" (AArch64, EL2) or "seed" (Cortex-M3 lm3s6965evb) */
	int smp, timeout_s, quiet;
	bool gdb;
	bool pl011;	  /* virt: the console on the PL011 alone (no semihosting) */
	char gdb_dev[32]; /* QEMU -gdb device: tcp::1234 unless --gdb-port says otherwise */
	const char *extra[16];
	int nextra;
	const char *until; /* stop QEMU once a console line starts with this (timing runs) */
};

struct capture {
	const char *out, *board;
	FILE *witness, *journal, *console;
	unsigned long long wbytes, jbytes;
	double launch_ms, first_record_ms, first_line_ms;
	int bad_frames;
	int quiet;
	const char *until;
	bool reached; /* a console line began with until */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: rvm-qemu-run --elf IMAGE [--board virt|seed] [--out DIR] [--smp N] "
		"[--timeout S]\n"
		"                    [--quiet] [--pl011] [--until TEXT]\n"
		"                    [--gdb] [--gdb-port N] [--qemu BIN] [--machine OPTS] [--cpu "
		"NAME] [-- "
		"QEMU-ARGS]\n"
		"       rvm-qemu-run --verify LOG | --dump LOG   (check a log; --dump lists "
		"records)\n"
		"       rvm-qemu-run --twin BARE-LOG HOSTED-LOG   (both verified, then the same "
		"records\n"
		"                    apart from time? exit 0 yes, 1 no: the first difference is "
		"shown)\n"
		"  Boots IMAGE on QEMU virt at EL2, prints its console, writes "
		"DIR/qemu-witness.log\n"
		"  (and DIR/qemu-journal.log, DIR/qemu-console.txt) from the framed lines.\n"
		"  --gdb waits for a debugger on tcp::1234 (--gdb-port N: on N) and has no "
		"timeout.\n"
		"  The virt console also takes semihosting writes (one trap a line; the image is\n"
		"  told by the boot argument rvm.semihost); --pl011 leaves it on the UART alone.\n"
		"  --until TEXT stops QEMU once a console line starts with TEXT (timing runs).\n"
		"  --board seed boots the seed image on lm3s6965evb (qemu-system-arm, "
		"semihosting exit)\n"
		"    and writes DIR/seed-witness.log, DIR/seed-journal.log, "
		"DIR/seed-console.txt.\n"
		"exit: 0 the machine powered off cleanly, 1 it failed, 2 bad usage, 124 timeout\n");
	return 2;
}

/* A positive decimal number, or -1 for anything else (which parse then rejects). */
static int number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end != s && !*end && v > 0 && v < 100000 ? (int)v : -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.out = "run",
			   .qemu = "qemu-system-aarch64",
			   .machine = "virt,virtualization=on,gic-version=3",
			   .cpu = "cortex-a72",
			   .smp = 1,
			   .timeout_s = 20,
			   .board = "virt"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--quiet")) {
			o->quiet = 1;
			continue;
		}
		if (!strcmp(a, "--gdb")) {
			o->gdb = true;
			continue;
		}
		if (!strcmp(a, "--pl011")) {
			o->pl011 = true;
			continue;
		}
		if (!strcmp(a, "--")) {
			for (i++; i < argc && o->nextra < 16; i++)
				o->extra[o->nextra++] = argv[i];
			break;
		}
		if (!v)
			return -1;
		if (!strcmp(a, "--gdb-port")) {
			char *end;
			long port = strtol(v, &end, 10);

			if (*end || port < 1 || port > 65535)
				return -1;
			o->gdb = true;
			snprintf(o->gdb_dev, sizeof(o->gdb_dev), "tcp::%ld", port);
			i++;
			continue;
		}
		if (!strcmp(a, "--elf"))
			o->elf = v;
		else if (!strcmp(a, "--out"))
			o->out = v;
		else if (!strcmp(a, "--qemu"))
			o->qemu = v;
		else if (!strcmp(a, "--machine"))
			o->machine = v;
		else if (!strcmp(a, "--board"))
			o->board = v;
		else if (!strcmp(a, "--cpu"))
			o->cpu = v;
		else if (!strcmp(a, "--until"))
			o->until = v;
		else if (!strcmp(a, "--smp"))
			o->smp = number(v);
		else if (!strcmp(a, "--timeout"))
			o->timeout_s = number(v);
		else
			return -1;
		i++;
	}
	if (!strcmp(o->board, "seed")) {
		/* The seed board has one CPU, fixed memory and no -cpu choice. */
		if (!strcmp(o->qemu, "qemu-system-aarch64"))
			o->qemu = "qemu-system-arm";
		o->machine = "lm3s6965evb";
		o->cpu = NULL;
		if (o->smp != 1)
			return -1;
	} else if (strcmp(o->board, "virt") != 0) {
		return -1;
	}
	return o->elf && o->smp >= 1 && o->smp <= 8 && o->timeout_s > 0 ? 0 : -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "@rvm:k:HEX": the image's Ed25519 public key for this boot, kept as DIR/qemu-witness.pub
 * in the key-file format of rvm keygen (kind line, hex line) for rvm audit --pub. */
static int pubkey(struct capture *c, const char *hex)
{
	char path[4096];
	size_t n = strcspn(hex, "\r\n");
	FILE *f;

	if (n != 64 || strspn(hex, "0123456789abcdef") < n)
		return -1;
	snprintf(path, sizeof(path), "%s/%s-witness.pub", c->out, c->board);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "RVM-ED25519-PUBLIC-KEY\n%.*s\n", (int)n, hex);
	return fclose(f) == 0 ? 0 : -1;
}

/* One framed line "@rvm:S:HEX": decoded into the stream's file. Returns -1 if malformed. */
static int frame(struct capture *c, const char *line, double t)
{
	const char *hex = line + strlen(FRAME_PREFIX) + 2;
	unsigned char buf[512];
	size_t n = 0;
	FILE *f;

	if (strlen(line) < strlen(FRAME_PREFIX) + 2 || line[strlen(FRAME_PREFIX) + 1] != ':')
		return -1;
	switch (line[strlen(FRAME_PREFIX)]) {
	case 'k':
		return pubkey(c, hex);
	case 'w':
		f = c->witness;
		break;
	case 'j':
		f = c->journal;
		break;
	default:
		return -1;
	}
	for (; hex[0] && hex[0] != '\n' && hex[0] != '\r'; hex += 2) {
		int hi = hexval(hex[0]), lo = hex[1] ? hexval(hex[1]) : -1;

		if (hi < 0 || lo < 0 || n == sizeof(buf))
			return -1;
		buf[n++] = (unsigned char)(hi << 4 | lo);
	}
	if (fwrite(buf, 1, n, f) != n)
		return -1;
	if (f == c->witness) {
		c->wbytes += n;
		/* The first record is whole once the header and one unit have arrived. */
		if (c->first_record_ms < 0 && c->wbytes >= WITNESS_HEADER + WITNESS_UNIT)
			c->first_record_ms = t - c->launch_ms;
	} else {
		c->jbytes += n;
	}
	return 0;
}

static void line_in(struct capture *c, const char *line, double t)
{
	if (c->first_line_ms < 0)
		c->first_line_ms = t - c->launch_ms;
	if (!strncmp(line, FRAME_PREFIX, strlen(FRAME_PREFIX))) {
		if (frame(c, line, t) != 0) {
			c->bad_frames++;
			fprintf(stderr, "rvm-qemu-run: malformed frame: %.*s\n",
				(int)(strcspn(line, "\r\n") < 60 ? strcspn(line, "\r\n") : 60),
				line);
		}
		return;
	}
	fputs(line, c->console);
	if (c->until && !strncmp(line, c->until, strlen(c->until)))
		c->reached = true;
	if (!c->quiet) {
		fputs(line, stdout);
		fflush(stdout);
	}
}

static void close_all(struct capture *c)
{
	if (c->witness)
		fclose(c->witness);
	if (c->journal)
		fclose(c->journal);
	if (c->console)
		fclose(c->console);
	c->witness = c->journal = c->console = NULL;
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		fprintf(stderr, "rvm-qemu-run: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

/* QEMU runs in its own process group: an interrupted runner must stop it, not orphan it. */
static volatile pid_t qemu_pid;

static void on_signal(int sig)
{
	if (qemu_pid > 0)
		kill(-qemu_pid, SIGKILL);
	_exit(128 + sig);
}

/* DIR/PREFIX-NAME, e.g. run/seed-witness.log. */
static FILE *open_named(const char *dir, const char *prefix, const char *name)
{
	char file[256];

	snprintf(file, sizeof(file), "%s-%s", prefix, name);
	return open_out(dir, file);
}

static pid_t launch(const struct opts *o, int out_fd)
{
	const char *argv[MAX_ARGS], *append = NULL;
	char smp[16], bootargs[512];
	bool semihost = o->cpu && !o->pl011;
	int n = 0;
	pid_t pid;

	snprintf(smp, sizeof(smp), "%d", o->smp);
	argv[n++] = o->qemu;
	argv[n++] = "-M", argv[n++] = o->machine;
	if (o->cpu) {
		argv[n++] = "-cpu", argv[n++] = o->cpu;
		argv[n++] = "-smp", argv[n++] = smp;
		argv[n++] = "-m", argv[n++] = "128M";
	} else {
		/* The seed ends itself through semihosting SYS_EXIT_EXTENDED with its status. */
		argv[n++] = "-semihosting-config", argv[n++] = "enable=on,target=native";
		argv[n++] = "-nic", argv[n++] = "none"; /* the board's Ethernet, unused */
	}
	argv[n++] = "-nodefaults"; /* no default NIC and friends: a faster start */
	argv[n++] = "-display", argv[n++] = "none";
	argv[n++] = "-monitor", argv[n++] = "none";
	if (semihost) {
		/* One chardev for the UART and semihosting writes, so their order is kept. */
		argv[n++] = "-chardev", argv[n++] = "stdio,id=con,mux=on";
		argv[n++] = "-serial", argv[n++] = "chardev:con";
		argv[n++] = "-semihosting-config",
		argv[n++] = "enable=on,target=native,chardev=con";
	} else {
		argv[n++] = "-serial", argv[n++] = "stdio";
	}
	argv[n++] = "-no-reboot";
	argv[n++] = "-kernel", argv[n++] = o->elf;
	if (o->gdb)
		argv[n++] = "-gdb", argv[n++] = o->gdb_dev[0] ? o->gdb_dev : "tcp::1234",
		argv[n++] = "-S";
	for (int i = 0; i < o->nextra; i++) {
		/* The image learns of semihosting from its boot arguments: merge any -append. */
		if (semihost && !strcmp(o->extra[i], "-append") && i + 1 < o->nextra) {
			append = o->extra[++i];
			continue;
		}
		argv[n++] = o->extra[i];
	}
	if (semihost) {
		snprintf(bootargs, sizeof(bootargs), "rvm.semihost%s%s", append ? " " : "",
			 append ? append : "");
		argv[n++] = "-append", argv[n++] = bootargs;
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);

		dup2(in, 0);
		dup2(out_fd, 1);
		/* Its own process group, so a timeout can stop QEMU and anything it started. */
		setpgid(0, 0);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "rvm-qemu-run: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid); /* also here, so the group exists before any kill(-pid) */
	return pid;
}

/* Reads QEMU's console until it closes, the deadline passes (returns 1) or a line starts with
 * the --until text (returns 2). */
static int pump(struct capture *c, int fd, double deadline)
{
	char buf[4096], line[8192] = {0};
	size_t len = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		double left = deadline - now_ms();
		ssize_t r;

		if (left <= 0)
			return 1;
		if (poll(&p, 1, (int)left + 1) <= 0)
			continue;
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (len < sizeof(line) - 1)
				line[len++] = buf[i];
			if (buf[i] == '\n') {
				line[len] = 0;
				line_in(c, line, now_ms());
				len = 0;
				if (c->reached)
					return 2;
			}
		}
	}
	if (len) {
		line[len] = 0;
		line_in(c, line, now_ms());
	}
	return 0;
}

/*
 * --verify LOG: checks a captured log with the core's streaming verifier
 * (chain, signatures with the key the log names, clean shutdown); --dump
 * also prints one line per verified record: seq action actor target arg0 arg1.
 */
static void dump_record(void *ctx, const struct rvm_witness_record *r)
{
	const char *name = rvm_action_name(r->action);

	(void)ctx;
	printf("%llu %s actor=%u target=%llx arg0=%llx arg1=%llx\n", (unsigned long long)r->seq,
	       name ? name : "?", r->actor, (unsigned long long)r->target,
	       (unsigned long long)r->arg0, (unsigned long long)r->arg1);
}

static int verify(const char *path, bool dump)
{
	static struct rvm_witness_reader r;
	const struct rvm_witness_verdict *v;
	unsigned char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "rvm-qemu-run: %s: %s\n", path, strerror(errno));
		return 2;
	}
	rvm_witness_reader_init(&r, rvm_sha256_detect(), NULL, dump ? dump_record : NULL, NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		rvm_witness_reader_feed(&r, buf, n);
	fclose(f);
	v = rvm_witness_reader_finish(&r);
	printf("rvm-qemu-run: %s: %s, %llu records, %llu checkpoints, %s\n", path,
	       v->err == RVM_OK ? "chain verified" : rvm_err_str(v->err),
	       (unsigned long long)v->records, (unsigned long long)v->checkpoints,
	       v->clean ? "clean shutdown" : "no shutdown checkpoint");
	if (v->why)
		printf("rvm-qemu-run: %s (record %llu)\n", v->why, (unsigned long long)v->bad_seq);
	return v->err == RVM_OK && v->clean ? 0 : 1;
}

/* A whole log's header and records, verified on the way in (--twin). */
struct loaded {
	uint8_t header[RVM_WFILE_HEADER_SIZE];
	struct rvm_witness_record *rec;
	size_t n, cap;
	bool oom;
};

static void keep_record(void *ctx, const struct rvm_witness_record *r)
{
	struct loaded *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4096;
		struct rvm_witness_record *p = realloc(l->rec, cap * sizeof(*p));

		if (!p) {
			l->oom = true;
			return;
		}
		l->rec = p;
		l->cap = cap;
	}
	l->rec[l->n++] = *r;
}

/* Reads and verifies path into *l: 0 a verified log with a clean shutdown, 1 a log that does
 * not verify, 2 unreadable. */
static int load_log(const char *path, struct loaded *l)
{
	static struct rvm_witness_reader r;
	const struct rvm_witness_verdict *v;
	unsigned char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n, got = 0;

	if (!f) {
		fprintf(stderr, "rvm-qemu-run: %s: %s\n", path, strerror(errno));
		return 2;
	}
	rvm_witness_reader_init(&r, rvm_sha256_detect(), NULL, keep_record, l);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (got < sizeof(l->header)) {
			size_t k = n < sizeof(l->header) - got ? n : sizeof(l->header) - got;

			memcpy(l->header + got, buf, k);
			got += k;
		}
		rvm_witness_reader_feed(&r, buf, n);
	}
	fclose(f);
	v = rvm_witness_reader_finish(&r);
	if (l->oom) {
		fprintf(stderr, "rvm-qemu-run: %s: out of memory\n", path);
		return 2;
	}
	if (v->err != RVM_OK || !v->clean) {
		printf("rvm-qemu-run: %s: %s%s%s\n", path,
		       v->err == RVM_OK ? "no shutdown checkpoint" : rvm_err_str(v->err),
		       v->why ? ": " : "", v->why ? v->why : "");
		return 1;
	}
	return 0;
}

static void show_record(const char *who, const struct rvm_witness_record *r)
{
	const char *name = rvm_action_name(r->action);

	printf("  %-10s %llu %s flags=%x actor=%u target=%llx arg0=%llx arg1=%llx (time %llu "
	       "ns)\n",
	       who, (unsigned long long)r->seq, name ? name : "?", r->flags, r->actor,
	       (unsigned long long)r->target, (unsigned long long)r->arg0,
	       (unsigned long long)r->arg1, (unsigned long long)r->time_ns);
}

/*
 * --twin BARE HOSTED: both logs verified, then compared header and record by record, every
 * field but time (twin_cmp.h). Prints the first difference with both sides' record.
 */
static int twin(const char *bare_path, const char *hosted_path)
{
	struct loaded bare = {0}, hosted = {0};
	struct rvm_twin_diff d;
	int rc = load_log(bare_path, &bare);

	if (rc == 0)
		rc = load_log(hosted_path, &hosted);
	if (rc != 0)
		goto out;
	if (rvm_twin_cmp_header(bare.header, hosted.header, &d)) {
		printf("twin: the log headers differ in %s (byte %zu)\n", d.field, d.index);
		rc = 1;
	} else if (rvm_twin_cmp_records(bare.rec, bare.n, hosted.rec, hosted.n, &d)) {
		printf("twin: first difference at record %zu (%s); bare metal %zu records, hosted "
		       "%zu\n",
		       d.index, d.field, bare.n, hosted.n);
		if (d.index < bare.n)
			show_record("bare-metal", &bare.rec[d.index]);
		if (d.index < hosted.n)
			show_record("hosted", &hosted.rec[d.index]);
		rc = 1;
	} else {
		printf("twin: the header and all %zu records are the same apart from time\n",
		       bare.n);
	}
out:
	free(bare.rec);
	free(hosted.rec);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct capture c = {.first_record_ms = -1, .first_line_ms = -1};
	int fds[2], status = 0, timed_out;
	const char *prefix;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "--verify"))
		return verify(argv[2], false);
	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return verify(argv[2], true);
	if (argc == 4 && !strcmp(argv[1], "--twin"))
		return twin(argv[2], argv[3]);
	if (parse(argc, argv, &o) != 0)
		return usage();
	/* Output files are named after the board: qemu-*.log for virt, seed-*.log for the seed. */
	prefix = !strcmp(o.board, "seed") ? "seed" : "qemu";
	if (access(o.elf, R_OK) != 0) {
		fprintf(stderr, "rvm-qemu-run: image %s: %s\n", o.elf, strerror(errno));
		return 2;
	}
	mkdir(o.out, 0755);
	{
		char stale[4096];

		/* A key from an earlier boot must not pass for this boot's. */
		snprintf(stale, sizeof(stale), "%s/%s-witness.pub", o.out, prefix);
		unlink(stale);
	}
	c.quiet = o.quiet;
	c.out = o.out;
	c.board = prefix;
	c.witness = open_named(o.out, prefix, "witness.log");
	c.journal = open_named(o.out, prefix, "journal.log");
	c.console = open_named(o.out, prefix, "console.txt");
	if (!c.witness || !c.journal || !c.console || pipe(fds) != 0) {
		close_all(&c);
		return 2;
	}
	c.launch_ms = now_ms();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	pid = launch(&o, fds[1]);
	close(fds[1]);
	if (pid < 0)
		return 2;
	qemu_pid = pid;
	c.until = o.until;
	timed_out = pump(&c, fds[0], o.gdb ? 1e18 : c.launch_ms + o.timeout_s * 1e3);
	if (timed_out == 2) {
		/* Seen what was asked for: the rest of the run is not wanted. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close_all(&c);
		if (c.first_record_ms >= 0)
			printf("rvm-qemu-run: first witness record after %.1f ms (wall clock from "
			       "launch)\n",
			       c.first_record_ms);
		printf("rvm-qemu-run: stopped at \"%s\" after %.1f ms\n", o.until,
		       now_ms() - c.launch_ms);
		return c.bad_frames ? 1 : 0;
	}
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	close_all(&c);
	if (c.first_line_ms >= 0)
		printf("rvm-qemu-run: first console line after %.1f ms (wall clock from launch)\n",
		       c.first_line_ms);
	if (c.first_record_ms >= 0)
		printf("rvm-qemu-run: first witness record after %.1f ms (wall clock from "
		       "launch)\n",
		       c.first_record_ms);
	printf("rvm-qemu-run: %llu witness bytes, %llu journal bytes, %.1f ms in all%s\n", c.wbytes,
	       c.jbytes, now_ms() - c.launch_ms, timed_out ? ", TIMED OUT" : "");
	if (timed_out) {
		fprintf(stderr, "rvm-qemu-run: QEMU did not power off within %d s\n", o.timeout_s);
		return 124;
	}
	if (c.bad_frames)
		return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
