// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
// The endpoints, plain (ws://) and TLS (wss://), each in both threading models: the one
// translation unit of the transport that compiles websocketpp's connections (split in two, one
// per socket type, the headers both parse made the pair cost 30% more CPU than one).
#include "endpoint.hpp"

#include <stdexcept>

namespace switchboard::websocketpp_transport {

std::shared_ptr<asio::ssl::context> make_tls_context(const TlsOptions& tls) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    std::error_code error;
    context->use_certificate_chain_file(tls.certificate_chain_file, error);
    if (!error) context->use_private_key_file(tls.private_key_file, asio::ssl::context::pem, error);
    if (error) throw std::runtime_error("cannot load TLS certificate or key: " + error.message());
    return context;
}

namespace {

template <template <bool> class ConfigOf>
std::unique_ptr<WebsocketppTransport::Impl> make(asio::io_context* io, WebsocketppOptions options, bool multithreaded) {
    if (multithreaded) return std::make_unique<Endpoint<ConfigOf<true>>>(io, std::move(options));
    return std::make_unique<Endpoint<ConfigOf<false>>>(io, std::move(options));
}

} // namespace

/// Single-threaded only on one I/O thread of the transport's own: a host's io_context may have more.
std::unique_ptr<WebsocketppTransport::Impl> make_endpoint(asio::io_context* io, WebsocketppOptions options) {
    const bool multithreaded = io != nullptr || options.threads > 1;
    if (options.tls) return make<TlsConfig>(io, std::move(options), multithreaded);
    return make<PlainConfig>(io, std::move(options), multithreaded);
}

} // namespace switchboard::websocketpp_transport

SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(switchboard::websocketpp_transport::PlainConfig<false>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_PROCESSOR(switchboard::websocketpp_transport::PlainConfig<false>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(switchboard::websocketpp_transport::PlainConfig<true>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_PROCESSOR(switchboard::websocketpp_transport::PlainConfig<true>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(switchboard::websocketpp_transport::TlsConfig<false>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_PROCESSOR(switchboard::websocketpp_transport::TlsConfig<false>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(switchboard::websocketpp_transport::TlsConfig<true>)
SWITCHBOARD_EXPOSE_WEBSOCKETPP_PROCESSOR(switchboard::websocketpp_transport::TlsConfig<true>)
