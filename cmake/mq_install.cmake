# `cmake --install <build> --prefix P`: what a plugin author or operator needs.
#   P/include/mq/**            the public plugin API (kernel/include/mq)
#   P/include/mq/testkit/**    the testkit headers; P/lib/libmq_plugin_testkit.a
#   P/bin/                     mqbroker, mqnamesrv, mqadmin
#   P/lib/mq/plugins/*.so      the bundled plugins (mq_add_plugin installs each one)
#   P/lib/cmake/mq/            find_package(mq CONFIG): mq::plugin_api, mq::plugin_testkit and
#                              mq_add_plugin() (cmake/mqPluginHelpers.cmake)
# The kernel library is not installed: plugins must not link kernel internals.
include(CMakePackageConfigHelpers)
set(MQ_INSTALL_CMAKEDIR lib/cmake/mq)

install(DIRECTORY ${CMAKE_SOURCE_DIR}/kernel/include/mq DESTINATION include FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/kernel/testkit/include/mq/testkit DESTINATION include/mq
        FILES_MATCHING PATTERN "*.h")
set(_mq_exported mq_plugin_api mq_warnings)
if(TARGET mq_plugin_testkit)  # not when MQ_PARTS leaves the kernel out
  list(APPEND _mq_exported mq_plugin_testkit)
endif()
install(TARGETS ${_mq_exported} EXPORT mqTargets ARCHIVE DESTINATION lib)
foreach(program IN ITEMS mqbroker mqnamesrv mqadmin)
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION bin)
  endif()
endforeach()
install(FILES ${CMAKE_SOURCE_DIR}/etc/broker.conf DESTINATION share/mq/etc)

install(EXPORT mqTargets NAMESPACE mq:: DESTINATION ${MQ_INSTALL_CMAKEDIR})
# What the package config checks and reports (a plugin must match the kernel's build).
file(STRINGS ${CMAKE_SOURCE_DIR}/kernel/include/mq/plugin.h _mq_vline REGEX "kPluginApiVersion = [0-9]+")
string(REGEX MATCH "kPluginApiVersion = ([0-9]+)" _ "${_mq_vline}")
set(MQ_PLUGIN_API_VERSION ${CMAKE_MATCH_1})
set(MQ_BOOST_VERSION ${Boost_VERSION_MAJOR}.${Boost_VERSION_MINOR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/mqConfig.cmake.in ${CMAKE_BINARY_DIR}/mqConfig.cmake
                              INSTALL_DESTINATION ${MQ_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/mqConfigVersion.cmake VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/mqConfig.cmake ${CMAKE_BINARY_DIR}/mqConfigVersion.cmake
              ${CMAKE_SOURCE_DIR}/cmake/mqPluginHelpers.cmake
        DESTINATION ${MQ_INSTALL_CMAKEDIR})
