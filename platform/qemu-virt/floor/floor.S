/* platform/qemu-virt/floor/floor.S - rvm-qemu-floor.elf: the least image QEMU can boot (one console
 * line, then PSCI SYSTEM_OFF), so the bench can time QEMU's own start-up apart from RVM's. */
	.section .text.boot, "ax"
	.global _start
_start:
	ldr	x1, =0x09000000		// QEMU virt's PL011 data register
	adr	x2, line
1:	ldrb	w3, [x2], #1
	cbz	w3, 2f
	strb	w3, [x1]		// QEMU's PL011 takes a byte at once: no FIFO wait
	b	1b
2:	ldr	x0, =0x84000008		// PSCI SYSTEM_OFF through SMC, as at EL2
	smc	#0
3:	wfi
	b	3b
line:	.asciz	"rvm: floor image up\n"
