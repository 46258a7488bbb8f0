// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// A throwaway self-signed certificate for wss:// tests, made with OpenSSL at test time into a
// temporary directory that is removed afterwards.

#include <filesystem>

#include <switchboard/transport/websocketpp.hpp>

namespace integration {

/// A fresh directory under the system's temporary directory, removed with everything in it.
class TemporaryDirectory {
public:
    TemporaryDirectory();
    ~TemporaryDirectory();
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// Writes a P-256 key and a self-signed certificate for CN=localhost, valid for a day, as PEM
/// files in `directory`; returns them as the transport's TLS options.
/// @throws std::runtime_error when OpenSSL fails.
switchboard::TlsOptions write_self_signed_certificate(const std::filesystem::path& directory);

} // namespace integration
