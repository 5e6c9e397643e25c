-- Takes the lead of the sequence for one instance if nobody holds it, with a fencing token
-- that no other lease had, not even before Redis lost its data (the epoch is new then).
-- Whatever the outcome, it raises the id floor to the highest id the instance has seen and
-- marks the instance present (a follower the leader may hand over to) until its lease time.
-- KEYS: lease, values, meta, members, floor, tokens
-- ARGV: holder, lease in ms, settings (period, bound, seed), highest id seen, a new epoch
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local seen = tonumber(ARGV[4])
if seen > tonumber(redis.call('GET', KEYS[5]) or '0') then
	redis.call('SET', KEYS[5], ARGV[4])
end
local held = redis.call('GET', KEYS[1])
local settings = redis.call('HGET', KEYS[3], 'settings')
if settings and settings ~= ARGV[3] then
	-- The settings are those of the instances present; with none present, a leader's
	-- new settings become the cluster's
	redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
	redis.call('ZREM', KEYS[4], ARGV[1])
	if held or redis.call('ZCARD', KEYS[4]) > 0 then
		return {'mismatch', settings}
	end
	redis.call('HSET', KEYS[3], 'settings', ARGV[3])
end
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), ARGV[1])
if held then
	return {'held', tostring(redis.call('PTTL', KEYS[1]))}
end
local epoch = redis.call('HGET', KEYS[3], 'epoch')
if not epoch then
	epoch = ARGV[5]
	redis.call('HSET', KEYS[3], 'settings', ARGV[3], 'epoch', epoch)
end
local lease = ARGV[1] .. '/' .. epoch .. '/' .. redis.call('INCR', KEYS[6])
redis.call('SET', KEYS[1], lease, 'PX', ARGV[2])
local last_id, last_index = '0', '0'
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 then
	last_id = string.match(last[1][1], '^(%d+)')
	local fields = last[1][2]
	for i = 1, #fields, 2 do
		if fields[i] == 'index' then
			last_index = fields[i + 1]
		end
	end
end
return {'taken', lease, string.format('%.0f', now), last_id, last_index}
