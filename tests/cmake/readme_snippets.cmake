# Compiles every C++ code block of README (a fence opened with ```cpp, c++, cxx, cc, hpp or h) as a translation unit
# of its own, against the headers in INCLUDE_DIR as C++STANDARD, and fails if any does not compile or if there is
# none: a README whose snippets cannot be found must not pass as one whose snippets compile. Each block's file starts
# with a #line directive, so diagnostics name README's own lines. Blocks go to WORK_DIR.
#
# Blocks are found by string search, not CMake lists, which would split C++ at its semicolons.
cmake_minimum_required(VERSION 3.25) # while(TRUE), and no policy warnings
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(READ "${README}" text)
set(text "\n${text}") # so that a fence on the first line also follows a newline

set(searched 0)
set(compiled 0)
set(failures "")
while(TRUE)
    string(SUBSTRING "${text}" ${searched} -1 rest)
    string(FIND "${rest}" "\n```" open)
    if(open EQUAL -1)
        break()
    endif()
    math(EXPR open "${searched} + ${open} + 1")
    string(SUBSTRING "${text}" ${open} -1 from_fence)
    string(FIND "${from_fence}" "\n" info_end)
    string(FIND "${from_fence}" "\n```" close)
    if(info_end EQUAL -1 OR close EQUAL -1)
        message(FATAL_ERROR "${README}: a code block is not closed")
    endif()
    math(EXPR info_length "${info_end} - 3")
    string(SUBSTRING "${from_fence}" 3 ${info_length} info)
    math(EXPR body_length "${close} - ${info_end}")
    string(SUBSTRING "${from_fence}" ${info_end} ${body_length} body) # from the newline ending the fence line
    # On to the newline that ends the closing fence's line.
    math(EXPR closing_fence "${close} + 1")
    string(SUBSTRING "${from_fence}" ${closing_fence} -1 from_close)
    string(FIND "${from_close}" "\n" close_end)
    if(close_end EQUAL -1)
        string(LENGTH "${text}" searched)
    else()
        math(EXPR searched "${open} + ${closing_fence} + ${close_end}")
    endif()

    string(REGEX MATCH "^[^ \t{]+" language "${info}")
    string(TOLOWER "${language}" language)
    if(NOT language MATCHES "^(cpp|c\\+\\+|cxx|cc|hpp|h)$")
        continue()
    endif()
    string(SUBSTRING "${text}" 0 ${open} before)
    string(REGEX MATCHALL "\n" newlines "${before}")
    list(LENGTH newlines fence_line) # `text` starts with an extra newline: this is the fence's line in README
    math(EXPR first_line "${fence_line} + 1")
    set(source "${WORK_DIR}/readme_line_${fence_line}.cpp")
    file(WRITE "${source}" "#line ${first_line} \"${README}\"${body}")
    execute_process(
        COMMAND "${COMPILER}" -std=c++${STANDARD} -fsyntax-only -DASIO_STANDALONE "-I${INCLUDE_DIR}" "${source}"
        RESULT_VARIABLE result
        ERROR_VARIABLE diagnostics)
    math(EXPR compiled "${compiled} + 1")
    if(NOT result EQUAL 0)
        string(APPEND failures "\n--- the block at ${README}:${fence_line} does not compile:\n${diagnostics}")
    endif()
endwhile()

if(compiled EQUAL 0)
    message(FATAL_ERROR "no C++ code block found in ${README}")
endif()
if(failures)
    message(FATAL_ERROR "${failures}")
endif()
message(STATUS "all ${compiled} C++ code blocks of ${README} compile")
