// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The transport's way to a connection's permessage-deflate extension, which websocketpp 0.8.2 keeps
// inside the connection's processor with no accessor (connection::m_processor is private,
// hybi13::m_permessage_deflate protected): so that the validate handler can enable() it with the
// agreement the transport negotiated itself (deflate_extension.hpp). Private members are named as
// websocketpp_internals.hpp does; SWITCHBOARD_EXPOSE_WEBSOCKETPP_PROCESSOR(Config) instantiates the
// access once per connection type, at namespace scope.
//
// Threads: on the connection's serialization (the validate handler runs there).

#include <memory>

#include <websocketpp/connection.hpp>
#include <websocketpp/processors/hybi13.hpp>

#include "websocketpp_internals.hpp"

namespace switchboard::websocketpp_internals {

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-template-friend"
#endif
/// The connection's protocol processor, made for the upgrade's WebSocket version.
template <class Config>
struct Processor {
    using Member = std::shared_ptr<websocketpp::processor::processor<Config>> websocketpp::connection<Config>::*;
    friend Member pointer_to(Processor);
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#define SWITCHBOARD_EXPOSE_WEBSOCKETPP_PROCESSOR(Config)                                                           \
    template struct ::switchboard::websocketpp_internals::Expose<                                                   \
        ::switchboard::websocketpp_internals::Processor<Config>, &websocketpp::connection<Config>::m_processor>;

/// The connection's permessage-deflate extension (its config's `permessage_deflate_type`), or nullptr
/// before the upgrade is read or for a version older than hybi07 (whose processors are hybi13's).
template <class Config>
typename Config::permessage_deflate_type* deflate_extension_of(websocketpp::connection<Config>& connection)
{
    using Hybi13 = websocketpp::processor::hybi13<Config>;
    struct Access : Hybi13 {
        using Hybi13::m_permessage_deflate;
    };
    auto const& processor = connection.*pointer_to(Processor<Config>{});
    if (!processor || processor->get_version() < 7) return nullptr;
    return &(static_cast<Hybi13&>(*processor).*(&Access::m_permessage_deflate));
}

} // namespace switchboard::websocketpp_internals
