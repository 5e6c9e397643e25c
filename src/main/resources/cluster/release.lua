-- Hands the lead over at shutdown: the leader leaves the instances present and, if another
-- one is there to take it, empties its lease and tells the followers on the control stream,
-- so that one takes it at once instead of waiting for it to expire. Alone, it keeps the
-- lease and goes on producing, unless it is closing.
-- KEYS: lease, control, members
-- ARGV: lease, holder, '1' when the sequence closes (empty the lease even if alone)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
	return 'not-held'
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREM', KEYS[3], ARGV[2])
if ARGV[3] ~= '1' and redis.call('ZCOUNT', KEYS[3], now, '+inf') == 0 then
	return 'alone'
end
redis.call('DEL', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '16', '*', 'released', ARGV[1])
return 'released'
