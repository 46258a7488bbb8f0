# Finds standalone Asio (Debian: libasio-dev), which ships no CMake or pkg-config file.
# Defines Asio::Asio: the include directory, ASIO_STANDALONE and the threads library.
include(FindPackageHandleStandardArgs)
find_path(Asio_INCLUDE_DIR NAMES asio.hpp)
if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
    file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" version_line REGEX "^#define ASIO_VERSION [0-9]+")
    string(REGEX REPLACE "^#define ASIO_VERSION ([0-9]+).*" "\\1" version_number "${version_line}")
    math(EXPR major "${version_number} / 100000")
    math(EXPR minor "${version_number} / 100 % 1000")
    math(EXPR patch "${version_number} % 100")
    set(Asio_VERSION "${major}.${minor}.${patch}")
endif()
find_package_handle_standard_args(Asio REQUIRED_VARS Asio_INCLUDE_DIR VERSION_VAR Asio_VERSION)

if(Asio_FOUND AND NOT TARGET Asio::Asio)
    find_package(Threads REQUIRED)
    add_library(Asio::Asio INTERFACE IMPORTED)
    set_target_properties(Asio::Asio PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}"
        INTERFACE_COMPILE_DEFINITIONS ASIO_STANDALONE
        INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(Asio_INCLUDE_DIR)
