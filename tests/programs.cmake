# The Catch test programs (tests/CMakeLists.txt includes this file when SWITCHBOARD_TEST_PROGRAMS is on). `make test`
# builds and runs them in the sanitizer trees only: each program under AddressSanitizer + UBSan, the concurrency,
# integration and Redis ones under ThreadSanitizer too.
find_package(Catch2 2 REQUIRED)
include(Catch)

# Catch's implementation, compiled once for all the test programs, and its runner for those without options of their
# own (the integration tests have theirs).
add_library(switchboard_catch_session STATIC support/catch_session.cpp)
target_link_libraries(switchboard_catch_session PUBLIC Catch2::Catch2)
add_library(switchboard_catch_main OBJECT unit/main.cpp)
target_link_libraries(switchboard_catch_main PUBLIC switchboard_catch_session)

# Child processes and redis-servers for the tests that start them (the Redis tests, and the integration tests' cluster
# of social_server processes, which the example needs Redis for), compiled once for both programs.
if(SWITCHBOARD_REDIS)
    find_program(REDIS_SERVER redis-server REQUIRED)
    add_library(switchboard_test_processes OBJECT EXCLUDE_FROM_ALL integration/child_process.cpp redis/redis_server.cpp)
    target_compile_options(switchboard_test_processes PRIVATE -Wall -Wextra -Wpedantic -Werror)
    target_compile_definitions(switchboard_test_processes PRIVATE "REDIS_SERVER_PATH=\"${REDIS_SERVER}\"")
endif()

# switchboard_unity_groups(<target> <group>...): each group, a list of the target's sources separated by white space,
# compiles as one translation unit (a unity build, CMake's mode GROUP). A test program's sources instantiate the same
# templates (the manager over MockTransport, Asio, Catch's assertions), which a group compiles once: five of the unit
# tests' manager sources took 114 s of CPU one by one at -O2, and 33 s as one. A source in no group compiles alone: it
# defines a file-scope name (a fixture, a `using namespace`) that clashes with another's. -DCMAKE_UNITY_BUILD=OFF
# compiles every source alone.
function(switchboard_unity_groups target)
    if(DEFINED CACHE{CMAKE_UNITY_BUILD} AND NOT CMAKE_UNITY_BUILD)
        return()
    endif()
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE GROUP)
    set(index 0)
    foreach(group IN LISTS ARGN)
        string(STRIP "${group}" group)
        string(REGEX REPLACE "[ \n]+" ";" group "${group}")
        set_source_files_properties(${group} PROPERTIES UNITY_GROUP "${target}_${index}")
        math(EXPR index "${index} + 1")
    endforeach()
endfunction()

# Unit tests, one file per public header, against MockTransport.
add_executable(switchboard_unit_tests
    unit/test_user_id.cpp
    unit/test_event.cpp
    unit/test_events.cpp
    unit/test_auth.cpp
    unit/test_transport.cpp
    unit/test_mock_transport.cpp
    unit/test_connection_manager.cpp
    unit/test_manager_policies.cpp
    unit/test_history.cpp
    unit/test_memory_history.cpp
    unit/test_manager_history.cpp
    unit/test_manager_sequence.cpp
    unit/test_stream_sequencer.cpp
    unit/test_manager_history_failures.cpp
    unit/test_manager_async_history.cpp
    unit/test_presence_modes.cpp
    unit/test_limits.cpp
    unit/test_histogram.cpp
    unit/test_prometheus.cpp
    unit/test_dispatch_queue.cpp
    unit/test_heap_trim.cpp
    unit/test_ping.cpp
    unit/test_metrics_render.cpp
    unit/test_shard_ring.cpp)
