/* platform/qemu-virt/pl011.c - the console: a PL011 UART (or semihosting on the same chardev),
 * shared by every CPU under one lock. */
#include "board.h"

#include <stdbool.h>

#include "lock.h"

#define PL011_DR      0x00
#define PL011_FR      0x18
#define PL011_FR_TXFF (1u << 5)

/* The console device: set once by the boot CPU before others start. */
static volatile uint8_t *uart_base;
static bool semihost;
static struct rvm_lock console_lock;

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

void rvm_board_write(const char *s, size_t n)
{
	char buf[257];

	if (!uart_base)
		return;
	rvm_lock_take(&console_lock);
	if (semihost) {
		/* Console text and frames hold no NUL: copy out in NUL-terminated pieces. */
		while (n) {
			size_t k = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;

			for (size_t i = 0; i < k; i++)
				buf[i] = s[i] ? s[i] : '?';
			buf[k] = 0;
			semihost_write0(buf);
			s += k;
			n -= k;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			pl011_putc(s[i]);
	}
	rvm_lock_give(&console_lock);
}
