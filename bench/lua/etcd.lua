-- etcd's JSON gateway: POST /v3/kv/put and /v3/kv/range, keys and values base64.
-- args: <mode: new|pool> <run id> <pool size> <value JSON> <percent of requests that are writes>
-- "new" puts a new key each time (as POST /configs); "pool" overwrites keys of a pool (as PUT),
-- and with a write share under 100 ranges one key of the pool for the other requests.
bench_status = {}
local mode, prefix, pool_size, value_b64, write_percent
local counter, next_key = 0, 0
local headers = { ['Content-Type'] = 'application/json' }
local alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

local function base64(data)
  return ((data:gsub('.', function(c)
    local byte, bits = c:byte(), ''
    for i = 8, 1, -1 do
      bits = bits .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and '1' or '0')
    end
    return bits
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(bits)
    if #bits < 6 then
      return ''
    end
    local n = 0
    for i = 1, 6 do
      n = n + (bits:sub(i, i) == '1' and 2 ^ (6 - i) or 0)
    end
    return alphabet:sub(n + 1, n + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end

function init(args)
  mode, prefix, pool_size = args[1], args[2], tonumber(args[3])
  value_b64 = base64(args[4])
  write_percent = tonumber(args[5] or '100')
end

-- Spreads the writes evenly: one every 100/write_percent requests.
local function is_write()
  return math.floor(counter * write_percent / 100) > math.floor((counter - 1) * write_percent / 100)
end

function request()
  counter = counter + 1
  local key
  if mode == 'new' then
    key = 'configs/' .. prefix .. '-' .. counter
  else
    next_key = next_key % pool_size + 1
    key = 'configs/' .. prefix .. '-' .. next_key
  end
  if is_write() then
    local body = '{"key":"' .. base64(key) .. '","value":"' .. value_b64 .. '"}'
    return wrk.format('POST', '/v3/kv/put', headers, body)
  end
  return wrk.format('POST', '/v3/kv/range', headers, '{"key":"' .. base64(key) .. '"}')
end

function response(status)
  bench_status[status] = (bench_status[status] or 0) + 1
end