target_link_libraries(switchboard_unit_tests PRIVATE switchboard::switchboard switchboard_catch_main)
target_compile_options(switchboard_unit_tests PRIVATE -Wall -Wextra -Wpedantic -Werror)
switchboard_unity_groups(switchboard_unit_tests
    "unit/test_user_id.cpp unit/test_event.cpp unit/test_events.cpp unit/test_auth.cpp unit/test_transport.cpp
     unit/test_mock_transport.cpp unit/test_connection_manager.cpp unit/test_history.cpp"
    "unit/test_manager_policies.cpp unit/test_manager_history.cpp unit/test_manager_sequence.cpp
     unit/test_manager_history_failures.cpp unit/test_presence_modes.cpp unit/test_limits.cpp unit/test_histogram.cpp
     unit/test_prometheus.cpp unit/test_manager_async_history.cpp"
    "unit/test_memory_history.cpp unit/test_dispatch_queue.cpp unit/test_heap_trim.cpp unit/test_ping.cpp"
    "unit/test_stream_sequencer.cpp unit/test_shard_ring.cpp unit/test_metrics_render.cpp")
catch_discover_tests(switchboard_unit_tests TEST_PREFIX "unit: " PROPERTIES LABELS unit)

# Concurrency: run under ThreadSanitizer too (label "concurrency").
add_executable(switchboard_stress_tests
    concurrency/test_stress.cpp concurrency/test_serial_queue.cpp concurrency/test_admission.cpp
    concurrency/test_history_seam.cpp)
