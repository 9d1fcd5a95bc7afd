# The accelerator's command line end to end: `kiln asm` assembles a kernel, `kiln disasm`
# gives text that assembles back to the same bytes, and `kiln sim` runs the binary with a
# DRAM image and writes a report, the final DRAM and a trace.
# Run as: cmake -DKILN=<kiln> -DSOURCE=<kernel.s> -DWORK=<scratch dir> -P cli_round_trip.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(kiln)
  execute_process(COMMAND ${KILN} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "kiln ${ARGN} failed (${rc}):\n${out}${err}")
  endif()
  set(KILN_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

kiln(asm ${SOURCE} -o ${WORK}/a.bin --config small)
kiln(disasm ${WORK}/a.bin --config small -o ${WORK}/b.s)
kiln(asm ${WORK}/b.s -o ${WORK}/b.bin --config small)
file(SHA256 ${WORK}/a.bin a)
file(SHA256 ${WORK}/b.bin b)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "disassembling ${SOURCE} and assembling it again gave different bytes")
endif()
kiln(disasm ${WORK}/b.bin --config small)
file(READ ${WORK}/b.s text)
if(NOT KILN_OUTPUT STREQUAL text)
  message(FATAL_ERROR "disasm to a file and to standard output differ")
endif()

# A raw DRAM image: the kernel's two micro-ops (bytes 0..7); the rest of DRAM is zero.
execute_process(COMMAND printf "\\000\\000\\000\\000\\000\\020\\000\\000"
                OUTPUT_FILE ${WORK}/dram.bin RESULT_VARIABLE rc)
file(SIZE ${WORK}/dram.bin size)
if(NOT size EQUAL 8)
  message(FATAL_ERROR "could not write the 8-byte DRAM image (printf gave ${size} bytes)")
endif()
kiln(sim ${WORK}/b.bin --config small --dram ${WORK}/dram.bin --dram-size 4096
     --trace ${WORK}/trace.json --out ${WORK}/final.img)
foreach(expected "cycles" "GEMM utilization" "compute" "store")
  string(FIND "${KILN_OUTPUT}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "kiln sim's report lacks '${expected}':\n${KILN_OUTPUT}")
  endif()
endforeach()
file(READ ${WORK}/trace.json trace)
string(FIND "${trace}" "\"traceEvents\"" at)
if(at EQUAL -1)
  message(FATAL_ERROR "kiln sim --trace wrote no trace events")
endif()
file(SIZE ${WORK}/final.img size)
if(NOT size EQUAL 4136)  # 24-byte header, a 16-byte segment header, 4096 bytes
  message(FATAL_ERROR "kiln sim --out wrote ${size} bytes, expected 4136")
endif()
