-- Writes the value at the next position of the sequence, if the caller holds the lease (its
-- fencing token) and the position is the next one: a stale leader cannot write, and no
-- position is written twice. The id is Redis' time in ms, after the last id, the floor and
-- the highest id the leader has seen, so that ids increase whatever the instances' clocks
-- and after Redis lost its data. A value carried over from a state file keeps its id, and
-- goes only into an empty history.
-- Committed at once, the value goes straight into the values stream that every instance
-- follows. Staged (when values must wait for replicas), it goes into the pending hash, which
-- no client reads, until commit.lua moves it into the stream after the leader's WAIT. A value
-- staged for the position after the last one is kept rather than replaced, whoever staged it
-- and whatever position the caller asks for: after a failover it may have been committed on a
-- primary that is gone and seen by clients. The leader takes it over, with a write that its
-- WAIT then covers, and commits it before any other.
-- KEYS: lease, values, floor, pending
-- ARGV: lease, value, index, entries to keep at least, carried-over id or '', '1' to stage,
--       highest id the leader has seen
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
	return {'refused'}
end
local last_id, last_index, last_lease = 0, 0, ''
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 then
	last_id = tonumber(string.match(last[1][1], '^(%d+)'))
	local fields = last[1][2]
	for i = 1, #fields, 2 do
		if fields[i] == 'index' then
			last_index = tonumber(fields[i + 1])
		elseif fields[i] == 'lease' then
			last_lease = fields[i + 1]
		end
	end
end
local stage = ARGV[6] == '1'
if stage then
	local staged = redis.call('HMGET', KEYS[4], 'id', 'value', 'index')
	if staged[1] and tonumber(staged[1]) > last_id then
		local staged_index = tonumber(staged[3])
		if staged_index == last_index + 1 or (staged_index == 0 and #last == 0) then
			redis.call('HSET', KEYS[4], 'lease', ARGV[1])
			return {'staged', staged[1], staged[2], staged[3]}
		end
	end
end
local index = tonumber(ARGV[3])
local carried = ARGV[5] ~= ''
if carried then
	if #last > 0 or index ~= 0 then
		return {'position', tostring(last_index), last_lease}
	end
elseif index ~= last_index + 1 then
	return {'position', tostring(last_index), last_lease}
end
local floor = tonumber(redis.call('GET', KEYS[3]) or '0')
local id
if carried then
	id = tonumber(ARGV[5])
else
	local time = redis.call('TIME')
	id = math.max(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), last_id + 1, floor + 1,
		tonumber(ARGV[7]) + 1)
end
local entry = string.format('%.0f', id)
if id > floor then
	redis.call('SET', KEYS[3], entry)
end
if stage then
	redis.call('HSET', KEYS[4], 'id', entry, 'value', ARGV[2], 'index', ARGV[3], 'lease', ARGV[1])
	return {'staged', entry, ARGV[2], ARGV[3]}
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], entry .. '-0', 'value', ARGV[2], 'index', ARGV[3], 'lease', ARGV[1])
return {'appended', entry}
