# platform/qemu-virt/board_config.cmake - how the QEMU virt image configures the core, in one
# place: the image (cmake/aarch64-virt.cmake) and its hosted twin (tests/qemu) both build the
# core this way, so the twin boots the same kernel and its boot measures the same values.
#
# RVM_CAP_TABLES: the board's partitions (EL1 guests, agents' partitions and those splits make)
# come from the kernel's pool, each with its own cap table of 1024 slots (64 KiB); 32 tables (the
# kernel's and 31 partitions') keep the cap space at 2 MiB of the machine's 128 MiB instead of
# the appliance default's 64 MiB.
set(RVM_QEMU_CORE_DEFINES RVM_CAP_TABLES=32u)
# The GPU objects are compiled into the image (core only: no backend on the board).
set(RVM_QEMU_GPU ON)
