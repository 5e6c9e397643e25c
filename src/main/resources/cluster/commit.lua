-- Commits the value staged by append.lua, once the leader's WAIT says that enough replicas
-- hold it: moves it into the values stream that every instance follows, so that no client
-- sees a value that a failover could lose. Fenced by the lease as the append is; a value
-- that is no longer staged (a failover lost it, or it was committed already) is not
-- committed again.
-- KEYS: lease, values, pending
-- ARGV: lease, id, entries to keep at least
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
	return 'refused'
end
local staged = redis.call('HMGET', KEYS[3], 'id', 'value', 'index', 'lease')
if staged[1] ~= ARGV[2] or staged[4] ~= ARGV[1] then
	return 'gone'
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 and tonumber(string.match(last[1][1], '^(%d+)')) >= tonumber(ARGV[2]) then
	redis.call('DEL', KEYS[3])
	return 'gone'
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], ARGV[2] .. '-0', 'value', staged[2], 'index', staged[3], 'lease', ARGV[1])
redis.call('DEL', KEYS[3])
return 'committed'
