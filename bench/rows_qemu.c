/* bench/rows_qemu.c - the bare-metal image under QEMU: time to the first witness record, with
 * QEMU's own floor (launch to the first console line of an image that does nothing) beside it,
 * and the demo swarm's messages per second on 1 and 4 CPUs, sleeping or spinning waiters. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "board_boot.h"

#define QEMU_BOOTS 11
#define QEMU_IMAGE "qemu-virt/platform/qemu-virt/rvm-qemu-virt.elf"
#define QEMU_FLOOR "qemu-virt/platform/qemu-virt/rvm-qemu-floor.elf"
/* The image reports its share once its boot is done; the rest of the run is not timed. */
#define QEMU_UNTIL "--until 'rvm: boot attestation'"

/* What one boot reported: wall clock from launch to the first witness record and to the first
 * console line (runner), and time from entry (image). */
struct boot {
	double wall, line, guest;
};

static void boot_line(void *ctx, const char *line, bool console)
{
	struct boot *b = ctx;
	double v;

	if (!console && rvm_board_after(line, "rvm-qemu-run: first witness record after ", &v))
		b->wall = v;
	if (!console && rvm_board_after(line, "rvm-qemu-run: first console line after ", &v))
		b->line = v;
	if (console && rvm_board_after(line, "rvm: first witness record ", &v))
		b->guest = v / 1e3;
}

/* Samples of one configuration over the interleaved boots. */
struct series {
	double v[QEMU_BOOTS], in_image[QEMU_BOOTS];
	int n;
};

static void add(struct series *s, double v, double in_image)
{
	if (v < 0)
		return;
	s->v[s->n] = v;
	s->in_image[s->n] = in_image;
	s->n++;
}

