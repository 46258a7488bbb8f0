# Builds and runs tests/consumption as a host project would: MODE is find_package (against a
# fresh install of BUILD_DIR) or add_subdirectory (against SOURCE_DIR); STANDARD is 17 or 20.
file(REMOVE_RECURSE "${WORK_DIR}")
set(host_args -DCMAKE_CXX_STANDARD=${STANDARD} -DCMAKE_CXX_STANDARD_REQUIRED=ON -DSWITCHBOARD_MODE=${MODE})
if(MODE STREQUAL "find_package")
    execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
        COMMAND_ERROR_IS_FATAL ANY OUTPUT_QUIET)
    list(APPEND host_args "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
else()
    list(APPEND host_args "-DSWITCHBOARD_SOURCE_DIR=${SOURCE_DIR}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/consumption" -B "${WORK_DIR}/build" ${host_args}
    COMMAND_ERROR_IS_FATAL ANY)
# The host's own program, as a host builds it: with add_subdirectory, what it links of Switchboard and no more (not the
# Redis client, which `all` would build too).
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/build" --target host COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${WORK_DIR}/build/host" COMMAND_ERROR_IS_FATAL ANY)
