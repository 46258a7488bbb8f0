// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The Asio event adapter hiredis lacks: hiredis tells it (through `ev.addRead/delRead/addWrite/
// delWrite/cleanup`) when it wants to read or write its socket, and it waits for that with an
// `asio::posix::stream_descriptor` and calls `redisAsyncHandleRead/Write`.
//
// hiredis owns the fd and closes it when it frees the context: `cleanup` releases (never closes)
// the descriptor. A wait still pending then completes later, with nothing to touch: each wait
// holds the adapter alive, and the adapter forgets its context in `cleanup`.
//
// Threads: everything on the executor the descriptor was made on (hiredis is not thread-safe).

#include <memory>

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>

struct redisAsyncContext;

namespace switchboard::redis::detail {

class AsioAdapter : public std::enable_shared_from_this<AsioAdapter> {
public:
    /// Hooks `context`'s events to a new adapter, which its `cleanup` ends; the context must be
    /// without error.
    static void attach(redisAsyncContext& context, const asio::any_io_executor& executor);

private:
    AsioAdapter(redisAsyncContext& context, const asio::any_io_executor& executor);

    enum class Direction { read, write };
    struct Interest {
        bool wanted = false;
        bool waiting = false; ///< an async_wait is pending
    };

    Interest& interest(Direction direction) { return direction == Direction::read ? read_ : write_; }
    void want(Direction direction, bool wanted);
    void wait(Direction direction);
    void cleanup();

    redisAsyncContext* context_; ///< null once hiredis cleaned up
    asio::posix::stream_descriptor descriptor_;
    Interest read_;
    Interest write_;
    std::shared_ptr<AsioAdapter> self_; ///< the context's reference, dropped in `cleanup`
};

} // namespace switchboard::redis::detail
