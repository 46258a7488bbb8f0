// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// Internal to the websocketpp transport (endpoint.hpp): websocketpp's asio
// transport connection, with its dispatched work and its writes batched. websocketpp 0.8.2 and
// standalone Asio; C++17.

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/bind_allocator.hpp>
#include <websocketpp/transport/asio/endpoint.hpp>
#include <websocketpp/version.hpp>

#include <switchboard/detail/dispatch_queue.hpp>

#include "grown_write_storage.hpp"
#include "websocketpp_internals.hpp"

namespace switchboard::detail {

/// A write of more messages than this is part of a burst, counted for the endpoint's tick
/// (`GrownWriteStorage`). Every write's storage goes once it is done: kept for one message, it
/// cost each connection that was ever written to 80 bytes (`--presence coalesced`: 6,148 to 6,173
/// bytes a connection against 6,038 to 6,076 for scoped, at 1,000 and 3,000).
constexpr std::size_t burst_write_messages = 1;

/// The read-ahead of one connection running on this thread (see `BatchingConnection`): what it
/// may still read this turn, and the read websocketpp asked for from within the handler it runs,
/// kept here for its loop instead of starting a read of its own (which would recurse).
class ReadAhead {
public:
    struct Read {
        std::size_t at_least;
        char* buffer;
        std::size_t size;
        websocketpp::transport::read_handler handler;
    };

    /// A turn reads at most what websocketpp's default read buffer (16 KiB) takes in one read,
    /// before other connections' work runs.
    static constexpr std::size_t budget_per_turn = 16 * 1024;

    explicit ReadAhead(const void* connection) : connection_(connection) { current() = this; }
    ~ReadAhead() { current() = nullptr; }
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    static bool running() { return current() != nullptr; }
    /// The turn of `connection`, if it is the one running on this thread.
    static ReadAhead* of(const void* connection) {
        ReadAhead* turn = current();
        return turn && turn->connection_ == connection ? turn : nullptr;
    }

    std::size_t budget = budget_per_turn;
    std::optional<Read> next;

private:
    static ReadAhead*& current() {
        thread_local ReadAhead* turn = nullptr;
        return turn;
    }

    const void* connection_;
};

/// A sequence of asio buffers over websocketpp's, from `skip` bytes into the first. Multi-pass,
/// as asio needs (it walks the sequence again when a write is retried), though `*` yields a value.
class GatheredBuffers {
public:
    using Buffer = websocketpp::transport::buffer;

    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = asio::const_buffer;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = asio::const_buffer;

        iterator(const Buffer* at, std::size_t skip) : at_(at), skip_(skip) {}
        asio::const_buffer operator*() const { return {at_->buf + skip_, at_->len - skip_}; }
        iterator& operator++() {
            ++at_;
            skip_ = 0;
            return *this;
        }
        iterator operator++(int) {
            iterator before = *this;
            ++*this;
            return before;
        }
        bool operator==(const iterator& other) const { return at_ == other.at_; }
        bool operator!=(const iterator& other) const { return at_ != other.at_; }

    private:
        const Buffer* at_;
        std::size_t skip_;
    };

    GatheredBuffers(const std::vector<Buffer>& buffers, std::size_t first, std::size_t skip)
        : first_(buffers.data() + first), last_(buffers.data() + buffers.size()), skip_(skip) {}
    iterator begin() const { return {first_, skip_}; }
    iterator end() const { return {last_, 0}; }

private:
    const Buffer* first_;
    const Buffer* last_;
    std::size_t skip_;
};

