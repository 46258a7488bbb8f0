// The history vocabulary: epochs, stream positions, the `resume` parameter, stored events and
// the Session frame.
#include <switchboard/history.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <switchboard/events.hpp>

using namespace switchboard;

namespace {

const std::string epoch_text = "0123456789abcdef00112233445566ff";

} // namespace

TEST_CASE("an epoch is 32 lower-case hex digits and formats back the same", "[history][position]") {
    const auto epoch = Epoch::try_parse(epoch_text);
    REQUIRE(epoch);
    CHECK(epoch->to_string() == epoch_text);
    CHECK(Epoch().to_string() == std::string(32, '0'));
    for (const std::string bad : {"", "0123", "0123456789ABCDEF00112233445566FF", "0123456789abcdef00112233445566f",
                                  "0123456789abcdef00112233445566fff", "0123456789abcdef0011223344556-ff",
                                  "g123456789abcdef00112233445566ff"}) {
        INFO(bad);
        CHECK_FALSE(Epoch::try_parse(bad));
    }
}

TEST_CASE("random epochs differ from each other and from zero", "[history][position]") {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const Epoch epoch = Epoch::random();
        CHECK(epoch != Epoch());
        seen.insert(epoch.to_string());
    }
    CHECK(seen.size() == 1000);
}

TEST_CASE("epochs drawn on different threads differ (each thread's engine is seeded apart)", "[history][position]") {
    constexpr int threads = 4, each = 250;
    std::vector<std::vector<std::string>> drawn(threads);
    std::vector<std::thread> drawing;
    for (int t = 0; t < threads; ++t)
        drawing.emplace_back([&drawn, t] {
            for (int i = 0; i < each; ++i) drawn[t].push_back(Epoch::random().to_string());
        });
    for (std::thread& thread : drawing) thread.join();
    std::set<std::string> seen;
    for (const auto& epochs : drawn) seen.insert(epochs.begin(), epochs.end());
    CHECK(seen.size() == threads * each);
}

TEST_CASE("a stream position reads <epoch>:<offset> with one spelling per position", "[history][position]") {
    const auto parsed = StreamPosition::parse(epoch_text + ":17");
    REQUIRE(parsed);
    CHECK(parsed.position->offset == 17);
    CHECK(parsed.position->to_string() == epoch_text + ":17");
    CHECK(StreamPosition::parse(epoch_text + ":0").position->offset == 0);
    CHECK(StreamPosition::parse(epoch_text + ":18446744073709551615").position->offset == ~std::uint64_t{0});

    const struct {
        std::string text;
        std::string reason;
    } malformed[] = {
        {"", "expected <epoch>:<offset>"},
        {epoch_text, "expected <epoch>:<offset>"},
        {"abc:1", "epoch"},
        {":1", "epoch"},
        {epoch_text + ":", "offset"},
        {epoch_text + ":18446744073709551616", "offset"},  // 2^64
        {epoch_text + ":99999999999999999999", "offset"},
        {epoch_text + ":017", "offset"},
        {epoch_text + ":+17", "offset"},
        {epoch_text + ":-1", "offset"},
        {epoch_text + ":1 ", "offset"},
        {epoch_text + ":1:2", "offset"},
    };
    for (const auto& [text, reason] : malformed) {
        INFO(text);
        const auto result = StreamPosition::parse(text);
        CHECK_FALSE(result);
        CHECK_THAT(std::string(result.error), Catch::Contains(reason));
    }
}

