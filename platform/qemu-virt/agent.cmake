# platform/qemu-virt/agent.cmake - rvm_embed_agent(OUTVAR): the demo's agent.wat, built with
# wat2wasm and embedded as rvm_agent_wasm[] in a generated C file, whose path goes to OUTVAR.
include(${CMAKE_SOURCE_DIR}/platform/common/wat.cmake)
function(rvm_embed_agent outvar)
  rvm_embed_wat(${CMAKE_SOURCE_DIR}/platform/qemu-virt/agent.wat rvm_agent_wasm _c)
  set(${outvar} ${_c} PARENT_SCOPE)
endfunction()
