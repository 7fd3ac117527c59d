/* bench/rows_qemu.c - time to the first witness record of the bare-metal image under QEMU. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "board_boot.h"

#define QEMU_BOOTS 7
#define QEMU_IMAGE "qemu-virt/platform/qemu-virt/rvm-qemu-virt.elf"

/* What one boot reported: wall clock from launch (runner) and time from entry (image). */
struct boot {
	double wall, guest;
};

static void boot_line(void *ctx, const char *line, bool console)
{
	struct boot *b = ctx;
	double v;

	if (!console && rvm_board_after(line, "rvm-qemu-run: first witness record after ", &v))
		b->wall = v;
	if (console && rvm_board_after(line, "rvm: first witness record ", &v))
		b->guest = v / 1e3;
}

/* Medians over QEMU_BOOTS boots of one configuration. */
struct boots {
	double wall, wall_min, guest;
	int ok;
};

/*
 * Boots the image QEMU_BOOTS times (one CPU) through the host runner, which measures
 * wall-clock time from launching QEMU until the first witness record has arrived on the
 * host; the image reports its own share (from entry). extra: more runner arguments.
 */
static void boot_many(const char *runner, const char *elf, const char *extra, struct boots *b)
{
	char args[256];
	double wall[QEMU_BOOTS], guest[QEMU_BOOTS];

	snprintf(args, sizeof(args), "--smp 1 %s", extra);
	b->ok = 0;
	for (int i = 0; i < QEMU_BOOTS; i++) {
		struct boot one = {-1, -1};

		rvm_board_boot(runner, elf, args, "qemu-console.txt", boot_line, &one);
		if (one.wall >= 0 && one.guest >= 0) {
			wall[b->ok] = one.wall;
			guest[b->ok] = one.guest;
			b->ok++;
		}
	}
	if (!b->ok)
		return;
	b->wall = rvm_board_median(wall, b->ok);
	b->wall_min = wall[0];
	b->guest = rvm_board_median(guest, b->ok);
}

/*
 * The image's own share in instructions, independent of the host's load: under -icount
 * shift=0 QEMU's virtual clock advances 1 ns per instruction, so the image's "us after entry"
 * is thousands of instructions. -1 when the boot did not report it.
 */
static double boot_kinsns(const char *runner, const char *elf, const char *append)
{
	char args[128];
	struct boot one = {-1, -1};

	snprintf(args, sizeof(args), "--smp 1 -- -icount shift=0%s%s", append ? " -append " : "",
		 append ? append : "");
	rvm_board_boot(runner, elf, args, "qemu-console.txt", boot_line, &one);
	return one.guest < 0 ? -1 : one.guest * 1e3; /* ms of 1-ns instructions -> k insns */
}

/*
 * The default boot (an Ed25519 key pair derived before genesis) and an unsigned one
 * (-append rvm.unsigned). No peer: QEMU's own start-up is most of the figure.
 */
static void run_first_witness(struct rvm_bench_result *out)
{
	char runner[PATH_MAX], elf[PATH_MAX];
	struct boots sig, uns;
	double ksig, kuns;

	if (system("command -v qemu-system-aarch64 >/dev/null 2>&1") != 0 ||
	    rvm_board_paths(QEMU_IMAGE, runner, elf, sizeof(runner)) != 0) {
		snprintf(out->note, sizeof(out->note), "skipped: QEMU or the image is missing");
		return;
	}
	boot_many(runner, elf, "", &sig);
	boot_many(runner, elf, "-- -append rvm.unsigned", &uns);
	ksig = boot_kinsns(runner, elf, NULL);
	kuns = boot_kinsns(runner, elf, "rvm.unsigned");
	if (!sig.ok || !uns.ok) {
		snprintf(out->note, sizeof(out->note), "failed: no boot reported a first witness");
		return;
	}
	out->ours_ns = sig.wall * 1e6;
	snprintf(out->note, sizeof(out->note),
		 "med of %d: %.0f ms (min %.0f, %.0f in image); unsigned %.0f (%.0f); "
		 "image %.0fk/%.0fk insns",
		 QEMU_BOOTS, sig.wall, sig.wall_min, sig.guest, uns.wall, uns.guest, ksig, kuns);
}

RVM_BENCH_ROW(qemu_first_witness, NULL, "< 100 ms from launch", run_first_witness)
