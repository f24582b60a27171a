# Runs the plugin API lock check (cmake/plugin_api_lock.cmake) in every default build: a
# header under kernel/include/mq/ that changed without a kPluginApiVersion bump fails the
# build with what to do (bump the version, run scripts/update-plugin-api-lock).
file(GLOB_RECURSE MQ_PUBLIC_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/kernel/include/mq/*)
set(MQ_API_LOCK_STAMP ${CMAKE_BINARY_DIR}/plugin_api_lock.stamp)
add_custom_command(
  OUTPUT ${MQ_API_LOCK_STAMP}
  COMMAND ${CMAKE_COMMAND} -DMODE=check -DSTAMP=${MQ_API_LOCK_STAMP} -P ${CMAKE_SOURCE_DIR}/cmake/plugin_api_lock.cmake
  DEPENDS ${MQ_PUBLIC_HEADERS} ${CMAKE_SOURCE_DIR}/cmake/plugin_api.lock ${CMAKE_SOURCE_DIR}/cmake/plugin_api_lock.cmake
  COMMENT "Checking the plugin API lock (cmake/plugin_api.lock)"
  VERBATIM)
add_custom_target(mq_plugin_api_lock ALL DEPENDS ${MQ_API_LOCK_STAMP})
