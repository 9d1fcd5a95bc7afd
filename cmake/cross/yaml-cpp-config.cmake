# yaml-cpp for a board's cross build. Debian's libyaml-cpp-dev cannot be installed for a second
# architecture beside the host's (it is not Multi-Arch), so a cross build uses the target's
# shared library (Debian's libyaml-cpp0.7 for armhf / arm64, put in the cross toolchain's
# sysroot by scripts/setup.sh) with the host's headers, which are the same on every
# architecture. The top-level CMakeLists points yaml-cpp_DIR here when cross-compiling.
set(_kiln_yaml_lib ${CMAKE_FIND_ROOT_PATH}/lib/libyaml-cpp.so.0.7)
if(NOT EXISTS ${_kiln_yaml_lib} OR NOT EXISTS /usr/include/yaml-cpp/yaml.h)
  set(yaml-cpp_FOUND FALSE)
  set(yaml-cpp_NOT_FOUND_MESSAGE
      "${_kiln_yaml_lib} or /usr/include/yaml-cpp is missing (scripts/setup.sh installs libyaml-cpp0.7 for the board's architecture)")
  return()
endif()
if(NOT TARGET yaml-cpp)
  # The headers through a link in the build tree: adding /usr/include itself would pick up the
  # host's C library.
  set(_kiln_yaml_inc ${CMAKE_BINARY_DIR}/host-headers-yaml)
  file(MAKE_DIRECTORY ${_kiln_yaml_inc})
  if(NOT EXISTS ${_kiln_yaml_inc}/yaml-cpp)
    file(CREATE_LINK /usr/include/yaml-cpp ${_kiln_yaml_inc}/yaml-cpp SYMBOLIC)
  endif()
  add_library(yaml-cpp SHARED IMPORTED)
  set_target_properties(yaml-cpp PROPERTIES IMPORTED_LOCATION ${_kiln_yaml_lib}
                                            INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${_kiln_yaml_inc}
                                            INTERFACE_INCLUDE_DIRECTORIES ${_kiln_yaml_inc})
endif()
set(yaml-cpp_FOUND TRUE)
