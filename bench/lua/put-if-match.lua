-- PUT /configs/<name> with If-Match: the revision this script last saw for that name.
-- args: <file of "name revision" lines> <metadata JSON> <percent of requests that are writes>
-- With a write share under 100 (the read/write mix) the other requests GET a config of the pool.
-- A name is never written by two requests at once, nor read while written, so every If-Match
-- holds (a 412 is a fault) and an answer for a name being written is the write's answer.
bench_status = {}
local names, revisions, busy, reading = {}, {}, {}, {}
local metadata, write_percent
local next_write, next_read, counter = 0, 0, 0
local json_headers = { ['Content-Type'] = 'application/json' }

function init(args)
  for line in io.lines(args[1]) do
    local name, revision = line:match('^(%S+) (%d+)$')
    if name then
      table.insert(names, name)
      revisions[name] = revision
    end
  end
  metadata = args[2]
  write_percent = tonumber(args[3] or '100')
end

local function put()
  for _ = 1, #names do
    next_write = next_write % #names + 1
    local name = names[next_write]
    if not busy[name] and not reading[name] then
      busy[name] = true
      json_headers['If-Match'] = '"' .. revisions[name] .. '"'
      local body = '{"dcname":"' .. name .. '","metadata":' .. metadata .. '}'
      return wrk.format('PUT', '/configs/' .. name, json_headers, body)
    end
  end
  error('every name of the pool is being written: make the pool larger than the connections')
end

-- Spreads the writes evenly: one every 100/write_percent requests.
local function is_write()
  return math.floor(counter * write_percent / 100) > math.floor((counter - 1) * write_percent / 100)
end

function request()
  counter = counter + 1
  if is_write() then
    return put()
  end
  for _ = 1, #names do
    next_read = next_read % #names + 1
    local name = names[next_read]
    if not busy[name] then
      reading[name] = (reading[name] or 0) + 1
      return wrk.format('GET', '/configs/' .. name)
    end
  end
  error('every name of the pool is being written: make the pool larger than the connections')
end

function response(status, headers, body)
  bench_status[status] = (bench_status[status] or 0) + 1
  local etag = headers['etag'] or headers['ETag'] or headers['Etag']
  local name = body:match('^{"dcname":"([^"]+)"')
  if not name then
    return
  end
  if busy[name] then
    busy[name] = nil
    if etag then
      revisions[name] = etag:match('"(%d+)"')
    end
  elseif reading[name] then
    reading[name] = reading[name] > 1 and reading[name] - 1 or nil
  end
end
