# mq_add_plugin() for plugins built OUT OF TREE against an installed mq (find_package(mq)).
# Included by mqConfig.cmake; the in-tree plugins use cmake/mq_helpers.cmake instead.
#
#   mq_add_plugin(NAME audit
#                 SOURCES src/plugin.cc            # the MODULE's own sources (the entry point)
#                 [CORE_SOURCES src/a.cc ...]      # also build STATIC <name>_core (PIC) that
#                                                  # the MODULE and your unit tests link
#                 [LIBS lib ...]                   # more libraries (linked PUBLIC by the core)
#                 [OUTPUT_DIRECTORY dir])          # default: ${CMAKE_BINARY_DIR}/plugins
#
# Produces <dir>/<name>.so (no "lib" prefix: the loader opens pluginDir/<name>.so) exporting
# only the descriptor alias: hidden visibility, C++20 without extensions, --no-undefined (a
# missing symbol fails the link, not the broker's start), static libraries' symbols kept
# local. Sources get MQ_PLUGIN_NAME="<name>": use it as the descriptor's name so the file
# name and descriptor name cannot disagree.
include_guard(GLOBAL)

function(_mq_plugin_target_defaults target name)
  set_target_properties(${target} PROPERTIES
    CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON POSITION_INDEPENDENT_CODE ON)
  target_compile_definitions(${target} PRIVATE MQ_PLUGIN_NAME="${name}")
endfunction()

function(mq_add_plugin)
  cmake_parse_arguments(P "" "NAME;OUTPUT_DIRECTORY" "SOURCES;CORE_SOURCES;LIBS" ${ARGN})
  if(NOT P_NAME OR NOT P_SOURCES)
    message(FATAL_ERROR "mq_add_plugin: NAME and SOURCES are required")
  endif()
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "mq_add_plugin(${P_NAME}): unknown arguments ${P_UNPARSED_ARGUMENTS}")
  endif()
  # The kernel refuses a plugin built by another compiler (MQ_BUILD_SIGNATURE): say so now.
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" kernel_cc "${MQ_KERNEL_CXX_COMPILER_VERSION}")
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" this_cc "${CMAKE_CXX_COMPILER_VERSION}")
  if(MQ_KERNEL_CXX_COMPILER_ID AND (NOT CMAKE_CXX_COMPILER_ID STREQUAL MQ_KERNEL_CXX_COMPILER_ID
                                    OR NOT this_cc STREQUAL kernel_cc))
    message(FATAL_ERROR "mq_add_plugin(${P_NAME}): the installed mq kernel was built with "
      "${MQ_KERNEL_CXX_COMPILER_ID} ${MQ_KERNEL_CXX_COMPILER_VERSION}, this project uses ${CMAKE_CXX_COMPILER_ID} "
      "${CMAKE_CXX_COMPILER_VERSION}; the broker would refuse the plugin. Configure with "
      "-DCMAKE_CXX_COMPILER=<the kernel's compiler>.")
  endif()
  if(NOT P_OUTPUT_DIRECTORY)
    set(P_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins)
  endif()

  add_library(${P_NAME} MODULE ${P_SOURCES})
  _mq_plugin_target_defaults(${P_NAME} ${P_NAME})
  if(P_CORE_SOURCES)
    string(REPLACE "-" "_" core ${P_NAME})
    set(core ${core}_core)
    add_library(${core} STATIC ${P_CORE_SOURCES})
    _mq_plugin_target_defaults(${core} ${P_NAME})
    target_link_libraries(${core} PUBLIC mq::plugin_api ${P_LIBS})
    target_link_libraries(${P_NAME} PRIVATE ${core})
  else()
    target_link_libraries(${P_NAME} PRIVATE mq::plugin_api ${P_LIBS})
  endif()
  set_target_properties(${P_NAME} PROPERTIES PREFIX "" SUFFIX ".so" LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  target_link_options(${P_NAME} PRIVATE -Wl,--no-undefined -Wl,--exclude-libs,ALL)
endfunction()
