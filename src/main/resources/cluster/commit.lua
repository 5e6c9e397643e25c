-- Commits the value staged by append.lua, once the leader's WAIT says that enough replicas
-- hold it: moves it into the values stream that every instance follows, so that no client
-- sees a value that a failover could lose. Fenced by the lease as the append is; a value
-- that is no longer staged (a failover lost it, or it was committed already) is not
-- committed again.
-- It commits nothing for a while (the settle time) after this primary lost a replica: while
-- Sentinel replaces a primary that still runs (a failover asked for, or
-- a primary that stalled and came back), the old primary keeps the replicas that Sentinel has
-- not moved yet, and their WAIT would let it commit values that the promoted replica, gone
-- from it, never gets.
-- KEYS: lease, values, pending, replication
-- ARGV: lease, id, entries to keep at least, settle time in ms
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
	return 'refused'
end
local staged = redis.call('HMGET', KEYS[3], 'id', 'value', 'index', 'lease')
if staged[1] ~= ARGV[2] or staged[4] ~= ARGV[1] then
	return 'gone'
end
local info = redis.call('INFO', 'replication')
local connected = tonumber(string.match(info, 'connected_slaves:(%d+)') or '0')
local replid = string.match(info, 'master_replid:(%w+)') or ''
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local seen = redis.call('HMGET', KEYS[4], 'replid', 'replicas', 'until')
if seen[1] ~= replid then
	-- A new primary (a promotion, a restart) counts its replicas from here: it needs no
	-- settle time, since its WAIT has only the replicas that follow it
	redis.call('HSET', KEYS[4], 'replid', replid, 'replicas', connected, 'until', 0)
elseif connected < tonumber(seen[2]) then
	redis.call('HSET', KEYS[4], 'replicas', connected, 'until', now + tonumber(ARGV[4]))
	return 'settling'
else
	if connected > tonumber(seen[2]) then
		redis.call('HSET', KEYS[4], 'replicas', connected)
	end
	if now < tonumber(seen[3]) then
		return 'settling'
	end
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 and tonumber(string.match(last[1][1], '^(%d+)')) >= tonumber(ARGV[2]) then
	redis.call('DEL', KEYS[3])
	return 'gone'
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], ARGV[2] .. '-0', 'value', staged[2], 'index', staged[3], 'lease', ARGV[1])
redis.call('DEL', KEYS[3])
return 'committed'
