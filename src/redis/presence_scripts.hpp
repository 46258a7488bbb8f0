// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#pragma once

// The Lua scripts that decide cluster-wide presence in Redis, atomically. Keys, under `<prefix>`:
// - `<prefix>.presence.user.<user>`: hash, node id -> 1, for each node holding a connection of the user;
// - `<prefix>.presence.node.<node>`: set of the users that node holds (to remove them when it goes);
// - `<prefix>.presence.nodes`: sorted set, node id -> when it last beat (Redis' clock, ms);
// - `<prefix>.presence.online`: set of the users online anywhere (for the cluster-wide queries).
// A user's first node added publishes `1<user>` on `<prefix>.presence`, the last removed `0<user>`:
// the events come out of Redis in the order it decided them, so every node sees them in one order.
//
// Every script takes ARGV[1] = prefix, ARGV[2] = this node's id. The keys are built inside the
// scripts, so they need every key they touch on one Redis instance (not Redis Cluster). With
// several shards each runs them on its own instance, over the users the ring puts there
// (sharded_presence.hpp): the keys are the same names, each holding that shard's part.

namespace switchboard::redis::detail::scripts {

inline constexpr const char* prelude = R"lua(
local prefix, self = ARGV[1], ARGV[2]
local nodes, online, channel = prefix .. '.presence.nodes', prefix .. '.presence.online', prefix .. '.presence'
local function user_key(user) return prefix .. '.presence.user.' .. user end
local function node_key(node) return prefix .. '.presence.node.' .. node end
local function join(node, user)
  if redis.call('HSET', user_key(user), node, 1) == 1 then
    redis.call('SADD', node_key(node), user)
    if redis.call('HLEN', user_key(user)) == 1 then
      redis.call('SADD', online, user)
      redis.call('PUBLISH', channel, '1' .. user)
    end
  end
end
local function leave(node, user)
  if redis.call('HDEL', user_key(user), node) == 1 then
    redis.call('SREM', node_key(node), user)
    if redis.call('HLEN', user_key(user)) == 0 then
      redis.call('SREM', online, user)
      redis.call('PUBLISH', channel, '0' .. user)
    end
  end
end
local function remove_node(node)
  for _, user in ipairs(redis.call('SMEMBERS', node_key(node))) do leave(node, user) end
  redis.call('DEL', node_key(node))
  redis.call('ZREM', nodes, node)
end
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
)lua";

/// ARGV[3..]: `+<user>` or `-<user>`, this node's transitions in order.
inline constexpr const char* apply = R"lua(
for i = 3, #ARGV do
  local user = string.sub(ARGV[i], 2)
  if string.sub(ARGV[i], 1, 1) == '+' then join(self, user) else leave(self, user) end
end
return 0
)lua";

/// ARGV[3] = n, ARGV[4..3+n]: every user this node holds now; then the users it told Redis of
/// before and holds no more. Afterwards Redis says exactly that of this node, which beats now:
/// users it held no more go offline (if last), users new to it come online (if first). A user
/// who left while Redis lost its data is announced offline unless another node holds them now.
inline constexpr const char* sync = R"lua(
local count, held = tonumber(ARGV[3]), {}
for i = 4, 3 + count do held[ARGV[i]] = true end
for i = 4 + count, #ARGV do -- before the leaves below, which would make them look lost
  if redis.call('HLEN', user_key(ARGV[i])) == 0 and redis.call('SISMEMBER', online, ARGV[i]) == 0 then
    redis.call('PUBLISH', channel, '0' .. ARGV[i])
  end
end
for _, user in ipairs(redis.call('SMEMBERS', node_key(self))) do
  if not held[user] then leave(self, user) end
end
for i = 4, 3 + count do join(self, ARGV[i]) end
redis.call('ZADD', nodes, now_ms(), self)
return 0
)lua";

/// ARGV[3] = ms of silence after which a node is dead. Beats, then removes every dead node's
/// users (one script at a time: a dead node is removed by exactly one survivor). Returns 1 when
/// this node was not known (Redis lost its data, or this node was taken for dead): it must sync.
inline constexpr const char* beat = R"lua(
local now = now_ms()
local unknown = redis.call('ZADD', nodes, now, self)
for _, node in ipairs(redis.call('ZRANGEBYSCORE', nodes, '-inf', now - tonumber(ARGV[3]))) do
  remove_node(node)
end
return unknown
)lua";

/// This node leaves the cluster: its users go offline where it held their last connection.
inline constexpr const char* leave_cluster = R"lua(
remove_node(self)
return 0
)lua";

} // namespace switchboard::redis::detail::scripts
