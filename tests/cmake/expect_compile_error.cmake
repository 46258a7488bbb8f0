# Compiles SOURCE and passes only if compilation fails with EXPECTED in its diagnostics.
execute_process(
    COMMAND "${COMPILER}" -std=c++17 -fsyntax-only -DASIO_STANDALONE "-I${INCLUDE_DIR}" "${SOURCE}"
    RESULT_VARIABLE result
    ERROR_VARIABLE diagnostics)
if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it should not have")
endif()
string(FIND "${diagnostics}" "${EXPECTED}" position)
if(position EQUAL -1)
    message(FATAL_ERROR "expected '${EXPECTED}' in the diagnostics:\n${diagnostics}")
endif()
