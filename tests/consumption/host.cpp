// A host program, built as C++17 and as C++20 against the installed package or the source tree:
// delivers an event through a mock transport, then runs a real server (websocketpp transport,
// JWT authenticator) on a free loopback port and asks it for /healthz over plain HTTP.
#include <cstdio>
#include <string>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <switchboard/auth/jwt.hpp>
#include <switchboard/switchboard.hpp>
#include <switchboard/transport/mock.hpp>
#include <switchboard/transport/websocketpp.hpp>

namespace {

bool mock_delivery_works() {
    switchboard::MockTransport transport;
    switchboard::ConnectionManager<switchboard::MockTransport> manager(transport);
    const auto user = switchboard::UserId::random();
    const auto handle = transport.open();
    manager.register_connection(user, handle);
    const std::size_t reached = manager.send_to_user(user, switchboard::PostLiked{"post-1", user});
    const auto events = transport.events(handle);
    return reached == 1 && events.size() == 2 && events.back().type() == "PostLiked";
}

std::string http_get(std::uint16_t port, const std::string& path) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    std::string response;
    std::error_code end_of_stream;
    asio::read(socket, asio::dynamic_buffer(response), end_of_stream);
    return response;
}

bool server_answers() {
    switchboard::WebsocketppOptions options;
    options.port = 0;
    switchboard::WebsocketppTransport transport(options);
    switchboard::JwtOptions jwt;
    jwt.key = "consumption-test-secret";
    switchboard::ConnectionManager<switchboard::WebsocketppTransport, switchboard::JwtAuthenticator> manager(
        transport, switchboard::JwtAuthenticator(jwt));
    transport.set_http_handler([](const switchboard::HttpRequest&) {
        return switchboard::HttpResponse::json(200, R"({"status":"ok"})");
    });
    transport.start();
    const std::string response = http_get(transport.port(), "/healthz");
    transport.shutdown();
    return response.rfind("HTTP/1.1 200", 0) == 0 && response.find(R"({"status":"ok"})") != std::string::npos;
}

} // namespace

int main() {
    const bool ok = mock_delivery_works() && server_answers();
    std::printf("host (C++%ld): %s\n", __cplusplus / 100 % 100, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
