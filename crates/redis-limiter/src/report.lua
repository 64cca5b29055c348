-- After a "too fast" answer: pauses the lane KEYS[1] for every process until ARGV[1]
-- microseconds from now (Redis's clock).
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused'))
if not paused or paused < now + pause then
  redis.call('HSET', KEYS[1], 'paused', now + pause)
end
local ttl = math.ceil(pause / 1000) + 120000
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 0
