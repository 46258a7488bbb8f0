// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include <switchboard/redis/connection.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <utility>

#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "asio_adapter.hpp"
#include "reply_copy.hpp"

namespace switchboard::redis {

using Clock = std::chrono::steady_clock;

class Connection::Impl : public std::enable_shared_from_this<Impl> {
public:
    Impl(asio::any_io_executor executor, ConnectionOptions options)
        : executor_(std::move(executor)), options_(std::move(options)), connect_timer_(executor_),
          command_timer_(executor_), reconnect_timer_(executor_), liveness_timer_(executor_),
          random_(std::random_device{}()) {}

    const asio::any_io_executor& executor() const { return executor_; }

    void start() {
        if (std::exchange(running_, true)) return;
        attempts_ = 0;
        connect();
    }

    void stop() {
        running_ = false;
        pending_.clear(); // dropped, never called: see the header
        reconnect_timer_.cancel();
        tear_down(Errc::connection_lost);
    }

    void command(std::vector<std::string> args, ReplyHandler handler) {
        if (!ready()) return fail_later(std::move(handler));
        const std::uint64_t id = next_id_++;
        pending_.emplace(id, Pending{std::move(handler), Clock::now() + options_.command_timeout});
        if (!send(args, &Impl::on_reply, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)))) {
            ReplyHandler refused = std::move(pending_.at(id).handler);
            pending_.erase(id);
            return fail_later(std::move(refused));
        }
        arm_command_timer();
    }

    /// `verb` is SUBSCRIBE or UNSUBSCRIBE. Nothing to do while disconnected: a new connection
    /// subscribes in `on_connected`.
    void subscription(const char* verb, std::vector<std::string> channels) {
        if (!ready() || channels.empty()) return;
        channels.insert(channels.begin(), verb);
        send(channels, &Impl::on_pubsub, nullptr);
    }