/// websocketpp's asio transport connection, batching three things:
/// - single-threaded, `dispatch` goes through the I/O thread's `DispatchQueue`;
/// - single-threaded over plain TCP, a connection reads ahead while a round of that queue waits.
///   websocketpp asks for a connection's next read from the handler of its last one. When that
///   handler's messages caused sends, their writes wait in the round, which asio runs before a
///   read it finds data for (asio posts that read's completion behind the round). So each round
///   carried what one read held: two 130-byte messages per 256-byte read at fan-out from one
///   publisher, 4 deliveries per `sendmsg` against websocketpp's 8 with its 16 KiB reads. Reading
///   on at once, without blocking, until the socket is empty or `ReadAhead::budget_per_turn`
///   bytes were read, the round carries all that had arrived: 16 deliveries per `sendmsg` with 16
///   broadcasts outstanding, 32 (as many as one call takes) with 64. The price: a read that finds
///   the socket empty, once per read whose messages caused sends (a sender of one message);
/// - a write over plain TCP hands the socket up to 64 buffers per system call (asio's limit for
///   one operation), where asio's `async_write`, which websocketpp calls, hands it at most 16 (its
///   `prepared_buffers`) and 64 KiB: with a header and a payload per message, 8 messages per
///   `sendmsg`, however many wait. At fan-out saturation 16 to 48 wait per connection: 32 per
///   call delivered 2.28 times as much single-threaded (bench/load/ab.sh, medians of 7), 1.84
///   times with two threads (of 3). TLS writes one record at a time anyway.
///
/// And after each write, storage the write grew to is given back (`finish`).
template <class TransportConfig>
class BatchingConnection : public websocketpp::transport::asio::connection<TransportConfig> {
    using Base = websocketpp::transport::asio::connection<TransportConfig>;
    static constexpr bool plain_tcp =
        std::is_same_v<typename TransportConfig::socket_type, websocketpp::transport::asio::basic_socket::endpoint>;
    static constexpr bool reads_ahead = plain_tcp && !TransportConfig::enable_multithreading;

    /// The websocketpp connection built on this one (incomplete here): its `bool write_waiting`
    /// (its `connection_base`'s) tells whether its write waits in the round.
    using Connection = typename TransportConfig::connection_type;

public:
    using type = BatchingConnection;
    using ptr = std::shared_ptr<type>;
    using Base::Base;
    using Base::async_write; // the handshake's single buffer, which the overload below would hide

    /// websocketpp 0.8 asks for its next read (of at least 1 byte) from the handler of the one
    /// before; while a round waits, it is made at once (`read_ahead`).
    void async_read_at_least(std::size_t at_least, char* buffer, std::size_t size,
                             websocketpp::transport::read_handler handler) {
        if constexpr (reads_ahead) {
            if (ReadAhead* turn = ReadAhead::of(this)) {
                turn->next = ReadAhead::Read{at_least, buffer, size, std::move(handler)};
                return;
            }
            const DispatchQueue* queue = DispatchQueue::current();
            if (queue && queue->waiting() && !ReadAhead::running())
                return read_ahead(ReadAhead::Read{at_least, buffer, size, std::move(handler)});
        }
        Base::async_read_at_least(at_least, buffer, size, std::move(handler));
    }

    /// The thread's queue belongs to the single-threaded transport whose I/O thread this is: a
    /// multi-threaded connection sent to from there must not use it. Its writes go with the flag
    /// that lets the round take each once.
    std::error_code dispatch(websocketpp::transport::dispatch_handler handler) {
        DispatchQueue* queue = TransportConfig::enable_multithreading ? nullptr : DispatchQueue::current();
        if (!queue) return Base::dispatch(std::move(handler));
        using WriteFrame = decltype(std::bind(&Connection::write_frame, std::declval<typename Connection::ptr>()));
        const bool is_write = handler.template target<WriteFrame>() != nullptr;
        queue->add(std::move(handler), is_write ? &static_cast<Connection&>(*this).write_waiting : nullptr);
        return {};
    }

