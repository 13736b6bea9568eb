-- POST /configs with a new dcname each time. args: <run id> <metadata JSON>
bench_status = {}
local prefix, metadata
local counter = 0
local headers = { ['Content-Type'] = 'application/json' }

function init(args)
  prefix = args[1]
  metadata = args[2]
end

function request()
  counter = counter + 1
  local body = '{"dcname":"' .. prefix .. '-' .. counter .. '","metadata":' .. metadata .. '}'
  return wrk.format('POST', '/configs', headers, body)
end

function response(status)
  bench_status[status] = (bench_status[status] or 0) + 1
end
