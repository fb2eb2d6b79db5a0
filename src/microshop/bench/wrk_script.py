"""The Lua script that makes wrk send one scenario's requests and report like the
aiohttp engine: written per run from the scenario's RequestPattern.

    request()   method, path, headers and body of the next request: the next bearer
                token of the users' pool, a fresh Idempotency-Key (run nonce, thread,
                counter), `Prefer: wait=N` for checkout
    response()  counts statuses; counts a request as ok only when its status (and,
                for checkout, the order's status in the body) is the expected one
    done()      prints one JSON line: requests, duration, statuses, ok, error labels,
                socket errors and latency percentiles in µs (parsed by wrk_result.py)

wrk's Lua is LuaJIT (Lua 5.1): no JSON library, so checkout's body is read with a
pattern; OrderPublic has one `status` field at the top level.
"""

from string import Template

from microshop.bench.scenarios import RequestPattern

LUA = Template(r"""-- Written by microshop bench (bench/wrk_script.py) for one run: $kind.
local method = $method
local paths = {$paths}
local body = $body
local base_headers = {$headers}
local tokens = {$tokens}
local fresh_idempotency_key = $fresh_idempotency_key
local nonce = $nonce
local expect_status = $expect_status
local expect_order_status = $expect_order_status
local cap = $cap

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

function init(args)
   sent, answered, ok = 0, 0, 0
   statuses, labels = {}, {}
end

function request()
   sent = sent + 1
   local headers = {}
   for name, value in pairs(base_headers) do headers[name] = value end
   if #tokens > 0 then
      headers["Authorization"] = "Bearer " .. tokens[(sent + thread_number) % #tokens + 1]
   end
   if fresh_idempotency_key then
      headers["Idempotency-Key"] = string.format("%s-%d-%d", nonce, thread_number, sent)
   end
   return wrk.format(method, paths[(sent - 1) % #paths + 1], headers, body)
end

-- An error label as the aiohttp engine names it: the status, or the status and the
-- order's status ("201 pending"); only characters that need no escaping in JSON.
local function error_label(status, response_body)
   if status ~= expect_status then return tostring(status) end
   if expect_order_status == nil then return nil end
   local order_status = response_body and string.match(response_body, '"status"%s*:%s*"([^"]*)"')
   if order_status == nil then return status .. " unreadable body" end
   if order_status == expect_order_status then return nil end
   return status .. " " .. string.gsub(order_status, "[^%w _.-]", "?")
end

function response(status, headers, response_body)
   answered = answered + 1
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   local label = error_label(status, response_body)
   if label == nil then ok = ok + 1 else labels[label] = (labels[label] or 0) + 1 end
   if cap > 0 and answered >= cap then wrk.thread:stop() end
end

local function merged(name)
   local all = {}
   for _, thread in ipairs(threads) do
      for key, count in pairs(thread:get(name) or {}) do all[key] = (all[key] or 0) + count end
   end
   return all
end

local function json_counts(counts)
   local parts = {}
   for key, count in pairs(counts) do table.insert(parts, string.format('"%s":%d', key, count)) end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local ok_total = 0
   for _, thread in ipairs(threads) do ok_total = ok_total + (thread:get("ok") or 0) end
   local e = summary.errors
   io.write(string.format(
      '{"engine":"wrk","requests":%d,"duration_us":%d,"ok":%d,"statuses":%s,"labels":%s,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"p99.9":%d,"mean":%.1f,"max":%d}}\n',
      summary.requests, summary.duration, ok_total,
      json_counts(merged("statuses")), json_counts(merged("labels")),
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(95), latency:percentile(99),
      latency:percentile(99.9), latency.mean, latency.max))
end
""")


def lua_string(text: str) -> str:
    """A Lua string literal: every byte that is not plain printable ASCII escaped."""
    escaped = []
    for byte in text.encode():
        char = chr(byte)
        plain = 32 <= byte < 127 and char not in '"\\'
        escaped.append(char if plain else f"\\{byte:03d}")
    return '"' + "".join(escaped) + '"'


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(lua_string(item) for item in items)


def lua_script(pattern: RequestPattern, nonce: str, cap_per_thread: int = 0) -> str:
    """The script for one run; `nonce` keeps its Idempotency-Keys apart from any other
    run's, `cap_per_thread` (0: none) stops each thread after that many answers."""
    headers = ", ".join(
        f"[{lua_string(name)}] = {lua_string(value)}" for name, value in pattern.headers.items()
    )
    return LUA.substitute(
        kind=pattern.kind,
        method=lua_string(pattern.method),
        paths=_list(pattern.paths),
        body=lua_string(pattern.body.decode()) if pattern.body is not None else "nil",
        headers=headers,
        tokens=_list(pattern.tokens),
        fresh_idempotency_key="true" if pattern.fresh_idempotency_key else "false",
        nonce=lua_string(nonce),
        expect_status=pattern.expect_status,
        expect_order_status=lua_string(pattern.expect_order_status)
        if pattern.expect_order_status
        else "nil",
        cap=cap_per_thread,
    )
