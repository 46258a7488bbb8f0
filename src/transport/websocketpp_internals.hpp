// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Storage a websocketpp 0.8 connection keeps for its whole life, though it needs it for a moment
// only, and the transport's way to give it back. websocketpp keeps it in private members without
// accessors. C++ names a private member without an access check in one place only, an explicit
// instantiation ([temp.explicit]/12): `Expose` is instantiated there with the member pointer
// (SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS, once per connection type) and hands it to a friend
// function that argument-dependent lookup finds by the member's tag.

#include <string>

#include <websocketpp/version.hpp>

namespace switchboard::websocketpp_internals {

static_assert(websocketpp::major_version == 0 && websocketpp::minor_version == 8,
              "check that the members named here still exist and are used only as described");

template <class Tag, typename Tag::Member member>
struct Expose {
    friend typename Tag::Member pointer_to(Tag) { return member; }
};

// Each tag declares, for its connection type, the plain function its `Expose` defines: what
// GCC's -Wnon-template-friend asks to confirm.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-template-friend"
#endif
/// The opening handshake's response (a server's), kept once written. websocketpp's own comment:
/// "this value is not used after the handshake".
template <class Connection>
struct HandshakeBuffer {
    using Member = std::string Connection::*;
    friend Member pointer_to(HandshakeBuffer);
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Names the members above for one connection type, at namespace scope.
#define SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(Connection)                                                  \
    template struct ::switchboard::websocketpp_internals::Expose<                                            \
        ::switchboard::websocketpp_internals::HandshakeBuffer<Connection>, &Connection::m_handshake_buffer>;

template <class Tag, class Connection>
auto& member_of(Connection& connection) {
    return connection.*pointer_to(Tag{});
}

/// Once the connection is open, its handshake's response written: ~130 bytes, and as many as the
/// allocator adds.
template <class Connection>
void release_handshake_buffer(Connection& connection) {
    std::string().swap(member_of<HandshakeBuffer<Connection>>(connection));
}

} // namespace switchboard::websocketpp_internals
