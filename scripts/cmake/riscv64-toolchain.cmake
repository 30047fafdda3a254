# Toolchain for the guest half of the build: the reference kernel, its user programs and the
# engine's freestanding build. Every guest-wide compiler flag lives here and nowhere else.
#
# Used through the host build (ExternalProject in the top CMakeLists.txt) or directly:
#   cmake -S . -B build-guest -DRUPROBES_PART=guest \
#         -DCMAKE_TOOLCHAIN_FILE=scripts/cmake/riscv64-toolchain.cmake

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv64)

set(RUPROBES_CROSS_PREFIX "riscv64-linux-gnu-" CACHE STRING "Prefix of the riscv64 cross tools")
set(CMAKE_C_COMPILER ${RUPROBES_CROSS_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${RUPROBES_CROSS_PREFIX}g++)
set(CMAKE_ASM_COMPILER ${RUPROBES_CROSS_PREFIX}gcc)
set(CMAKE_OBJCOPY ${RUPROBES_CROSS_PREFIX}objcopy CACHE FILEPATH "")

# Nothing from the build machine may leak into the guest.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Freestanding RV64GC, code model medany so the kernel can live at 0x80200000.
set(_guest_common "-march=rv64gc -mabi=lp64d -mcmodel=medany -ffreestanding -nostdlib -fno-pie \
-fno-stack-protector -ffunction-sections -fdata-sections -g")
set(CMAKE_C_FLAGS_INIT "${_guest_common}")
set(CMAKE_CXX_FLAGS_INIT "${_guest_common} -fno-exceptions -fno-rtti -fno-threadsafe-statics \
-fno-use-cxa-atexit -fno-asynchronous-unwind-tables")
set(CMAKE_ASM_FLAGS_INIT "-march=rv64gc -mabi=lp64d -g")
# --build-id=none keeps the entry point at the link address: with a note section first, OpenSBI
# would jump into the note.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -nostdlib -no-pie -Wl,--build-id=none -Wl,--gc-sections")
