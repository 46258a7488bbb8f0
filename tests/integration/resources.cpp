// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "resources.hpp"

#include <fstream>
#include <stdexcept>
#include <string>

namespace integration {

std::size_t resident_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024; // "VmRSS:  12345 kB"
    throw std::runtime_error("no VmRSS in /proc/self/status");
}

} // namespace integration
