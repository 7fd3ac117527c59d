/* bench/board_boot.h - boots a bare-metal image under QEMU through the host runner, for the rows
 * that measure the boards (rows_qemu.c, rows_seed.c). */
#ifndef RVM_BENCH_BOARD_BOOT_H
#define RVM_BENCH_BOARD_BOOT_H

#include <stdbool.h>
#include <stddef.h>

/* Called for each line the runner prints (console false) and then for each line of the
 * image's console capture (console true). */
typedef void rvm_board_line_fn(void *ctx, const char *line, bool console);

/*
 * Finds the runner (BUILD/tests/qemu/rvm-qemu-run) and image (BUILD/image_rel) of this build
 * tree from our own executable (BUILD/bench/rvm-bench). 0 when both are there, -1 otherwise.
 */
int rvm_board_paths(const char *image_rel, char *runner, char *elf, size_t n);
/*
 * One boot: runner --elf elf --out TMP --quiet args, in a fresh temporary directory that is
 * removed afterwards; every line goes to fn. console is the capture's file name in TMP
 * ("qemu-console.txt", "seed-console.txt"). Returns the runner's exit status, -1 if it
 * could not run.
 */
int rvm_board_boot(const char *runner, const char *elf, const char *args, const char *console,
		   rvm_board_line_fn *fn, void *ctx);
/* If line starts with prefix followed by a number, stores it in *v and returns 1; else 0. */
int rvm_board_after(const char *line, const char *prefix, double *v);

#endif