static double lowest(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

/* The 1-minute load average, which these wall-clock figures depend on. */
static double load_now(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/*
 * The image's own share in instructions, independent of the host's load: under -icount
 * shift=0 QEMU's virtual clock advances 1 ns per instruction, so the image's "us after entry"
 * is thousands of instructions. -1 when the boot did not report it.
 */
static double boot_kinsns(const char *runner, const char *elf, const char *append)
{
	char args[128];
	struct boot one = {-1, -1, -1};

	snprintf(args, sizeof(args), "--smp 1 " QEMU_UNTIL " -- -icount shift=0%s%s",
		 append ? " -append " : "", append ? append : "");
	rvm_board_boot(runner, elf, args, "qemu-console.txt", boot_line, &one);
	return one.guest < 0 ? -1 : one.guest * 1e3; /* ms of 1-ns instructions -> k insns */
}

static void print_series(const char *what, struct series *s)
{
	double med, in;

	if (!s->n)
		return;
	in = rvm_bench_median(s->in_image, s->n);
	med = rvm_bench_median(s->v, s->n);
	fprintf(stderr, "qemu_first_witness: %-9s median %6.1f ms, min %6.1f ms", what, med,
		lowest(s->v, s->n));
	if (in >= 0)
		fprintf(stderr, ", %.1f ms of it in the image", in);
	fprintf(stderr, " (%d boots)\n", s->n);
}

/*
 * QEMU_BOOTS rounds, each booting (one CPU, through the host runner) the floor image, the
 * default image (an Ed25519 key pair derived before genesis) and an unsigned one (-append
 * rvm.unsigned), so the three see the same load. Wall clock runs from launching QEMU until the
 * first whole witness record (the floor: its first console line) has reached the host. No
 * peer: QEMU's floor is the figure to compare with. Details go to stderr.
 */
static void run_first_witness(struct rvm_bench_result *out)
{
	char runner[PATH_MAX], elf[PATH_MAX], floor_elf[PATH_MAX];
	struct series fl = {0}, sig = {0}, uns = {0};
	double load0 = load_now(), load1, ksig, kuns;

	if (system("command -v qemu-system-aarch64 >/dev/null 2>&1") != 0 ||
	    rvm_board_paths(QEMU_IMAGE, runner, elf, sizeof(runner)) != 0 ||
	    rvm_board_paths(QEMU_FLOOR, runner, floor_elf, sizeof(runner)) != 0) {
		snprintf(out->note, sizeof(out->note), "skipped: QEMU or the image is missing");
		return;
	}
	for (int i = 0; i < QEMU_BOOTS; i++) {
		struct boot f = {-1, -1, -1}, s = {-1, -1, -1}, u = {-1, -1, -1};

		rvm_board_boot(runner, floor_elf, "--smp 1 --pl011", "qemu-console.txt", boot_line,
			       &f);
		rvm_board_boot(runner, elf, "--smp 1 " QEMU_UNTIL, "qemu-console.txt", boot_line,
			       &s);
		rvm_board_boot(runner, elf, "--smp 1 " QEMU_UNTIL " -- -append rvm.unsigned",
			       "qemu-console.txt", boot_line, &u);
		add(&fl, f.line, -1);
		add(&sig, s.guest >= 0 ? s.wall : -1, s.guest);
		add(&uns, u.guest >= 0 ? u.wall : -1, u.guest);
	}
	load1 = load_now();
	ksig = boot_kinsns(runner, elf, NULL);
	kuns = boot_kinsns(runner, elf, "rvm.unsigned");
	print_series("signed", &sig);
	print_series("unsigned", &uns);
	print_series("floor", &fl);
	fprintf(stderr,
		"qemu_first_witness: load average %.1f before, %.1f after; image %.0fk "
		"instructions signed, %.0fk unsigned (-icount)\n",
		load0, load1, ksig, kuns);
	if (!sig.n || !uns.n || !fl.n) {
		snprintf(out->note, sizeof(out->note), "failed: a configuration never booted");
		return;
	}
	out->ours_ns = rvm_bench_median(sig.v, sig.n) * 1e6;
	snprintf(out->note, sizeof(out->note),
		 "med/min of %d: %.0f/%.0f ms; unsigned %.0f/%.0f; QEMU floor %.0f/%.0f; load %.0f",
		 sig.n, rvm_bench_median(sig.v, sig.n), lowest(sig.v, sig.n),
		 rvm_bench_median(uns.v, uns.n), lowest(uns.v, uns.n), rvm_bench_median(fl.v, fl.n),
		 lowest(fl.v, fl.n), (load0 + load1) / 2);
}

RVM_BENCH_ROW(qemu_first_witness, NULL, "< 100 ms from launch", run_first_witness)

#define SWARM_ROUNDS 3
#define SWARM_MS     2000

/* The image's report line "rvm: kernel agents: N messages/s on C CPU(s)". */
static void msgs_line(void *ctx, const char *line, bool console)
{
	double *rate = ctx, v;
	char tail[32];

	if (console && sscanf(line, "rvm: kernel agents: %lf messages/%31s", &v, tail) == 2 &&
	    !strcmp(tail, "s"))
		*rate = v;
}

/* One fixed-length run of the demo swarm on smp CPUs; messages/s, or -1. */
static double swarm_rate(const char *runner, const char *elf, int smp, bool spin)
{
	char args[160];
	double rate = -1;

	snprintf(args, sizeof(args), "--smp %d --timeout 60 -- -append 'rvm.run-ms=%d%s'", smp,
		 SWARM_MS, spin ? " rvm.spin" : "");
	if (rvm_board_boot(runner, elf, args, "qemu-console.txt", msgs_line, &rate) != 0)
		return -1;
	return rate;
}

/*
 * SWARM_ROUNDS rounds, each running the demo swarm for SWARM_MS of machine time four ways (4
 * CPUs whose lock waiters and idle CPUs sleep in WFI, the same spinning (rvm.spin, as before
 * wait.c), and both on 1 CPU), so all four see the same host load. Ours: 4 CPUs sleeping;
 * peer: 4 CPUs spinning; in ns per message (medians). The 1-CPU figures are in the note.
 */
static void run_swarm_msgs(struct rvm_bench_result *out)
{
	char runner[PATH_MAX], elf[PATH_MAX];
	double r[4][SWARM_ROUNDS], med[4], load0 = load_now();
	static const int smp[4] = {4, 4, 1, 1};
	static const bool spin[4] = {false, true, false, true};

	if (system("command -v qemu-system-aarch64 >/dev/null 2>&1") != 0 ||
	    rvm_board_paths(QEMU_IMAGE, runner, elf, sizeof(runner)) != 0) {
		snprintf(out->note, sizeof(out->note), "skipped: QEMU or the image is missing");
		return;
	}
	for (int i = 0; i < SWARM_ROUNDS; i++)
		for (int c = 0; c < 4; c++) {
			r[c][i] = swarm_rate(runner, elf, smp[c], spin[c]);
			if (r[c][i] <= 0) {
				snprintf(out->note, sizeof(out->note),
					 "failed: a %d-CPU run reported no rate", smp[c]);
				return;
			}
		}
	for (int c = 0; c < 4; c++) {
		med[c] = rvm_bench_median(r[c], SWARM_ROUNDS);
		fprintf(stderr,
			"qemu_swarm_msgs: %d CPU(s) %-8s median %6.0f msgs/s (%d runs of %d ms)\n",
			smp[c], spin[c] ? "spinning" : "sleeping", med[c], SWARM_ROUNDS, SWARM_MS);
	}
	out->ours_ns = 1e9 / med[0];
	out->peer_ns = 1e9 / med[1];
	snprintf(out->note, sizeof(out->note),
		 "msgs/s 4 CPUs %.0f (spin %.0f), 1 CPU %.0f (spin %.0f); load %.1f", med[0],
		 med[1], med[2], med[3], (load0 + load_now()) / 2);
}

RVM_BENCH_ROW(qemu_swarm_msgs, "4 CPUs spinning", "4 CPUs: ratio < 0.5 (2x the msgs/s)",
	      run_swarm_msgs)
