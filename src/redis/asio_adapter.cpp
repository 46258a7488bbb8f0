// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "asio_adapter.hpp"

#include <hiredis/async.h>

namespace switchboard::redis::detail {

namespace {
AsioAdapter& adapter_of(void* privdata) { return *static_cast<AsioAdapter*>(privdata); }
} // namespace

void AsioAdapter::attach(redisAsyncContext& context, const asio::any_io_executor& executor) {
    auto adapter = std::shared_ptr<AsioAdapter>(new AsioAdapter(context, executor));
    adapter->self_ = adapter;
    context.ev.data = adapter.get();
    context.ev.addRead = [](void* p) { adapter_of(p).want(Direction::read, true); };
    context.ev.delRead = [](void* p) { adapter_of(p).want(Direction::read, false); };
    context.ev.addWrite = [](void* p) { adapter_of(p).want(Direction::write, true); };
    context.ev.delWrite = [](void* p) { adapter_of(p).want(Direction::write, false); };
    context.ev.cleanup = [](void* p) { adapter_of(p).cleanup(); };
}

AsioAdapter::AsioAdapter(redisAsyncContext& context, const asio::any_io_executor& executor)
    : context_(&context), descriptor_(executor, context.c.fd) {}

void AsioAdapter::want(Direction direction, bool wanted) {
    Interest& it = interest(direction);
    it.wanted = wanted;
    if (wanted && !it.waiting) wait(direction);
}

void AsioAdapter::wait(Direction direction) {
    interest(direction).waiting = true;
    const auto type = direction == Direction::read ? asio::posix::stream_descriptor::wait_read
                                                   : asio::posix::stream_descriptor::wait_write;
    descriptor_.async_wait(type, [self = shared_from_this(), direction](const std::error_code& error) {
        Interest& it = self->interest(direction);
        it.waiting = false;
        if (error || !self->context_ || !it.wanted) return;
        if (direction == Direction::read) {
            redisAsyncHandleRead(self->context_);
        } else {
            redisAsyncHandleWrite(self->context_);
        }
        // hiredis may have freed the context meanwhile (cleanup nulled it), or withdrawn interest.
        if (self->context_ && it.wanted && !it.waiting) self->wait(direction);
    });
}

void AsioAdapter::cleanup() {
    context_ = nullptr;
    read_.wanted = write_.wanted = false;
    // hiredis closes the fd itself; release() also aborts the pending waits.
    descriptor_.release();
    // Pending waits still hold the adapter until they complete; `last` may destroy it on return.
    const auto last = std::move(self_);
}

} // namespace switchboard::redis::detail
