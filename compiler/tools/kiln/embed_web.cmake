# Writes OUT, a C++ file holding the browser runtime's files (runtime/web, DIR) as strings, so
# `kiln compile --bundle` can write a self-contained page wherever kiln is installed.
set(body "// Generated from runtime/web by embed_web.cmake; do not edit.\n#include <map>\n#include <string>\n\nnamespace kiln::cli {\nconst std::map<std::string, std::string>& webRuntimeFiles() {\n  static const std::map<std::string, std::string> files = {\n")
string(REPLACE "," ";" FILES "${FILES}")
foreach(f ${FILES})
  file(READ ${DIR}/${f} text)
  string(APPEND body "      {\"${f}\", R\"KILNWEB(${text})KILNWEB\"},\n")
endforeach()
string(APPEND body "  };\n  return files;\n}\n}  // namespace kiln::cli\n")
file(WRITE ${OUT} "${body}")
