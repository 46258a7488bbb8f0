// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "redis_server.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <system_error>

#include <asio/post.hpp>

namespace redis_test {

namespace {
std::uint16_t free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::system_error(errno, std::generic_category(), "free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}
} // namespace

RedisServer::RedisServer(std::uint16_t port, const std::string& data_dir)
    : port_(port ? port : free_loopback_port()) {
    std::vector<std::string> command{REDIS_SERVER_PATH, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no"};
    if (!data_dir.empty()) command.insert(command.end(), {"--dir", data_dir, "--dbfilename", "dump.rdb"});
    process_ = std::make_unique<integration::ChildProcess>(command);
    if (!process_->read_line_containing("Ready to accept connections")) {
        throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
    }
}

void RedisServer::kill() {
    process_->send_signal(SIGKILL);
    process_->wait_for_exit();
}

IoThread::IoThread() : work_(context_.get_executor()), thread_([this] { context_.run(); }) {}

IoThread::~IoThread() {
    work_.reset();
    context_.stop();
    thread_.join();
}

void IoThread::run(const std::function<void()>& call) {
    std::promise<void> done;
    asio::post(context_, [&] {
        call();
        done.set_value();
    });
    done.get_future().get();
}

std::string unique_prefix() {
    static std::atomic<int> counter{0};
    return "test:" + std::to_string(::getpid()) + ":" + std::to_string(counter++) + ":";
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

} // namespace redis_test
