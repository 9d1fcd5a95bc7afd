# Verilated models of the accelerator's RTL as static libraries.
#
# kiln_verilate(TARGET CONFIG TOP PREFIX [ARGS ...]) runs Verilator at build time (after the
# config's SystemVerilog package is generated; verilate() would run at configure time, before
# it exists) with -O3, and makes TARGET an interface library carrying the model (class PREFIX,
# header PREFIX.h) and the Verilator runtime.
find_package(verilator QUIET HINTS $ENV{VERILATOR_ROOT})

function(kiln_verilated_runtime)
  if(TARGET kiln_verilated_rt)
    return()
  endif()
  find_package(Threads REQUIRED)
  set(vinc ${VERILATOR_ROOT}/include)
  add_library(kiln_verilated_rt STATIC ${vinc}/verilated.cpp ${vinc}/verilated_threads.cpp)
  target_include_directories(kiln_verilated_rt SYSTEM PUBLIC ${vinc} ${vinc}/vltstd)
  target_compile_definitions(kiln_verilated_rt PUBLIC VM_TRACE=0 VM_COVERAGE=0 VM_SC=0)
  target_compile_options(kiln_verilated_rt PRIVATE -O2 -w)
  target_link_libraries(kiln_verilated_rt PUBLIC Threads::Threads)
endfunction()

function(kiln_verilate target config top prefix)
  cmake_parse_arguments(arg "" "" "ARGS" ${ARGN})
  kiln_verilated_runtime()
  set(pkg ${KILN_ACCEL_GENERATED_DIR}/${config}/kiln_accel_pkg.sv)
  set(vdir ${CMAKE_CURRENT_BINARY_DIR}/verilated/${prefix})
  add_custom_command(OUTPUT ${vdir}/${prefix}__ALL.a
    COMMAND ${VERILATOR_BIN} --cc -O3 --build -j 1 --prefix ${prefix} --Mdir ${vdir} --top-module ${top}
            -MAKEFLAGS "OPT_FAST=-O3 OPT_SLOW=-O1 OPT_GLOBAL=-O2 CXX=${CMAKE_CXX_COMPILER}"
            ${arg_ARGS} ${pkg} ${KILN_RTL_SOURCES}
    DEPENDS ${pkg} ${KILN_RTL_SOURCES}
    COMMENT "Verilating ${top} for config ${config}"
    VERBATIM)
  add_custom_target(${target}_build DEPENDS ${vdir}/${prefix}__ALL.a)
  add_dependencies(${target}_build hw-packages)
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_build)
  target_include_directories(${target} SYSTEM INTERFACE ${vdir})
  target_link_libraries(${target} INTERFACE ${vdir}/${prefix}__ALL.a kiln_verilated_rt)
endfunction()
