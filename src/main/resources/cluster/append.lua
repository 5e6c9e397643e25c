-- Appends the value at the next position of the sequence, if the caller holds the lease
-- (its fencing token) and the position is the next one: a stale leader cannot write, and no
-- position is written twice. The id is Redis' time in ms, after the last id and the floor,
-- so that ids increase whatever the instances' clocks and after Redis lost its data. A value
-- carried over from a state file keeps its id, and goes only into an empty history.
-- KEYS: lease, values, floor
-- ARGV: lease, value, index, entries to keep at least, carried-over id or ''
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
local index = tonumber(ARGV[3])
local floor = tonumber(redis.call('GET', KEYS[3]) or '0')
local id
if ARGV[5] ~= '' then
	if #last > 0 or index ~= 0 then
		return {'position', tostring(last_index), last_lease}
	end
	id = tonumber(ARGV[5])
else
	if index ~= last_index + 1 then
		return {'position', tostring(last_index), last_lease}
	end
	local time = redis.call('TIME')
	id = math.max(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), last_id + 1, floor + 1)
end
local entry = string.format('%.0f', id)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], entry .. '-0', 'value', ARGV[2], 'index', ARGV[3], 'lease', ARGV[1])
if id > floor then
	redis.call('SET', KEYS[3], entry)
end
return {'appended', entry}
