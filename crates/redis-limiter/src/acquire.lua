-- Reserves the earliest allowed send time for one call and answers how long to wait for it,
-- atomically, with the clock of Redis (never the hosts'). The same arithmetic as the
-- in-process tim_core::RateLimiter: GCRA without burst (one call every `spacing`), calls more
-- than `gap` apart, a per-minute budget paced evenly and never exceeded in a sliding window
-- (an exact log of the units handed out), and a budget per UTC day.
--
-- KEYS[1] the lane (a hash), KEYS[2] the units of the last minute (a sorted set: `seq:cost`
-- scored by send time). Times are microseconds since the Unix epoch.
-- ARGV: spacing, gap, per-minute budget (0: none), window, cost, per-day budget (0: none).
-- Answers {wait} or {-1, per_day, time until the next UTC day}.
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local spacing = tonumber(ARGV[1])
local gap = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local per_day = tonumber(ARGV[6])
local lane = KEYS[1]
local h = redis.call('HMGET', lane, 'next', 'last', 'paused', 'next_unit', 'used', 'day', 'day_count')
local at = now
local function later(v)
  v = tonumber(v)
  if v and v > at then at = v end
end
later(h[3])
later(h[1])
local last = tonumber(h[2])
if gap > 0 and last then later(last + gap) end
local used = tonumber(h[5]) or 0
if budget > 0 then
  if cost > budget then cost = budget end
  later(h[4])
  -- Make room in the sliding window that ends at the send time (oldest units first).
  local need = used + cost - budget
  local freed = 0
  local i = 0
  while freed < need do
    local e = redis.call('ZRANGE', KEYS[2], i, i, 'WITHSCORES')
    if #e == 0 then break end
    freed = freed + tonumber(string.match(e[1], ':(%d+)$'))
    later(tonumber(e[2]) + window)
    i = i + 1
  end
end
local day = math.floor(at / 86400000000)
local day_count = 0
if per_day > 0 then
  local stored = tonumber(h[6])
  if stored and stored >= day then
    day = stored
    day_count = tonumber(h[7]) or 0
  end
  if day_count + 1 > per_day then
    return {-1, per_day, (day + 1) * 86400000000 - now}
  end
end
if budget > 0 then
  local cutoff = at - window
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cutoff)
  for _, m in ipairs(expired) do
    used = used - tonumber(string.match(m, ':(%d+)$'))
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff) end
  if used < 0 then used = 0 end
  local seq = redis.call('HINCRBY', lane, 'seq', 1)
  redis.call('ZADD', KEYS[2], at, seq .. ':' .. cost)
  used = used + cost
  redis.call('HSET', lane, 'next_unit', at + math.floor(window * cost / budget), 'used', used)
  redis.call('PEXPIRE', KEYS[2], math.ceil((at - now + window) / 1000) + 60000)
end
if per_day > 0 then
  redis.call('HSET', lane, 'day', day, 'day_count', day_count + 1)
end
redis.call('HSET', lane, 'last', at)
if spacing > 0 then redis.call('HSET', lane, 'next', at + spacing) end
local ttl = math.ceil((at - now + window) / 1000) + 120000
if per_day > 0 then ttl = ttl + 2 * 86400000 end
if redis.call('PTTL', lane) < ttl then redis.call('PEXPIRE', lane, ttl) end
return {at - now}