    /// websocketpp 0.8 passes its connection's send buffers and neither changes nor frees them
    /// until the handler has run: the write points into that vector's storage.
    void async_write(const std::vector<websocketpp::transport::buffer>& buffers,
                     websocketpp::transport::write_handler handler) {
        static_assert(websocketpp::major_version == 0 && websocketpp::minor_version == 8,
                      "check that websocketpp still keeps the buffers of a write until its handler");
        if constexpr (plain_tcp)
            write_from(buffers, 0, 0, std::move(handler));
        else
            Base::async_write(buffers, [this, self = this->get_shared(), handler = std::move(handler)](
                                           const std::error_code& error) { finish(error, handler); });
    }

private:
    /// Reads what the socket holds and hands it to websocketpp, read after read, within one turn's
    /// budget; the read websocketpp asks for last goes to asio, as every read does otherwise.
    void read_ahead(ReadAhead::Read read) {
        const auto self = this->get_shared();
        asio::ip::tcp::socket& socket = this->get_socket();
        std::error_code error;
        if (!socket.non_blocking()) socket.non_blocking(true, error);
        std::optional<ReadAhead::Read> pending = std::move(read);
        {
            ReadAhead turn(this);
            while (!error && pending && pending->at_least <= 1 && pending->size <= turn.budget) {
                const std::size_t got = socket.read_some(asio::buffer(pending->buffer, pending->size), error);
                if (error == asio::error::would_block) break;
                ReadAhead::Read done = std::move(*pending);
                pending.reset();
                // An error (the peer's EOF, a reset) reaches websocketpp as asio's read would report it.
                this->handle_async_read(std::move(done.handler), error, got);
                pending = std::move(turn.next);
                turn.next.reset();
                if (got < done.size) break; // the socket is empty
                turn.budget -= got;
            }
        }
        if (pending)
            Base::async_read_at_least(pending->at_least, pending->buffer, pending->size, std::move(pending->handler));
    }

    void write_from(const std::vector<websocketpp::transport::buffer>& buffers, std::size_t first, std::size_t skip,
                    websocketpp::transport::write_handler handler) {
        auto on_written = [this, self = this->get_shared(), &buffers, first, skip, handler = std::move(handler)](
                              const std::error_code& error, std::size_t written) mutable {
            this->on_written(buffers, first, skip, written, error, std::move(handler));
        };
        const GatheredBuffers rest(buffers, first, skip);
        // The operation lives in the connection's storage for one, as websocketpp's own writes' do:
        // a block from the heap per write in flight would leave a connect storm's freed ones
        // scattered among the connections it opened (~300 bytes per connection of free heap that
        // stays resident).
        auto in_place = asio::bind_allocator(
            websocketpp_internals::InConnectionStorage<void>(
                websocketpp_internals::member_of<websocketpp_internals::WriteHandlerAllocator<Base>>(*this)),
            std::move(on_written));
        if constexpr (TransportConfig::enable_multithreading)
            this->get_socket().async_write_some(rest, asio::bind_executor(*this->get_strand(), std::move(in_place)));
        else
            this->get_socket().async_write_some(rest, std::move(in_place));
    }

    /// `written` bytes went out from `skip` bytes into buffer `first` on.
    void on_written(const std::vector<websocketpp::transport::buffer>& buffers, std::size_t first, std::size_t skip,
                    std::size_t written, const std::error_code& error, websocketpp::transport::write_handler handler) {
        std::size_t done = skip + written;
        while (first < buffers.size() && done >= buffers[first].len) done -= buffers[first++].len;
        if (first == buffers.size() && !error) return finish({}, handler);
        // Nothing written without an error would repeat forever; asio's own write gives up too.
        if (error || written == 0) return handler(make_error_code(websocketpp::transport::error::pass_through));
        write_from(buffers, first, done, std::move(handler));
    }

    /// websocketpp's handler clears the write's vectors and dispatches the next write, which runs
    /// later: their storage goes now, and a burst's write is counted for the endpoint's tick.
    void finish(const std::error_code& error, const websocketpp::transport::write_handler& handler) {
        handler(error);
        Connection& con = static_cast<Connection&>(*this);
        if (!websocketpp_internals::write_storage_grown(con, 0)) return;
        const bool burst = websocketpp_internals::write_storage_grown(con, burst_write_messages);
        websocketpp_internals::release_write_storage(con);
        websocketpp_internals::GrownWriteStorage* grown = websocketpp_internals::GrownWriteStorage::current();
        if (burst && grown) grown->count();
    }
};

/// websocketpp's asio transport, with `BatchingConnection` as the base of its connections.
template <class TransportConfig>
struct BatchingEndpoint : websocketpp::transport::asio::endpoint<TransportConfig> {
    using transport_con_type = BatchingConnection<TransportConfig>;
    using transport_con_ptr = typename transport_con_type::ptr;
};

} // namespace switchboard::detail
