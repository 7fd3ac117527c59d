/* platform/qemu-virt/pl011.c - the console: a PL011 UART (or semihosting on the same chardev),
 * shared by every CPU under one lock, and the buffer its framed sink lines wait in. */
#include "board.h"

#include <stdbool.h>

#include <rvm/bytes.h>

#include "lock.h"

#define PL011_DR      0x00
#define PL011_FR      0x18
#define PL011_FR_TXFF (1u << 5)

/* Bytes a semihosting write takes at once (one trap each). */
#define SEMIHOST_PIECE 4096u

/* The console device: set once by the boot CPU before others start. console_lock serialises
 * writes to the device and the semihosting piece buffer. */
static volatile uint8_t *uart_base;
static bool semihost;
static struct rvm_lock console_lock;
static char piece[SEMIHOST_PIECE + 1];

/*
 * The sink's framed lines, buffered so they reach the console in large writes, and (deferred)
 * outside the kernel lock. head and tail count bytes ever published and ever written; ring
 * (size bytes of RAM the board hands over once it has some) is NULL before, and lines are
 * then written at once.
 * Invariants: 0 <= head - tail <= size; head moves only under put_lock and only by whole
 * lines; tail moves only under console_lock; [tail, head) is never written by a producer.
 */
static struct {
	struct rvm_lock put_lock;
	volatile uint64_t head, tail;
	volatile bool deferred;
	char *ring;
	size_t size;
} frames;

/* Semihosting SYS_WRITE0 (operation 4): writes the NUL-terminated string at s. */
static void semihost_write0(const char *s)
{
	register uint64_t op __asm__("x0") = 4;
	register const char *arg __asm__("x1") = s;

	__asm__ volatile("hlt #0xf000" : "+r"(op) : "r"(arg) : "memory");
}

void rvm_board_console_semihost(void)
{
	semihost = true;
}

void rvm_board_console_set(uint64_t base)
{
	uart_base = (volatile uint8_t *)(uintptr_t)base;
}

void rvm_board_early_console(void)
{
	rvm_board_console_set(RVM_QEMU_UART_DEFAULT);
}

/* QEMU's PL011 is usable from reset; wait while its transmit FIFO is full. */
static void pl011_putc(char c)
{
	volatile uint32_t *fr = (volatile uint32_t *)(uart_base + PL011_FR);
	volatile uint32_t *dr = (volatile uint32_t *)(uart_base + PL011_DR);

	while (*fr & PL011_FR_TXFF)
		;
	*dr = (uint8_t)c;
}

/* Writes n bytes to the device; the caller holds console_lock. Semihosting takes one trap per
 * piece of up to SEMIHOST_PIECE bytes, so large writes cost few traps. */
static void console_out(const char *s, size_t n)
{
	if (semihost) {
		/* Console text and frames hold no NUL: copy out in NUL-terminated pieces. */
		while (n) {
			size_t k = n < SEMIHOST_PIECE ? n : SEMIHOST_PIECE;

			for (size_t i = 0; i < k; i++)
				piece[i] = s[i] ? s[i] : '?';
			piece[k] = 0;
			semihost_write0(piece);
			s += k;
			n -= k;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			pl011_putc(s[i]);
	}
}

void rvm_board_write(const char *s, size_t n)
{
	if (!uart_base)
		return;
	rvm_lock_take(&console_lock);
	console_out(s, n);
	rvm_lock_give(&console_lock);
}

/* Writes out every frame line published so far; the caller holds console_lock. The bytes in
 * [tail, head) are whole lines no producer touches until tail passes them. */
static void frames_drain_locked(void)
{
	uint64_t h = __atomic_load_n(&frames.head, __ATOMIC_ACQUIRE), t = frames.tail;

	while (t < h) {
		size_t off = (size_t)(t % frames.size), k = (size_t)(h - t);

		if (k > frames.size - off)
			k = frames.size - off; /* up to the wrap; the rest on the next turn */
		console_out(frames.ring + off, k);
		t += k;
	}
	__atomic_store_n(&frames.tail, t, __ATOMIC_RELEASE);
}

static void frames_drain(void)
{
	rvm_lock_take(&console_lock);
	frames_drain_locked();
	rvm_lock_give(&console_lock);
}

void rvm_board_frame_put(const char *line, size_t n)
{
	uint64_t h;
	size_t off, k;

	if (!uart_base)
		return;
	if (!frames.ring || n > frames.size) {
		rvm_board_write(line, n);
		return;
	}
	rvm_lock_take(&frames.put_lock);
	h = frames.head;
	/* Full: write the ring out here (the writer never waits for this lock, so no cycle). */
	while (frames.size - (h - __atomic_load_n(&frames.tail, __ATOMIC_ACQUIRE)) < n)
		frames_drain();
	off = (size_t)(h % frames.size);
	k = n < frames.size - off ? n : frames.size - off;
	rvm_memcpy(frames.ring + off, line, k);
	rvm_memcpy(frames.ring, line + k, n - k);
	/* Published whole: a drain never writes half a line. */
	__atomic_store_n(&frames.head, h + n, __ATOMIC_RELEASE);
	rvm_lock_give(&frames.put_lock);
}

void rvm_board_frames_buffer(void *ring, size_t size)
{
	frames.ring = ring;
	frames.size = size;
}

void rvm_board_frames_flush(enum rvm_board_flush how)
{
	if (!uart_base)
		return;
	if (how == RVM_FLUSH_UNLESS_DEFERRED && frames.deferred)
		return;
	if (how != RVM_FLUSH_TRY) {
		frames_drain();
	} else if (__atomic_load_n(&frames.head, __ATOMIC_ACQUIRE) !=
			   __atomic_load_n(&frames.tail, __ATOMIC_ACQUIRE) &&
		   rvm_lock_try(&console_lock)) {
		frames_drain_locked();
		rvm_lock_give(&console_lock);
	}
}

void rvm_board_frames_defer(bool on)
{
	__atomic_store_n(&frames.deferred, on, __ATOMIC_RELEASE);
	if (!on)
		rvm_board_frames_flush(RVM_FLUSH_ALL);
}
