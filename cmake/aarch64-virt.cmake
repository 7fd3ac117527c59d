# Toolchain: bare-metal AArch64 (QEMU virt, EL2) with Debian's aarch64-linux-gnu-gcc.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE _cc_include OUTPUT_STRIP_TRAILING_WHITESPACE)
# The board's configuration of the core (RVM_QEMU_CORE_DEFINES), shared with its hosted twin.
include(${CMAKE_CURRENT_LIST_DIR}/../platform/qemu-virt/board_config.cmake)
list(TRANSFORM RVM_QEMU_CORE_DEFINES PREPEND -D OUTPUT_VARIABLE _rvm_board_defines)
# Only the compiler's own headers (stdint.h, stddef.h, ...): no libc can leak in.
set(RVM_CORE_FLAGS -ffreestanding -nostdlib -nostdinc -isystem ${_cc_include}
    -fno-pie -mstrict-align -mno-outline-atomics -fno-stack-protector ${_rvm_board_defines})
# kernel/ and lib/ never touch the FP/SIMD registers at EL2.
set(RVM_CORE_NOFP_FLAGS -mgeneral-regs-only)
