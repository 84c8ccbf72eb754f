-- wrk script (from shared/bench/gql.lua): POSTs the GraphQL document in env QUERY_FILE with a
-- random customer id from env IDS_FILE; extra header from env HDR ("Name: value"). Counts
-- responses that are not 200 or carry "errors", and prints one RESULT line.
local ids, query = {}, ""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
  local f = io.open(os.getenv("QUERY_FILE")); query = f:read("*a"); f:close()
  query = query:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", " ")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local h = os.getenv("HDR")
  if h and h ~= "" then local k, v = h:match("^([^:]+):%s*(.*)$"); wrk.headers[k] = v end
end
function request()
  local id = ids[math.random(#ids)]
  return wrk.format(nil, nil, nil, '{"query":"' .. query .. '","variables":{"id":"' .. id .. '"}}')
end
errors = 0
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"') then errors = errors + 1 end
end
function done(summary, latency, requests)
  local errs = 0
  for _, t in ipairs(threads) do errs = errs + (t:get("errors") or 0) end
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f mean_ms=%.3f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000,
    summary.requests, errs))
end
