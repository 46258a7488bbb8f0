// A host program: registers a connection on a mock transport and delivers one event to it.
#include <cstdio>

#include <switchboard/switchboard.hpp>
#include <switchboard/transport/mock.hpp>

int main() {
    switchboard::MockTransport transport;
    switchboard::ConnectionManager<switchboard::MockTransport> manager(transport);
    const auto user = switchboard::UserId::random();
    const auto handle = transport.open();
    manager.register_connection(user, handle);
    const std::size_t reached = manager.send_to_user(user, switchboard::PostLiked{"post-1", user});
    const auto events = transport.events(handle);
    const bool ok = reached == 1 && events.size() == 2 && events.back().type() == "PostLiked";
    std::printf("host (C++%ld): %s\n", __cplusplus / 100 % 100, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
