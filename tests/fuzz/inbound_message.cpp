// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.

/// @file
/// Fuzz target: one inbound message of arbitrary bytes through `ConnectionManager<MockTransport>::handle_message`.
///
/// Input: the first byte chooses the frame kind ('B' binary, anything else text), the rest is the payload.
/// Each input gets a fresh manager, so that a crash reproduces from its input alone. Invariants:
/// - `handle_message` does not throw, and returns true for the registered sender;
/// - either a handler ran to its end and the sender got nothing, or the sender got exactly one `Error`, whose code
///   is the one the README documents for this input (worked out apart from the manager, see `expected_outcome`),
///   or, for a `Ping`, exactly one `Pong` with the Ping's data and no handler ran;
/// - an `internal_error` does not carry the handler's exception text;
/// - nobody else (the sender's other device, another user) gets anything, nothing is closed, and the sender
///   stays registered.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <switchboard/connection_manager.hpp>
#include <switchboard/transport/mock.hpp>

#include "fuzz_check.hpp"

namespace {

using namespace switchboard;
using Manager = ConnectionManager<MockTransport>;
using Handle = MockTransport::Handle;

const UserId sender_user = UserId::parse("6f1c2a52-3d1e-4f7a-9b8c-0d1e2f3a4b5c");
const UserId other_user = UserId::parse("0b8e6a1d-2c3f-4e5a-8b7c-9d0e1f2a3b4c");

/// What the `Explode` handler throws: the client must never see it.
constexpr std::string_view private_detail = "private detail of a failed handler";
constexpr std::size_t max_recipients = 100;

// --- The handled types, beside the typed `on<TypingStarted>` --------------------------------------------------------

/// Reads its fields with `.at()` the way a host would: a missing field, a wrong JSON type or a bad UUID throws.
void read_send_message(const Event& event) {
    const nlohmann::json& to = event.data().at("to");
    if (to.size() > max_recipients) throw ProtocolError("too_many_recipients", "at most 100 recipients");
    for (const nlohmann::json& recipient : to) UserId::parse(recipient.get_ref<const std::string&>());
    event.data().at("content").get<std::string>();
}

/// The sender is no admin: a handler's own refusal.
void refuse_broadcast(const Event&) { throw ProtocolError(errc::forbidden, "only admins may broadcast"); }

/// A handler that fails in a way it did not plan for.
void explode(const Event&) { throw std::runtime_error(std::string(private_detail)); }

struct UntypedHandler {
    std::string_view type;
    void (*body)(const Event&);
};
constexpr UntypedHandler untyped_handlers[] = {
    {"SendMessage", read_send_message},
    {"Broadcast", refuse_broadcast},
    {"Explode", explode},
};

/// The Error code the README documents for an exception out of the message's handling, or none when there is none.
template <class Work>
std::optional<std::string> documented_error(Work&& work) {
    try {
        work();
        return std::nullopt;
    } catch (const ProtocolError& error) {
        return error.code();
    } catch (const nlohmann::json::exception&) {
        return std::string(errc::bad_payload);
    } catch (const InvalidUserId&) {
        return std::string(errc::bad_payload);
    } catch (const std::exception&) {
        return std::string(errc::internal_error);
    }
}

/// What the sender should get for a message: an Error with this code, a Pong with this data, or nothing (a
/// handler completed).
struct Expected {
    std::optional<std::string> error;
    std::optional<nlohmann::json> pong;
};

/// Runs the handlers' bodies and the library's parsing directly, without the manager's dispatch.
Expected expected_outcome(std::string_view payload, MessageKind kind) {
    if (kind == MessageKind::binary) return {std::string(errc::binary_unsupported), std::nullopt};
    Expected expected;
    expected.error = documented_error([&] {
        const Event event = Event::parse(payload, Event::default_max_depth);
        if (event.type() == "Ping") { // the manager's own answer
            expected.pong = event.data();
            return;
        }
        if (event.type() == TypingStarted::type_name) {
            event_cast<TypingStarted>(event);
            return;
        }
        for (const UntypedHandler& handler : untyped_handlers)
            if (event.type() == handler.type) return handler.body(event);
        throw ProtocolError(errc::unknown_type, "");
    });
    return expected;
}

ManagerOptions generous_limits() {
    ManagerOptions options;
    options.limits.inbound_rate = 0; // no token bucket: every input must reach dispatch
    options.limits.max_queued_bytes = 0; // no slow-consumer limit (the mock reports no backlog anyway)
    return options;
}

/// A manager with the handlers installed and three registered connections: the sender, the sender's other device
/// and another user.
class Harness {
public:
    Harness() : manager_(transport_, StaticTokenAuthenticator{}, generous_limits()) {
        manager_.on<TypingStarted>([this](const Inbound& inbound, const TypingStarted&) { completed(inbound); });
        for (const UntypedHandler& handler : untyped_handlers)
            manager_.on(std::string(handler.type), [this, body = handler.body](const Inbound& inbound) {
                body(inbound.event);
                completed(inbound);
            });
        sender_.id = manager_.register_connection(sender_user, sender_.handle);
        other_device_.id = manager_.register_connection(sender_user, other_device_.handle);
        other_user_.id = manager_.register_connection(other_user, other_user_.handle);
        // Registration sent presence events; only what arrives after this counts.
        for (Peer* peer : {&sender_, &other_device_, &other_user_}) peer->frames_before = new_frames(*peer).size();
    }

