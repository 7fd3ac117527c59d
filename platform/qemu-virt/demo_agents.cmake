# platform/qemu-virt/demo_agents.cmake - rvm_embed_demo_agents(OUTVAR): the example agents the
# bare-metal demo swarm runs (examples/agents/*.c), built to wasm32 with clang + wasm-ld as for
# `rvm run`, each embedded as rvm_demo_<name>_wasm[] in a generated C file; the files' paths go
# to OUTVAR. The board has no file system to load agents from.
find_program(RVM_DEMO_CLANG NAMES clang clang-14 REQUIRED)
find_program(RVM_DEMO_WASM_LD NAMES wasm-ld wasm-ld-14 REQUIRED)
set(RVM_DEMO_AGENTS chatty sensor flaky fusion sink)
function(rvm_embed_demo_agents outvar)
  set(_src ${CMAKE_SOURCE_DIR}/examples/agents)
  set(_out)
  foreach(a ${RVM_DEMO_AGENTS})
    set(_wasm ${CMAKE_CURRENT_BINARY_DIR}/demo_${a}.wasm)
    set(_c ${CMAKE_CURRENT_BINARY_DIR}/rvm_demo_${a}_wasm.c)
    # The flags of examples/agents/CMakeLists.txt, so the board runs the modules `rvm run` does.
    add_custom_command(OUTPUT ${_wasm}
      COMMAND ${RVM_DEMO_CLANG} --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--stack-first
              -Wl,-z,stack-size=16384 -Wl,--initial-memory=131072 -Wall -Wextra -Werror
              -fuse-ld=${RVM_DEMO_WASM_LD} -o ${_wasm} ${_src}/${a}.c
      DEPENDS ${_src}/${a}.c ${_src}/rvm_agent.h VERBATIM)
    add_custom_command(OUTPUT ${_c}
      COMMAND ${CMAKE_COMMAND} -DIN=${_wasm} -DOUT=${_c} -DNAME=rvm_demo_${a}_wasm
              -P ${CMAKE_SOURCE_DIR}/platform/common/embed.cmake
      DEPENDS ${_wasm} ${CMAKE_SOURCE_DIR}/platform/common/embed.cmake VERBATIM)
    list(APPEND _out ${_c})
  endforeach()
  set(${outvar} ${_out} PARENT_SCOPE)
endfunction()
