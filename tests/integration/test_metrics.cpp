// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The example server's GET /metrics: with an admin token on the main port, without one on
// --metrics-port (loopback), in Prometheus' text format, and as Prometheus itself reads it:
// `promtool check metrics` on the program's output, and a real Prometheus server scraping it.
// The tests tagged [prometheus] run the program and Prometheus' own tools: plain builds only.

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include "child_process.hpp"
#include "harness.hpp"
#include "http_client.hpp"

using namespace integration;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view exposition_type = "text/plain; version=0.0.4; charset=utf-8";

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

void check_refusal(const HttpReply& reply, int status, std::string_view error) {
    CHECK(reply.status == status);
    CHECK(reply.header("Content-Type") == "application/json");
    CHECK(reply.json().value("error", "") == error);
    CHECK_FALSE(reply.json().value("reason", "").empty());
}

social::ServerOptions with_metrics_port() {
    social::ServerOptions options = server_options();
    options.metrics_port = 0;
    return options;
}

} // namespace

TEST_CASE("GET /metrics on the main port needs an admin bearer token", "[integration][http][metrics]") {
    TestServer server;
    const UserId alice = UserId::random();
    const auto phone = connect_user(server, alice);
    const auto get = [&](const Headers& headers) { return http_request(server.port(), {"GET", "/metrics", headers, ""}); };

    check_refusal(get({}), 401, "unauthorized");
    check_refusal(get(bearer("not-a-token")), 401, "unauthorized");
    check_refusal(get(bearer(token_for(alice))), 403, "forbidden");
    check_refusal(http_request(server.port(), {"POST", "/metrics", bearer(token_for(alice, true)), ""}), 405,
                  "method_not_allowed");

    const HttpReply reply = get(bearer(token_for(UserId::random(), /*admin=*/true)));
    CHECK(reply.status == 200);
    CHECK(reply.header("Content-Type") == std::string(exposition_type));
    CHECK(has_line(reply.body, "switchboard_connections 1"));
    CHECK(has_line(reply.body, "switchboard_users_online 1"));
    CHECK(has_line(reply.body, "# TYPE process_open_fds gauge"));
}

TEST_CASE("GET /metrics on the metrics port needs no token, and that port serves nothing else",
          "[integration][http][metrics]") {
    TestServer server(with_metrics_port());
    const auto phone = connect_user(server, UserId::random());
    REQUIRE(server.metrics_port() != 0);
    REQUIRE(server.metrics_port() != server.port());

    const HttpReply reply = http_request(server.metrics_port(), {"GET", "/metrics", {}, ""});
    CHECK(reply.status == 200);
    CHECK(reply.header("Content-Type") == std::string(exposition_type));
    CHECK(has_line(reply.body, "switchboard_connections 1"));
    check_refusal(http_request(server.metrics_port(), {"GET", "/api/presence", {}, ""}), 404, "not_found");
    check_refusal(http_request(server.metrics_port(), {"DELETE", "/metrics", {}, ""}), 405, "method_not_allowed");
    TestClient upgrade;
    CHECK_FALSE(upgrade.connect("ws://127.0.0.1:" + std::to_string(server.metrics_port()) + "/ws",
                                bearer(token_for(UserId::random()))));
}

TEST_CASE("GET /metrics counts closes by the close code", "[integration][http][metrics]") {
    TestServer server(with_metrics_port());
    const UserId alice = UserId::random();
    const auto phone = connect_user(server, alice);
    const auto laptop = connect_user(server, alice);
    const auto metrics = [&] { return http_request(server.metrics_port(), {"GET", "/metrics", {}, ""}).body; };
    CHECK(metrics().find("switchboard_closes_total{") == std::string::npos);

    phone->close(1000);
    laptop->close(4001); // an application's own code
    REQUIRE(phone->wait_closed());
    REQUIRE(laptop->wait_closed());
    CHECK(eventually([&] {
        const std::string text = metrics();
        return has_line(text, R"(switchboard_closes_total{code="1000"} 1)") &&
               has_line(text, R"(switchboard_closes_total{code="other"} 1)") &&
               has_line(text, "switchboard_connections 0");
    }));
}

