// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

/// @file
/// Everything header-only in one include. The compiled parts (websocketpp transport, JWT)
/// have headers of their own.

#include <switchboard/auth.hpp>
#include <switchboard/auth/static_token.hpp>
#include <switchboard/backplane.hpp>
#include <switchboard/connection_id.hpp>
#include <switchboard/connection_manager.hpp>
#include <switchboard/event.hpp>
#include <switchboard/events.hpp>
#include <switchboard/transport.hpp>
#include <switchboard/user_id.hpp>
