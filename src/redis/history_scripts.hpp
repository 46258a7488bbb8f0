// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The Lua scripts of RedisHistory. KEYS[1] is the user's meta hash (epoch, top), KEYS[2] their
// stream. Redis runs one script at a time, so each decides on a consistent state.

#include <string>

namespace switchboard::redis::detail::history_scripts {

/// Makes the meta with the new epoch ARGV[1] and top 0 when it is missing, deleting a stream left
/// without it (its numbering is gone); refreshes the meta's expiry (ARGV[2] ms, 0: none).
inline const std::string ensure_meta = R"lua(
local meta, stream = KEYS[1], KEYS[2]
local created = 0
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'epoch', epoch, 'top', 0)
  created = 1
end
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', meta, ARGV[2]) end
)lua";

/// The stream's epoch, top and whether this call made it.
inline const std::string open = ensure_meta + R"lua(
return {epoch, tonumber(redis.call('HGET', meta, 'top')), created}
)lua";

/// Appends the event ARGV[5] at the next offset, trimmed to exactly ARGV[3] entries (0: no
/// limit), the stream expiring ARGV[4] ms from now (0: never); then, unless ARGV[6] is empty,
/// publishes it on channel ARGV[6] as `ARGV[7]<epoch>:<offset>\n<event>` (ARGV[7] is
/// `stream_envelope_head` of backplane_wire.hpp), in the same script, so that every node hears
/// each offset once the stream holds it. Returns as `open` does.
inline const std::string append = ensure_meta + R"lua(
local top = redis.call('HINCRBY', meta, 'top', 1)
local offset = string.format('%d', top)
local id = offset .. '-0'
if ARGV[3] == '0' then
  redis.call('XADD', stream, id, 'e', ARGV[5])
else
  redis.call('XADD', stream, 'MAXLEN', ARGV[3], id, 'e', ARGV[5])
end
if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', stream, ARGV[4]) end
if ARGV[6] ~= '' then
  redis.call('PUBLISH', ARGV[6], ARGV[7] .. epoch .. ':' .. offset .. '\n' .. ARGV[5])
end
return {epoch, top, created}
)lua";

/// Gives the stream a new epoch ARGV[1] at top 0, its events deleted, unless ARGV[4] is '0' and
/// the meta carries the mark ARGV[3] (this node renewed it already); a renewed meta carries the
/// mark ARGV[3] (if not empty) and expires ARGV[2] ms from now (0: never). 1 if renewed.
inline const std::string renew = R"lua(
local meta, stream, mark = KEYS[1], KEYS[2], ARGV[3]
if ARGV[4] == '0' and redis.call('HGET', meta, 'renewal') == mark then return 0 end
redis.call('DEL', meta, stream)
redis.call('HSET', meta, 'epoch', ARGV[1], 'top', 0)
if mark ~= '' then redis.call('HSET', meta, 'renewal', mark) end
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', meta, ARGV[2]) end
return 1
)lua";

/// The events with ids ARGV[2]..ARGV[3], if the stream is in epoch ARGV[1] and holds all ARGV[4]
/// of them; nil otherwise.
inline const std::string read = R"lua(
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return false end
local entries = redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[3])
if #entries ~= tonumber(ARGV[4]) then return false end
local events = {}
for i, entry in ipairs(entries) do events[i] = entry[2][2] end
return events
)lua";

} // namespace switchboard::redis::detail::history_scripts
