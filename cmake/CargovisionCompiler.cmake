# Compiler launcher and warning policy shared by every target.

find_program(CARGOVISION_CCACHE ccache)
if(CARGOVISION_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers are only cacheable when ccache may ignore their timestamps.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${CARGOVISION_CCACHE})
  message(STATUS "cargovision: using ccache (${CARGOVISION_CCACHE})")
endif()

add_library(cargovision_warnings INTERFACE)
target_compile_options(cargovision_warnings INTERFACE -Wall -Wextra)
