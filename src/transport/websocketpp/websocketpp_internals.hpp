// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Storage a websocketpp 0.8 connection keeps for its whole life, though it needs it for a moment
// only, and the transport's way to give it back. websocketpp keeps it in private members without
// accessors. C++ names a private member without an access check in one place only, an explicit
// instantiation ([temp.explicit]/12): `Expose` is instantiated there with the member pointer
// (SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS, once per connection type) and hands it to a friend
// function that argument-dependent lookup finds by the member's tag.

#include <cstddef>
#include <queue>
#include <string>
#include <vector>

#include <websocketpp/transport/asio/base.hpp>
#include <websocketpp/transport/base/connection.hpp>
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
/// What a write takes from the send queue: the messages, and their buffers (a header and a payload
/// each). Touched on the connection's strand only; cleared after each write, never shrunk.
template <class Connection>
struct CurrentMessages {
    using Member = std::vector<typename Connection::message_ptr> Connection::*;
    friend Member pointer_to(CurrentMessages);
};
template <class Connection>
struct SendBuffer {
    using Member = std::vector<websocketpp::transport::buffer> Connection::*;
    friend Member pointer_to(SendBuffer);
};
/// The messages sent and not yet taken by a write (a deque, whose map of nodes never shrinks), and
/// the lock every send holds while it touches them.
template <class Connection>
struct SendQueue {
    using Member = std::queue<typename Connection::message_ptr> Connection::*;
    friend Member pointer_to(SendQueue);
};
template <class Connection>
struct WriteLock {
    using Member = typename Connection::mutex_type Connection::*;
    friend Member pointer_to(WriteLock);
};
/// The asio transport's per-connection storage for the memory of a write operation (1 KiB).
template <class TransportConnection>
struct WriteHandlerAllocator {
    using Member = websocketpp::transport::asio::handler_allocator TransportConnection::*;
    friend Member pointer_to(WriteHandlerAllocator);
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Names the members above for the connections of one configuration, at namespace scope.
#define SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBERS(Config)                                                              \
    SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBER(HandshakeBuffer, websocketpp::connection<Config>, m_handshake_buffer)      \
    SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBER(CurrentMessages, websocketpp::connection<Config>, m_current_msgs)          \
    SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBER(SendBuffer, websocketpp::connection<Config>, m_send_buffer)                \
    SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBER(SendQueue, websocketpp::connection<Config>, m_send_queue)                  \
    SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBER(WriteLock, websocketpp::connection<Config>, m_write_lock)                  \
    SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBER(WriteHandlerAllocator,                                                      \
                                          websocketpp::transport::asio::connection<Config::transport_config>,        \
                                          m_write_handler_allocator)
#define SWITCHBOARD_EXPOSE_WEBSOCKETPP_MEMBER(Tag, Class, member)                                                    \
    template struct ::switchboard::websocketpp_internals::Expose<::switchboard::websocketpp_internals::Tag<Class>,   \
                                                                 &Class::member>;

template <class Tag, class Connection>
auto& member_of(Connection& connection) {
    return connection.*pointer_to(Tag{});
}

/// Asio's allocator for an operation's memory, in a connection's storage for one (websocketpp's
/// `handler_allocator`: 1 KiB, from the heap while it is taken).
template <class T>
class InConnectionStorage {
public:
    using value_type = T;

    explicit InConnectionStorage(websocketpp::transport::asio::handler_allocator& storage) : storage_(&storage) {}
    template <class U>
    InConnectionStorage(const InConnectionStorage<U>& other) : storage_(other.storage_) {}

    T* allocate(std::size_t count) { return static_cast<T*>(storage_->allocate(count * sizeof(T))); }
    void deallocate(T* pointer, std::size_t) { storage_->deallocate(pointer); }

    friend bool operator==(const InConnectionStorage& a, const InConnectionStorage& b) {
        return a.storage_ == b.storage_;
    }
    friend bool operator!=(const InConnectionStorage& a, const InConnectionStorage& b) { return !(a == b); }

private:
    template <class>
    friend class InConnectionStorage;
    websocketpp::transport::asio::handler_allocator* storage_;
};

/// Once the connection is open, its handshake's response written: ~130 bytes, and as many as the
/// allocator adds.
template <class Connection>
void release_handshake_buffer(Connection& connection) {
    std::string().swap(member_of<HandshakeBuffer<Connection>>(connection));
}

/// Whether the connection's writes hold storage for more than `kept` messages. A burst of small
/// messages to a slow reader (a presence storm) grows it to 48 bytes per message of the largest
/// write, for the connection's life: 11 KB per connection after a storm of 3,000 users.
/// On the connection's strand.
template <class Connection>
bool write_storage_grown(Connection& connection, std::size_t kept) {
    return member_of<CurrentMessages<Connection>>(connection).capacity() > kept;
}

/// Releases the storage of the connection's writes, unless one is in flight (its messages are then
/// in `m_current_msgs`). The send queue's goes too if it is empty and its map of nodes may have
/// grown: it held as many messages as a write took, and libstdc++'s first map (8 nodes of 32
/// messages) grows once half its nodes are in use. On the connection's strand.
template <class Connection>
void release_write_storage(Connection& connection) {
    using Messages = std::vector<typename Connection::message_ptr>;
    Messages& messages = member_of<CurrentMessages<Connection>>(connection);
    if (!messages.empty()) return;
    const bool queue_may_have_grown = messages.capacity() > 4 * 32;
    Messages().swap(messages);
    std::vector<websocketpp::transport::buffer>().swap(member_of<SendBuffer<Connection>>(connection));
    if (!queue_may_have_grown) return;
    const typename Connection::scoped_lock_type lock(member_of<WriteLock<Connection>>(connection));
    auto& queue = member_of<SendQueue<Connection>>(connection);
    if (queue.empty()) std::queue<typename Connection::message_ptr>().swap(queue);
}

} // namespace switchboard::websocketpp_internals