private:
    struct Pending {
        ReplyHandler handler;
        Clock::time_point deadline;
    };

    /// A timer completion that runs `body` only if the connection it was armed for is still the current one.
    template <typename Body>
    auto on_this_connection(Body body) {
        return [weak = weak_from_this(), generation = generation_, body](const std::error_code& error) {
            const auto self = weak.lock();
            if (!error && self && self->generation_ == generation) body(*self);
        };
    }

    /// Connected, and not being torn down (a callback run while hiredis frees the context sees `context_` null).
    bool ready() const { return connected_ && context_; }

    static Impl& impl_of(const redisAsyncContext* context) { return *static_cast<Impl*>(context->data); }

    void connect() {
        ++generation_;
        redisAsyncContext* context = redisAsyncConnect(options_.host.c_str(), options_.port);
        if (!context || context->err) {
            if (context) redisAsyncFree(context);
            return schedule_reconnect(Errc::connect_failed);
        }
        context_ = context;
        context->data = this;
        detail::AsioAdapter::attach(*context, executor_);
        redisAsyncSetConnectCallback(context, [](const redisAsyncContext* c, int status) {
            impl_of(c).connected(status);
        });
        redisAsyncSetDisconnectCallback(context, [](const redisAsyncContext* c, int) {
            Impl& self = impl_of(c);
            if (self.context_ == c) { // not a context we are freeing ourselves
                self.context_ = nullptr;
                self.ended(Errc::connection_lost);
            }
        });
        connect_timer_.expires_after(options_.connect_timeout);
        connect_timer_.async_wait(on_this_connection([](Impl& self) {
            if (!self.connected_) self.tear_down(Errc::connect_failed);
        }));
    }

    void connected(int status) {
        connect_timer_.cancel();
        if (status != REDIS_OK) { // hiredis frees the context after this callback
            context_ = nullptr;
            return ended(Errc::connect_failed);
        }
        connected_ = true;
        attempts_ = 0;
        heard_ = true;
        if (options_.liveness_interval.count() > 0) wait_liveness();
        if (options_.on_connected) options_.on_connected();
    }

    /// Ends the current context by our own decision (hiredis calls back pending commands with no reply).
    void tear_down(Errc reason) {
        redisAsyncContext* context = std::exchange(context_, nullptr);
        if (!context) return;
        redisAsyncFree(context);
        ended(reason);
    }

    void ended(Errc reason) {
        ++generation_; // orphans the timers' pending waits
        connect_timer_.cancel();
        command_timer_.cancel();
        liveness_timer_.cancel();
        command_timer_armed_ = false;
        const bool was_connected = std::exchange(connected_, false);
        if (!running_) return;
        if (was_connected && options_.on_disconnected) options_.on_disconnected(reason);
        if (running_) schedule_reconnect(reason); // unless on_disconnected stopped it
    }

    void schedule_reconnect(Errc why) {
        const auto doubled = options_.backoff_initial * (std::int64_t{1} << std::min(attempts_++, 20u));
        const auto ceiling = std::min<std::chrono::milliseconds>(doubled, options_.backoff_max);
        std::uniform_int_distribution<std::int64_t> jitter(ceiling.count() / 2, ceiling.count());
        const std::chrono::milliseconds delay(jitter(random_));
        if (options_.on_backoff) options_.on_backoff(why, delay);
        reconnect_timer_.expires_after(delay);
        reconnect_timer_.async_wait([weak = weak_from_this()](const std::error_code& error) {
            const auto self = weak.lock();
            if (!error && self && self->running_ && !self->context_) self->connect();
        });
    }

    /// Replies come in order, so the oldest pending command is the first to time out: one timer,
    /// re-armed only when it fires, serves a whole pipeline.
    void arm_command_timer() {
        if (command_timer_armed_ || pending_.empty()) return;
        command_timer_armed_ = true;
        command_timer_.expires_at(pending_.begin()->second.deadline);
        command_timer_.async_wait(on_this_connection([](Impl& self) {
            self.command_timer_armed_ = false;
            if (self.pending_.empty()) return;
            if (self.pending_.begin()->second.deadline > Clock::now()) return self.arm_command_timer();
            ReplyHandler late = std::move(self.pending_.begin()->second.handler);
            self.pending_.erase(self.pending_.begin());
            self.tear_down(Errc::timed_out);
            late(Errc::timed_out, {});
        }));
    }

    void wait_liveness() {
        liveness_timer_.expires_after(options_.liveness_interval);
        liveness_timer_.async_wait(on_this_connection([](Impl& self) {
            if (!std::exchange(self.heard_, false)) return self.tear_down(Errc::liveness_lost);
            if (self.options_.liveness_probe) self.options_.liveness_probe();
            if (self.connected_) self.wait_liveness(); // the probe may have ended the connection
        }));
    }

    bool send(const std::vector<std::string>& args, redisCallbackFn* callback, void* privdata) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        argv.reserve(args.size());
        lengths.reserve(args.size());
        for (const std::string& arg : args) {
            argv.push_back(arg.data());
            lengths.push_back(arg.size());
        }
        return redisAsyncCommandArgv(context_, callback, privdata, static_cast<int>(args.size()), argv.data(),
                                     lengths.data()) == REDIS_OK;
    }

    /// Calls back "not connected" later, never from inside `command` itself.
    void fail_later(ReplyHandler handler) {
        asio::post(executor_, [weak = weak_from_this(), handler = std::move(handler)] {
            const auto self = weak.lock();
            if (self && self->running_) handler(Errc::not_connected, {});
        });
    }

    static void on_reply(redisAsyncContext* context, void* reply, void* privdata) {
        Impl& self = impl_of(context);
        const auto found = self.pending_.find(reinterpret_cast<std::uintptr_t>(privdata));
        if (found == self.pending_.end()) return;
        ReplyHandler handler = std::move(found->second.handler);
        self.pending_.erase(found);
        if (!reply) return handler(Errc::connection_lost, {}); // the context is being freed
        self.heard_ = true;
        handler({}, detail::copy_reply(*static_cast<redisReply*>(reply)));
    }

    static void on_pubsub(redisAsyncContext* context, void* reply, void*) {
        if (!reply) return;
        Impl& self = impl_of(context);
        self.heard_ = true;
        const auto& r = *static_cast<redisReply*>(reply);
        if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) return;
        const auto text = [&](std::size_t i) { return std::string_view(r.element[i]->str, r.element[i]->len); };
        const ConnectionOptions& options = self.options_;
        if (text(0) == "message" && options.on_message) options.on_message(text(1), text(2));
        else if (text(0) == "subscribe" && options.on_subscribed) options.on_subscribed(text(1));
    }

    asio::any_io_executor executor_;
    ConnectionOptions options_;
    asio::steady_timer connect_timer_;
    asio::steady_timer command_timer_;
    asio::steady_timer reconnect_timer_;
    asio::steady_timer liveness_timer_;
    redisAsyncContext* context_ = nullptr; ///< the current hiredis context, connected or connecting
    bool running_ = false;                 ///< between start() and stop()
    bool connected_ = false;
    bool heard_ = false; ///< something came from Redis since the last liveness probe
    bool command_timer_armed_ = false;
    unsigned attempts_ = 0;        ///< failed connection attempts in a row
    std::uint64_t generation_ = 0; ///< counts contexts made and ended
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Pending> pending_; ///< by id: in the order sent
    std::minstd_rand random_;
};

Connection::Connection(asio::any_io_executor executor, ConnectionOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

Connection::~Connection() { impl_->stop(); }

template <typename Call>
void Connection::on_executor(Call call) {
    asio::dispatch(impl_->executor(), [weak = std::weak_ptr(impl_), call = std::move(call)]() mutable {
        if (const auto self = weak.lock()) call(*self);
    });
}

void Connection::start() {
    on_executor([](Impl& impl) { impl.start(); });
}
void Connection::stop() {
    on_executor([](Impl& impl) { impl.stop(); });
}
void Connection::command(std::vector<std::string> args, ReplyHandler handler) {
    on_executor([args = std::move(args), handler = std::move(handler)](Impl& impl) mutable {
        impl.command(std::move(args), std::move(handler));
    });
}
void Connection::subscribe(std::vector<std::string> channels) {
    on_executor([channels = std::move(channels)](Impl& impl) mutable {
        impl.subscription("SUBSCRIBE", std::move(channels));
    });
}
void Connection::unsubscribe(std::vector<std::string> channels) {
    on_executor([channels = std::move(channels)](Impl& impl) mutable {
        impl.subscription("UNSUBSCRIBE", std::move(channels));
    });
}

} // namespace switchboard::redis
