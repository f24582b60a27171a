# Build helpers: warnings, plugins (a static core + a loadable MODULE), and tests.

add_library(mq_warnings INTERFACE)
set_target_properties(mq_warnings PROPERTIES EXPORT_NAME warnings)

# Where `cmake --install` puts the bundled plugins; default_plugin_dir() in
# kernel/src/config/broker_options.cc finds them there relative to <prefix>/bin/mqbroker.
set(MQ_INSTALL_PLUGINDIR lib/mq/plugins)
target_compile_options(mq_warnings INTERFACE -Wall -Wextra $<$<BOOL:${MQ_WERROR}>:-Werror>)

# mq_add_plugin(NAME storage-mmap CORE_SOURCES a.cc b.cc ENTRY_SOURCE plugin.cc [LIBS ...])
# Creates <name_with_underscores>_core (STATIC, linked by the plugin's unit tests) and the
# MODULE <name> written to build/plugins/<name>.so, exporting only the descriptor alias.
function(mq_add_plugin)
  cmake_parse_arguments(P "" "NAME;ENTRY_SOURCE" "CORE_SOURCES;LIBS" ${ARGN})
  string(REPLACE "-" "_" core ${P_NAME})
  set(core ${core}_core)
  add_library(${core} STATIC ${P_CORE_SOURCES})
  target_include_directories(${core} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${core} PUBLIC mq::plugin_api ${P_LIBS} PRIVATE mq_warnings)
  add_library(${P_NAME} MODULE ${P_ENTRY_SOURCE})
  target_link_libraries(${P_NAME} PRIVATE ${core} mq_warnings)
  set_target_properties(${P_NAME} PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${MQ_PLUGIN_OUTPUT_DIR})
  target_link_options(${P_NAME} PRIVATE -Wl,--no-undefined -Wl,--exclude-libs,ALL)
  install(TARGETS ${P_NAME} LIBRARY DESTINATION ${MQ_INSTALL_PLUGINDIR})
endfunction()

# mq_add_test(NAME x SOURCES a.cc LIBS ... [LABELS one-label] [TIMEOUT s])
# A GoogleTest executable; each TEST becomes a CTest entry.
function(mq_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main mq_warnings)
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_LABELS)
    set(T_LABELS unit)  # an empty value would shift the PROPERTIES pairs below
  endif()
  # gtest_discover_tests (CMake 3.25, PRE_TEST) flattens a list value into the PROPERTIES
  # pairs, which silently drops MQ_BUILD_DIR: allow exactly one label.
  list(LENGTH T_LABELS label_count)
  if(label_count GREATER 1)
    message(FATAL_ERROR "mq_add_test(${T_NAME}): LABELS '${T_LABELS}' has ${label_count} labels; give exactly one")
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST
    PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
    ENVIRONMENT "MQ_BUILD_DIR=${CMAKE_BINARY_DIR}")
endfunction()
