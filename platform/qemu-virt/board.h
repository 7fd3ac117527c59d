/* platform/qemu-virt/board.h - the QEMU virt board: console, device tree facts, platform table. */
#ifndef RVM_QEMU_BOARD_H
#define RVM_QEMU_BOARD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/platform.h>

#include "fdt.h"

/* QEMU virt's fixed RAM base: ELF images get no DTB pointer, the DTB is placed here. */
#define RVM_QEMU_RAM_BASE 0x40000000ul
/* Used before the device tree is read (QEMU virt's first PL011). */
#define RVM_QEMU_UART_DEFAULT 0x09000000ul

/* Points the console at the default UART (for messages before the DTB is read). */
void rvm_board_early_console(void);
/* Uses the UART at base from now on. */
void rvm_board_console_set(uint64_t base);
/* From now on writes whole lines through semihosting SYS_WRITE0 (QEMU routes it to the
 * console's chardev, in order with the UART): one trap a line instead of one a byte. Only
 * when the host enabled semihosting (boot argument rvm.semihost), else it traps. */
void rvm_board_console_semihost(void);
/* Writes n bytes to the console atomically with respect to other CPUs. */
void rvm_board_write(const char *s, size_t n);
/* Framed sink lines (platform/common/frame.h) go through a RAM buffer: put publishes one whole
 * line; flush writes what is buffered to the console. While deferred (the run on several CPUs)
 * lines wait there until a CPU flushes outside the kernel lock; otherwise the sink flushes
 * after each append. Until the board hands over the buffer's RAM (once, on the boot CPU,
 * before the first sink line), and for a line longer than it, put writes at once. */
enum rvm_board_flush {
	RVM_FLUSH_ALL,		   /* everything buffered, waiting for the console if busy */
	RVM_FLUSH_TRY,		   /* only if the console is free right now */
	RVM_FLUSH_UNLESS_DEFERRED, /* everything, unless deferred */
};
void rvm_board_frames_buffer(void *ring, size_t size);
void rvm_board_frame_put(const char *line, size_t n);
void rvm_board_frames_flush(enum rvm_board_flush how);
/* Defers flushing (on) or stops deferring and flushes everything (off). */
void rvm_board_frames_defer(bool on);
/* printf subset: %s %c %d %u %x %lu %ld %lx %llu %llx %p %%, width and 0 flag. One line
 * at most 256 bytes; whole calls never interleave between CPUs. */
void rvm_board_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* vsnprintf for the subset above; always NUL-terminates when cap > 0; returns bytes written. */
size_t rvm_board_vfmt(char *out, size_t cap, const char *fmt, va_list ap);

/* A zeroed 4 KiB page of RAM above the image (ctx unused), or NULL when RAM is used up. */
void *rvm_board_page_alloc(void *ctx);
/* Emits one witness record (serialised across CPUs) and streams it out at once. */
enum rvm_err rvm_board_witness(uint16_t action, uint32_t actor, uint64_t target, uint64_t arg0,
			       uint64_t arg1);

/* Serialises the kernel's objects and witness log across CPUs: take it around every call
 * into the kernel (partition pool, gate, VMID table); give flushes the log first. Not
 * recursive: rvm_board_witness takes it itself. */
void rvm_board_kernel_take(void);
void rvm_board_kernel_give(void);
/* The kernel's witness log (use it with the lock above held). */
struct rvm_witness_log *rvm_board_wlog(void);
/* n contiguous zeroed bytes of RAM above the image (rounded up to pages), or NULL. */
void *rvm_board_take(uint64_t n);

/* Handles one pending interrupt (called with interrupts masked, from the trap path). */
void rvm_board_irq(void);

/* Board entry points called from arch/aarch64/start.S. */
void rvm_qemu_main(uint64_t dtb);
void rvm_qemu_secondary(uint64_t index);

#endif