    void receive(std::string_view payload, MessageKind kind) {
        bool registered = false;
        try {
            registered = manager_.handle_message(sender_.id, payload, kind);
        } catch (const std::exception& error) {
            FUZZ_CHECK(false, std::string("handle_message threw: ") + error.what());
        } catch (...) {
            FUZZ_CHECK(false, "handle_message threw a non-std exception");
        }
        FUZZ_CHECK(registered, "handle_message did not find the registered sender");
    }

    void check(const Expected& outcome) const {
        const std::optional<std::string>& expected = outcome.error;
        const std::vector<Frame> replies = new_frames(sender_);
        if (outcome.pong) {
            FUZZ_CHECK(!handler_completed_, "a handler ran for a Ping");
            FUZZ_CHECK(replies.size() == 1, "expected one Pong, got " + std::to_string(replies.size()) + " frames");
            const Event pong = Event::parse(replies.front().text());
            FUZZ_CHECK(pong.type() == "Pong" && pong.data() == *outcome.pong, "not the Ping's Pong: " +
                                                                                 std::string(replies.front().text()));
        } else if (!expected) {
            FUZZ_CHECK(handler_completed_, "no handler completed, yet no Error was expected");
            FUZZ_CHECK(replies.empty(), "a handler completed, yet the sender got " + std::to_string(replies.size()));
        } else {
            FUZZ_CHECK(!handler_completed_, "a handler completed, yet Error " + *expected + " was expected");
            FUZZ_CHECK(replies.size() == 1,
                       "expected one Error " + *expected + ", got " + std::to_string(replies.size()) + " frames");
            check_error(replies.front(), *expected);
        }
        FUZZ_CHECK(new_frames(other_device_).empty(), "the sender's other device got a frame");
        FUZZ_CHECK(new_frames(other_user_).empty(), "another user got a frame");
        for (const Peer* peer : {&sender_, &other_device_, &other_user_}) {
            FUZZ_CHECK(!transport_.close_record(peer->handle) && transport_.is_open(peer->handle),
                       "a connection was closed");
            FUZZ_CHECK(manager_.identity_of(peer->id) != nullptr, "a connection was unregistered");
        }
        FUZZ_CHECK(manager_.connection_count() == 3, "connections: " + std::to_string(manager_.connection_count()));

        const ManagerMetrics metrics = manager_.metrics();
        FUZZ_CHECK(metrics.inbound_messages == 1, "inbound_messages " + std::to_string(metrics.inbound_messages));
        FUZZ_CHECK(metrics.inbound_errors == (expected ? 1u : 0u),
                   "inbound_errors " + std::to_string(metrics.inbound_errors));
    }

private:
    struct Peer {
        explicit Peer(Handle handle_) : handle(handle_) {}
        Handle handle;
        ConnectionId id;
        std::size_t frames_before = 0; ///< presence events from the harness's own registrations
    };

    void completed(const Inbound& inbound) {
        FUZZ_CHECK(inbound.connection == sender_.id, "a handler saw another connection as the sender");
        FUZZ_CHECK(inbound.sender.user == sender_user, "a handler saw another user as the sender");
        handler_completed_ = true;
    }

    /// The frames a connection got since the harness was set up.
    std::vector<Frame> new_frames(const Peer& peer) const {
        std::vector<Frame> frames = transport_.frames(peer.handle);
        frames.erase(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(peer.frames_before));
        return frames;
    }

    static void check_error(const Frame& frame, const std::string& expected_code) {
        std::optional<Error> error;
        try {
            error = event_cast<Error>(Event::parse(frame.text()));
        } catch (const std::exception& failure) {
            FUZZ_CHECK(false, std::string("the reply is not an Error event: ") + failure.what());
        }
        FUZZ_CHECK(error->code == expected_code, "Error " + error->code + ", expected " + expected_code);
        FUZZ_CHECK(!error->message.empty(), "Error " + error->code + " without a message");
        if (error->code == errc::internal_error)
            FUZZ_CHECK(error->message.find(private_detail) == std::string::npos, "internal_error leaks handler text");
    }

    MockTransport transport_;
    Manager manager_;
    Peer sender_{transport_.open()};
    Peer other_device_{transport_.open()};
    Peer other_user_{transport_.open()};
    bool handler_completed_ = false;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const MessageKind kind = data[0] == 'B' ? MessageKind::binary : MessageKind::text;
    const std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);

    Harness harness;
    harness.receive(payload, kind);
    harness.check(expected_outcome(payload, kind));
    return 0;
}
