-- Shared by the write benchmarks (bench/writes/*.lua): customer ids from env IDS_FILE, the token
-- header from env HDR, a run id from env RUN_ID, a counter per wrk thread so every request gets
-- its own order id / idempotency key, and the RESULT line bench/writes.sh reads. A response
-- that is not 200, or carries "errors" or a non-empty userErrors, counts as an error.
local M = {}
M.ids = {}
local threads, counter = {}, 0
function M.setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function M.init(doc)
  for line in io.lines(os.getenv("IDS_FILE")) do M.ids[#M.ids + 1] = line end
  M.doc = doc:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", " ")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local h = os.getenv("HDR")
  if h and h ~= "" then local k, v = h:match("^([^:]+):%s*(.*)$"); wrk.headers[k] = v end
  math.randomseed(os.time() + (tid or 0) * 7919)
end
-- key: a new key unique in the run and across runs ("PREFIX-<run>-<thread>-<n>").
function M.key(prefix)
  counter = counter + 1
  return string.format("%s-%s-%d-%d", prefix, os.getenv("RUN_ID") or "0", tid or 0, counter)
end
function M.customer() return M.ids[math.random(#M.ids)] end
function M.body(input) return '{"query":"' .. M.doc .. '","variables":{"input":' .. input .. '}}' end
errors = 0
function M.response(status, headers, body)
  if status ~= 200 or body:find('"errors"') or not body:find('"userErrors":%[%]') then
    errors = errors + 1
    if errors == 1 then io.stderr:write("first failed response: " .. status .. " " .. body:sub(1, 300) .. "\n") end
  end
end
function M.done(summary, latency, requests)
  local errs = 0
  for _, t in ipairs(threads) do errs = errs + (t:get("errors") or 0) end
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f mean_ms=%.3f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000,
    summary.requests, errs))
end
return M