TEST_CASE("the resume parameter: absent, a position, or a 400 with the reason", "[history][resume]") {
    CHECK_FALSE(parse_resume("").position);
    CHECK_FALSE(parse_resume("").failure);
    CHECK_FALSE(parse_resume("token=abc&resumex=1").failure);

    const ResumeParameter plain = parse_resume("token=abc&resume=" + epoch_text + ":5");
    REQUIRE(plain.position);
    CHECK(plain.position->to_string() == epoch_text + ":5");
    CHECK_FALSE(plain.failure);
    const ResumeParameter encoded = parse_resume("resume=" + epoch_text + "%3A5&token=abc");
    REQUIRE(encoded.position);
    CHECK(encoded.position->offset == 5);

    const struct {
        std::string query;
        std::string reason;
    } refused[] = {
        {"resume", "expected <epoch>:<offset>"},
        {"resume=", "expected <epoch>:<offset>"},
        {"resume=" + epoch_text + ":x", "offset"},
        {"resume=" + epoch_text + "%3", "percent-encoding"},
        {"resume=" + epoch_text + ":5&resume=" + epoch_text + ":5", "more than once"},
    };
    for (const auto& [query, reason] : refused) {
        INFO(query);
        const ResumeParameter result = parse_resume(query);
        CHECK_FALSE(result.position);
        REQUIRE(result.failure);
        CHECK(result.failure->status == 400);
        CHECK_THAT(result.failure->reason, Catch::StartsWith("malformed resume parameter: ") && Catch::Contains(reason));
    }
}

TEST_CASE("a stored event holds the unstreamed frame once and splices an offset per stream", "[history][stored]") {
    const Event event = PostLiked{"post-9", UserId::parse("22222222-2222-4222-8222-222222222222")};
    const StoredEvent stored(event);
    CHECK(stored.text() == event.to_frame().text());
    CHECK(stored.size() == stored.text().size());
    CHECK(stored.memory_size() >= stored.size() + 12);
    CHECK(stored.memory_size() % 16 == 0);

    const Frame frame = stored.frame_at(17);
    const auto json = nlohmann::json::parse(frame.text());
    CHECK(json.at("offset") == 17);
    CHECK(json.at("type") == "PostLiked");
    CHECK(json.at("data") == event.data());
    CHECK_THAT(std::string(frame.text()), Catch::StartsWith(R"({"type":"PostLiked","offset":17,"data":)"));
    CHECK(Event::parse(frame.text()).data() == event.data());
}

TEST_CASE("a stored event finds the data after a type that looks like it", "[history][stored]") {
    const Event tricky(R"(x,"data":1)", {{"k", "v"}});
    const auto json = nlohmann::json::parse(StoredEvent(tricky).frame_at(3).text());
    CHECK(json.at("type") == R"(x,"data":1)");
    CHECK(json.at("offset") == 3);
    CHECK(json.at("data") == nlohmann::json{{"k", "v"}});
}

TEST_CASE("a stored event refuses text that is not an unstreamed frame", "[history][stored]") {
    CHECK_THROWS_AS(StoredEvent::from_frame_text(R"({"data":{},"type":"x"})"), std::invalid_argument);
    CHECK_THROWS_AS(StoredEvent::from_frame_text("not json"), std::invalid_argument);
    const StoredEvent read_back = StoredEvent::from_frame_text(R"({"type":"x","data":{}})");
    CHECK(read_back.frame_at(1).text() == R"({"type":"x","offset":1,"data":{}})");
}

TEST_CASE("copies of a stored event share it across threads", "[history][stored]") {
    const StoredEvent original(Event("Note", {{"n", 1}}));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10'000; ++i) {
                StoredEvent copy = original;
                StoredEvent moved = std::move(copy);
                CHECK(moved.text().data() == original.text().data());
            }
        });
    for (std::thread& thread : threads) thread.join();
    CHECK(original.text() == R"({"type":"Note","data":{"n":1}})");
}

TEST_CASE("the Session frame reads back what it wrote", "[history][session]") {
    const Session session{*Epoch::try_parse(epoch_text), 41, Recovery::complete, 3};
    const Event event = session;
    CHECK(event.type() == "Session");
    CHECK(event.data() == nlohmann::json{{"epoch", epoch_text}, {"offset", 41}, {"recovery", "complete"},
                                         {"replayed", 3}});
    const Session back = event_cast<Session>(Event::parse(event.to_frame().text()));
    CHECK(back.epoch == session.epoch);
    CHECK(back.offset == 41);
    CHECK(back.recovery == Recovery::complete);
    CHECK(back.replayed == 3);
    CHECK_THROWS_AS(event_cast<Session>(Event("Session", {{"epoch", "x"}, {"offset", 1}, {"recovery", "none"},
                                                          {"replayed", 0}})),
                    ProtocolError);
}