target_link_libraries(switchboard_stress_tests PRIVATE switchboard::switchboard switchboard_catch_main)
target_compile_options(switchboard_stress_tests PRIVATE -Wall -Wextra -Wpedantic -Werror)
switchboard_unity_groups(switchboard_stress_tests
    "concurrency/test_stress.cpp concurrency/test_serial_queue.cpp concurrency/test_history_seam.cpp
     concurrency/test_admission.cpp")
catch_discover_tests(switchboard_stress_tests TEST_PREFIX "concurrency: " PROPERTIES LABELS concurrency)

# The Prometheus text writer's output, judged by Prometheus' own checker (Debian's `prometheus`).
find_program(PROMTOOL promtool REQUIRED)
find_program(PROMETHEUS prometheus REQUIRED)
add_executable(switchboard_prometheus_sample metrics/prometheus_sample.cpp)
target_link_libraries(switchboard_prometheus_sample PRIVATE switchboard::switchboard)
target_compile_options(switchboard_prometheus_sample PRIVATE -Wall -Wextra -Wpedantic -Werror)
add_test(NAME "unit: promtool check metrics accepts PrometheusText's output"
    COMMAND bash -c "set -o pipefail; \"$1\" | \"$2\" check metrics" bash
        $<TARGET_FILE:switchboard_prometheus_sample> ${PROMTOOL})
set_tests_properties("unit: promtool check metrics accepts PrometheusText's output" PROPERTIES LABELS unit)

# The JWT authenticator (compiled, opt-in). The tests make RS256/ES256 keys with OpenSSL and sign with cpp-jwt
# themselves, apart from the library's own signing code.
if(SWITCHBOARD_JWT)
    find_package(OpenSSL REQUIRED)
    find_package(cpp-jwt REQUIRED)
    add_executable(switchboard_jwt_tests unit/test_jwt.cpp unit/test_jwt_claims.cpp)
    target_link_libraries(switchboard_jwt_tests
        PRIVATE switchboard::jwt switchboard_catch_main cpp-jwt::cpp-jwt OpenSSL::Crypto)
    target_compile_options(switchboard_jwt_tests PRIVATE -Wall -Wextra -Wpedantic -Werror)
    switchboard_unity_groups(switchboard_jwt_tests "unit/test_jwt.cpp unit/test_jwt_claims.cpp")
    # The suffix repeats the Catch tag so that `ctest -R jwt` finds them all.
    catch_discover_tests(switchboard_jwt_tests TEST_PREFIX "unit: " TEST_SUFFIX " [jwt]" PROPERTIES LABELS unit)
endif()

# Integration: the example server, in-process and as its program, driven over loopback by real WebSocket clients
# (websocketpp's, plain and TLS) and a small HTTP client. Label "integration": also run under ThreadSanitizer.
if(SWITCHBOARD_WEBSOCKETPP AND SWITCHBOARD_JWT AND TARGET social_app)
    find_package(websocketpp REQUIRED)
    find_package(OpenSSL REQUIRED)
    # The one test source that includes websocketpp, kept apart: websocketpp 0.8.2 must be built as C++17,
    # while linking social_app makes the test sources C++20.
    add_library(switchboard_integration_client OBJECT integration/client.cpp)
    set_target_properties(switchboard_integration_client PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
    target_compile_definitions(switchboard_integration_client PRIVATE _WEBSOCKETPP_CPP11_STL_)
    target_link_libraries(switchboard_integration_client PRIVATE websocketpp::websocketpp Asio::Asio OpenSSL::SSL)
    target_compile_options(switchboard_integration_client PRIVATE -Wall -Wextra)

    add_executable(switchboard_integration_tests
        integration/main.cpp
        integration/harness.cpp
        integration/http_client.cpp
        integration/tls_certificate.cpp
        integration/raw_socket.cpp
        integration/resources.cpp
        integration/test_auth.cpp
        integration/test_presence.cpp
        integration/test_messages.cpp
        integration/test_http_api.cpp
        integration/test_transport.cpp
        integration/test_batching.cpp
        integration/test_social_server.cpp
        integration/cluster.cpp
        integration/test_cluster.cpp
        integration/test_cluster_faults.cpp
        integration/test_hostile_tokens.cpp
        integration/test_hostile_input.cpp
        integration/test_limits.cpp
        integration/test_slow_consumer.cpp
        integration/test_churn.cpp
        integration/test_faults.cpp
        integration/test_history.cpp
        integration/test_memory.cpp
        integration/test_demo.cpp
        integration/test_metrics.cpp
        integration/test_compression.cpp
        integration/test_compression_transport.cpp)
    # switchboard_deflate: the tests deflate what a client sends and inflate what it receives.
    target_link_libraries(switchboard_integration_tests PRIVATE
        switchboard_integration_client switchboard_test_processes social_app switchboard_deflate websocketpp::websocketpp
        OpenSSL::SSL switchboard_catch_session)
    target_compile_options(switchboard_integration_tests PRIVATE -Wall -Wextra -Wpedantic -Werror)
    switchboard_unity_groups(switchboard_integration_tests
        "integration/harness.cpp integration/http_client.cpp integration/tls_certificate.cpp integration/raw_socket.cpp
         integration/resources.cpp integration/test_auth.cpp"
        "integration/test_presence.cpp integration/test_messages.cpp integration/test_http_api.cpp
         integration/test_transport.cpp integration/test_batching.cpp integration/test_social_server.cpp
         integration/cluster.cpp integration/test_cluster.cpp"
        "integration/test_cluster_faults.cpp integration/test_hostile_tokens.cpp integration/test_hostile_input.cpp
         integration/test_limits.cpp integration/test_slow_consumer.cpp integration/test_churn.cpp
         integration/test_faults.cpp integration/test_history.cpp"
        "integration/test_demo.cpp integration/test_metrics.cpp integration/test_compression.cpp
         integration/test_compression_transport.cpp")
    target_compile_definitions(switchboard_integration_tests PRIVATE
        "SOCIAL_SERVER_PATH=\"$<TARGET_FILE:social_server>\""
        "SWITCHBOARD_README_PATH=\"${PROJECT_SOURCE_DIR}/README.md\""
        "SOCIAL_WEB_DIR=\"${PROJECT_SOURCE_DIR}/examples/social_server/web\""
        "SWITCHBOARD_CLIENT_JS_PATH=\"${PROJECT_SOURCE_DIR}/clients/javascript/switchboard-client.js\""
        "PROMTOOL_PATH=\"${PROMTOOL}\"" "PROMETHEUS_PATH=\"${PROMETHEUS}\"")
    add_dependencies(switchboard_integration_tests social_server)
    # Twice: in-process servers on two I/O threads (websocketpp's multi-threaded configuration) and on one
    # (its single-threaded one, the default).
    catch_discover_tests(switchboard_integration_tests TEST_SPEC "~[prometheus]" TEST_PREFIX "integration: "
        PROPERTIES LABELS integration TIMEOUT 120)
    catch_discover_tests(switchboard_integration_tests TEST_SPEC "~[prometheus]" TEST_PREFIX "integration, 1 I/O thread: "
        EXTRA_ARGS --io-threads 1 PROPERTIES LABELS integration TIMEOUT 120)


    # The example program judged by Prometheus' own tools (Debian's `prometheus`): promtool on its /metrics, and a
    # Prometheus server scraping it. Label "prometheus", not "integration": ThreadSanitizer's run leaves them out.
    catch_discover_tests(switchboard_integration_tests TEST_SPEC "[prometheus]" TEST_PREFIX "prometheus: "
        PROPERTIES LABELS prometheus TIMEOUT 120)
endif()

# The Redis client (compiled, opt-in) against a real redis-server that each test starts on a free loopback port and
# stops. Label "redis".
if(SWITCHBOARD_REDIS)
    add_executable(switchboard_redis_tests
        redis/test_backplane.cpp
        redis/test_backplane_faults.cpp
        redis/test_commands.cpp
        redis/test_faults.cpp
        redis/test_history.cpp
        redis/test_history_async.cpp
        redis/test_history_async_faults.cpp
        redis/test_history_outage.cpp
        redis/test_history_outage_async.cpp
        redis/test_presence.cpp
        redis/test_shard_presence.cpp
        redis/test_shards.cpp
        redis/test_stream_offsets.cpp)
    target_link_libraries(switchboard_redis_tests
        PRIVATE switchboard::redis switchboard_test_processes switchboard_catch_main)
    target_compile_options(switchboard_redis_tests PRIVATE -Wall -Wextra -Wpedantic -Werror)
    switchboard_unity_groups(switchboard_redis_tests
        "redis/test_backplane.cpp redis/test_backplane_faults.cpp redis/test_commands.cpp redis/test_faults.cpp
         redis/test_history.cpp redis/test_stream_offsets.cpp"
        "redis/test_history_outage.cpp redis/test_shards.cpp redis/test_shard_presence.cpp"
        "redis/test_history_async.cpp redis/test_history_async_faults.cpp redis/test_history_outage_async.cpp")
    catch_discover_tests(switchboard_redis_tests TEST_PREFIX "redis: " PROPERTIES LABELS redis TIMEOUT 60)
endif()

# permessage-deflate (RFC 7692): negotiation, the per-thread deflate and inflate streams, and the websocketpp
# extension type driven through a websocketpp server over its iostream transport (no socket). Its own program:
# it includes websocketpp, and one file replaces the global operator new to count allocations.
if(SWITCHBOARD_WEBSOCKETPP)
    if(NOT TARGET websocketpp::websocketpp) # found already for the integration tests when they are built
        find_package(websocketpp REQUIRED)
    endif()
    add_executable(switchboard_deflate_tests
        unit/test_deflate_negotiation.cpp
        unit/test_deflate.cpp
        unit/test_deflate_allocations.cpp
        unit/test_deflate_extension.cpp)
    set_target_properties(switchboard_deflate_tests PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
    target_compile_definitions(switchboard_deflate_tests PRIVATE _WEBSOCKETPP_CPP11_STL_)
    target_link_libraries(switchboard_deflate_tests PRIVATE switchboard_deflate websocketpp::websocketpp switchboard_catch_main)
    target_compile_options(switchboard_deflate_tests PRIVATE -Wall -Wextra -Wpedantic -Werror)
    switchboard_unity_groups(switchboard_deflate_tests
        "unit/test_deflate_negotiation.cpp unit/test_deflate.cpp unit/test_deflate_allocations.cpp
         unit/test_deflate_extension.cpp")
    # The suffix repeats the Catch tag so that `ctest -R deflate` finds them all.
    catch_discover_tests(switchboard_deflate_tests TEST_PREFIX "unit: " TEST_SUFFIX " [deflate]" PROPERTIES LABELS unit)
endif()
