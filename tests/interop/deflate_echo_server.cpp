// A websocketpp echo server with Switchboard's permessage-deflate, negotiated the way the transport
// will (websocketpp's own negotiation off, negotiate_deflate() on the raw header in the validate
// handler), so that real clients (run.sh: Python websockets, Node ws, Chromium) check the
// components before the transport uses them. Echoes each message with its opcode; compressed text
// that is not UTF-8 closes with 1007. Loopback only: deflate_echo_server PORT [MAX_MESSAGE_SIZE]
#include <cstdio>
#include <cstdlib>
#include <string>

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "transport/websocketpp/deflate_access.hpp"
#include "transport/websocketpp/deflate_extension.hpp"

namespace {

struct EchoConfig : websocketpp::config::asio {
    using type = EchoConfig;
    static const bool enable_extensions = false;
    using permessage_deflate_type = switchboard::detail::DeflateExtension<EchoConfig>;
};
using Server = websocketpp::server<EchoConfig>;

} // namespace

SWITCHBOARD_EXPOSE_WEBSOCKETPP_PROCESSOR(EchoConfig)

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PORT [MAX_MESSAGE_SIZE]\n", argv[0]);
        return 2;
    }
    const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
    const std::size_t max_message_size = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1 << 20;

    Server server;
    server.clear_access_channels(websocketpp::log::alevel::all);
    server.clear_error_channels(websocketpp::log::elevel::all);
    server.init_asio();
    server.set_reuse_addr(true);
    server.set_max_message_size(max_message_size);
    server.set_validate_handler([&](websocketpp::connection_hdl handle) {
        Server::connection_ptr connection = server.get_con_from_hdl(handle);
        const std::string offer = connection->get_request_header("Sec-WebSocket-Extensions");
        if (auto agreement = switchboard::detail::negotiate_deflate(offer)) {
            switchboard::websocketpp_internals::deflate_extension_of(*connection)->enable(*agreement, max_message_size);
            connection->replace_header("Sec-WebSocket-Extensions", switchboard::detail::deflate_response(*agreement));
        }
        const std::string answer = connection->get_response_header("Sec-WebSocket-Extensions");
        std::printf("offer [%s] answer [%s]\n", offer.c_str(), answer.c_str());
        std::fflush(stdout);
        return true;
    });
    server.set_message_handler([&](websocketpp::connection_hdl handle, Server::message_ptr message) {
        websocketpp::lib::error_code ignored;
        if (switchboard::detail::is_invalid_compressed_text(message)) {
            server.close(handle, websocketpp::close::status::invalid_payload, "invalid UTF-8", ignored);
            return;
        }
        server.send(handle, message->get_payload(), message->get_opcode(), ignored);
    });
    server.listen(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    server.start_accept();
    std::printf("listening on 127.0.0.1:%u\n", port);
    std::fflush(stdout);
    server.run();
}