namespace {

const std::string program = SOCIAL_SERVER_PATH;
constexpr auto process_wait = 15s;

/// A directory of its own under /tmp, removed with everything in it.
class TemporaryDirectory {
public:
    TemporaryDirectory() {
        std::string pattern = (std::filesystem::temp_directory_path() / "switchboard-metrics-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TemporaryDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// The social_server program with --metrics-port 0, and the ports it printed.
struct Program {
    ChildProcess process{{program, "--port", "0", "--metrics-port", "0", "--jwt-secret", std::string(test_secret)}};
    std::uint16_t metrics_port = read_metrics_port();
    std::string url = read_listening_url(process, process_wait).value_or("");

    std::uint16_t read_metrics_port() {
        const std::optional<std::string> line = process.read_line_containing("metrics on ", process_wait);
        std::smatch match;
        if (!line || !std::regex_search(*line, match, std::regex(R"(metrics on http://127\.0\.0\.1:([0-9]+)/metrics$)")))
            return 0;
        return static_cast<std::uint16_t>(std::stoi(match[1]));
    }

    std::string metrics() const { return http_request(metrics_port, {"GET", "/metrics", {}, ""}).body; }

    /// `count` users online, one device each, registered (as /metrics says) when it returns.
    std::vector<std::unique_ptr<TestClient>> connect(std::size_t count) const {
        std::vector<std::unique_ptr<TestClient>> clients;
        for (std::size_t i = 0; i < count; ++i) {
            clients.push_back(std::make_unique<TestClient>());
            REQUIRE(clients.back()->connect(url, bearer(token_for(UserId::random()))));
        }
        const std::string expected = "switchboard_connections " + std::to_string(count);
        REQUIRE(eventually([&] { return has_line(metrics(), expected); }, process_wait));
        return clients;
    }

    void stop() {
        process.send_signal(SIGTERM);
        CHECK(process.wait_for_exit(process_wait) == 0);
    }
};

/// A loopback port free a moment ago (Prometheus takes its listen address on the command line).
std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

/// The value of a Prometheus instant query's single sample; nothing if Prometheus is not up, or the
/// query has no single sample yet.
std::optional<std::string> query_single_value(std::uint16_t port, const std::string& query) {
    try {
        const json answer = http_request(port, {"GET", "/api/v1/query?query=" + query, {}, ""}, 2s).json();
        const json& result = answer.at("data").at("result");
        if (result.size() != 1) return std::nullopt;
        return result[0].at("value").at(1).get<std::string>();
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

} // namespace

TEST_CASE("promtool check metrics accepts the program's /metrics with connections open",
          "[prometheus][program]") {
    Program server;
    REQUIRE(server.metrics_port != 0);
    REQUIRE_FALSE(server.url.empty());
    const auto clients = server.connect(3);

    TemporaryDirectory directory;
    const std::filesystem::path scraped = directory.path() / "metrics.txt";
    std::ofstream(scraped) << server.metrics();
    const Finished check =
        run_to_exit({"/bin/sh", "-c", "\"$0\" check metrics < \"$1\"", PROMTOOL_PATH, scraped.string()}, process_wait);
    INFO(check.out << check.err);
    CHECK(check.status == 0);
    CHECK(check.out + check.err == "");
    server.stop();
}

TEST_CASE("A Prometheus server scrapes the program, and its query API returns the connections open",
          "[prometheus][program]") {
    constexpr std::size_t connections = 5;
    Program server;
    REQUIRE(server.metrics_port != 0);
    const auto clients = server.connect(connections);

    TemporaryDirectory directory;
    const std::filesystem::path config = directory.path() / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                             "scrape_configs:\n  - job_name: switchboard\n    static_configs:\n"
                             "      - targets: ['127.0.0.1:" << server.metrics_port << "']\n";
    const std::uint16_t port = free_port();
    ChildProcess prometheus({PROMETHEUS_PATH, "--config.file=" + config.string(),
                             "--storage.tsdb.path=" + (directory.path() / "data").string(),
                             "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"});

    std::optional<std::string> seen;
    CHECK(eventually([&] { return (seen = query_single_value(port, "switchboard_connections")) == std::to_string(connections); },
                     30s));
    INFO("Prometheus last answered " << seen.value_or("nothing"));
    CHECK(seen == std::to_string(connections));

    prometheus.send_signal(SIGTERM);
    CHECK(prometheus.wait_for_exit(process_wait) == 0);
    server.stop();
}
