# The plugin API lock: fails the build when a public plugin header (kernel/include/mq/**)
# changed without a kPluginApiVersion bump. Run as a script (cmake -P):
#   check (the default build runs it):  cmake -DMODE=check  [-DSTAMP=file] -P cmake/plugin_api_lock.cmake
#   update (scripts/update-plugin-api-lock): cmake -DMODE=update [-DFORCE=ON] -P cmake/plugin_api_lock.cmake
# Optional: -DHEADER_DIR=<dir> (default kernel/include/mq), -DLOCK_FILE=<file> (default
# cmake/plugin_api.lock), used by the lock's own test.
#
# The lock holds "version=<N> sha256=<hash>" (the version it was taken at and one hash over
# every header) followed by one "<sha256>  <path>" line per header, sorted by path. The hash
# is the SHA-256 of exactly those per-file lines, so `sha256sum` can reproduce it.
cmake_minimum_required(VERSION 3.25)

get_filename_component(_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT HEADER_DIR)
  set(HEADER_DIR "${_root}/kernel/include/mq")
endif()
if(NOT LOCK_FILE)
  set(LOCK_FILE "${_root}/cmake/plugin_api.lock")
endif()
if(NOT MODE)
  set(MODE check)
endif()
set(_fix "scripts/update-plugin-api-lock")

# ---- the current headers: manifest, hash and kPluginApiVersion ----
file(GLOB_RECURSE _files LIST_DIRECTORIES false RELATIVE "${HEADER_DIR}" "${HEADER_DIR}/*")
list(FILTER _files EXCLUDE REGEX "(^|/)\\.|~$")  # editor swap and backup files
list(SORT _files)
set(_manifest "")
foreach(f IN LISTS _files)
  file(SHA256 "${HEADER_DIR}/${f}" _h)
  string(APPEND _manifest "${_h}  ${f}\n")
endforeach()
string(SHA256 _hash "${_manifest}")

file(STRINGS "${HEADER_DIR}/plugin.h" _vline REGEX "kPluginApiVersion = [0-9]+")
if(NOT _vline MATCHES "kPluginApiVersion = ([0-9]+)")
  message(FATAL_ERROR "plugin API lock: no 'kPluginApiVersion = <N>;' in ${HEADER_DIR}/plugin.h")
endif()
set(_version "${CMAKE_MATCH_1}")
math(EXPR _next "${_version} + 1")

# ---- the recorded lock ----
set(_locked_version "")
set(_locked_hash "")
set(_locked_manifest "")
if(EXISTS "${LOCK_FILE}")
  file(STRINGS "${LOCK_FILE}" _lines)
  foreach(line IN LISTS _lines)
    if(line MATCHES "^version=([0-9]+) sha256=([0-9a-f]+)$")
      set(_locked_version "${CMAKE_MATCH_1}")
      set(_locked_hash "${CMAKE_MATCH_2}")
    elseif(line MATCHES "^[0-9a-f]+  .+$")
      string(APPEND _locked_manifest "${line}\n")
    endif()
  endforeach()
endif()

# Names the headers added, removed or changed since the lock, for the messages below.
function(_describe_changes out)
  set(old_lines "")
  set(new_lines "")
  string(REGEX REPLACE "\n$" "" m "${_locked_manifest}")
  string(REPLACE "\n" ";" old_lines "${m}")
  string(REGEX REPLACE "\n$" "" m "${_manifest}")
  string(REPLACE "\n" ";" new_lines "${m}")
  set(text "")
  foreach(line IN LISTS new_lines)
    string(REGEX REPLACE "^[0-9a-f]+  " "" path "${line}")
    if(NOT line IN_LIST old_lines)
      if(_locked_manifest MATCHES "  ${path}\n")
        string(APPEND text "  changed: ${path}\n")
      else()
        string(APPEND text "  added:   ${path}\n")
      endif()
    endif()
  endforeach()
  foreach(line IN LISTS old_lines)
    string(REGEX REPLACE "^[0-9a-f]+  " "" path "${line}")
    if(NOT _manifest MATCHES "  ${path}\n")
      string(APPEND text "  removed: ${path}\n")
    endif()
  endforeach()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "update")
  if(_locked_version STREQUAL _version AND NOT _locked_hash STREQUAL _hash AND NOT FORCE)
    _describe_changes(_changes)
    message(FATAL_ERROR
      "plugin API lock: the headers under ${HEADER_DIR} changed but kPluginApiVersion is still ${_version}, "
      "the version the lock was taken at:\n${_changes}"
      "Bump kPluginApiVersion in ${HEADER_DIR}/plugin.h to ${_next} first, then re-run ${_fix}.\n"
      "(Only for a change that cannot affect a built plugin, e.g. a comment: ${_fix} --force.)")
  endif()
  if(_locked_version AND _version LESS _locked_version)
    message(FATAL_ERROR "plugin API lock: kPluginApiVersion ${_version} is below the locked ${_locked_version}; "
                        "versions only go up")
  endif()
  file(WRITE "${LOCK_FILE}"
    "# Plugin API lock: written by ${_fix}, checked by every build (cmake/plugin_api_lock.cmake).\n"
    "# A header under kernel/include/mq/ changed => bump kPluginApiVersion, then re-run the script.\n"
    "version=${_version} sha256=${_hash}\n${_manifest}")
  message(STATUS "plugin API lock: recorded version=${_version} sha256=${_hash} in ${LOCK_FILE}")
  return()
endif()

if(NOT MODE STREQUAL "check")
  message(FATAL_ERROR "plugin API lock: MODE must be check or update, not '${MODE}'")
endif()
if(_locked_hash STREQUAL "")
  message(FATAL_ERROR "plugin API lock: ${LOCK_FILE} is missing or has no 'version=<N> sha256=<hash>' line; "
                      "run ${_fix} to record the current plugin API (version ${_version})")
endif()
if(NOT _locked_hash STREQUAL _hash)
  _describe_changes(_changes)
  if(_version STREQUAL _locked_version)
    message(FATAL_ERROR
      "plugin API lock: the public plugin headers changed without a plugin API version bump:\n${_changes}"
      "kPluginApiVersion is still ${_version}, the version ${LOCK_FILE} was taken at. A plugin built against "
      "the old headers would load and misbehave. To fix:\n"
      "  1. bump kPluginApiVersion in ${HEADER_DIR}/plugin.h to ${_next}\n"
      "  2. run ${_fix}\n"
      "  3. commit the header, plugin.h and cmake/plugin_api.lock together")
  endif()
  message(FATAL_ERROR
    "plugin API lock: kPluginApiVersion is ${_version} but ${LOCK_FILE} was taken at version ${_locked_version} "
    "with other headers:\n${_changes}"
    "Run ${_fix} to record the new plugin API, and commit cmake/plugin_api.lock with the headers")
endif()
if(NOT _locked_version STREQUAL _version)
  message(FATAL_ERROR "plugin API lock: ${LOCK_FILE} says version ${_locked_version} for these very headers, "
                      "which say ${_version}; the lock was edited by hand: run ${_fix}")
endif()
if(STAMP)
  file(WRITE "${STAMP}" "version=${_version} sha256=${_hash}\n")
endif()
