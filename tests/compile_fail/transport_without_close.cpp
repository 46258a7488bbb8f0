// Must not compile: the policy has no close(). tests/cmake/expect_compile_error.cmake checks the message.
#include <switchboard/connection_manager.hpp>

struct TransportWithoutClose {
    using handle_type = int;
    bool send(const handle_type&, const switchboard::Frame&) { return true; }
    bool is_open(const handle_type&) const { return true; }
    std::size_t queued_bytes(const handle_type&) const { return 0; }
};

int main() {
    TransportWithoutClose transport;
    switchboard::ConnectionManager<TransportWithoutClose> manager(transport);
}
