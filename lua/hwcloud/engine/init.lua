-- hwcloud.engine: where a client's requests go out, and the contract both
-- engines keep.
--
--   hwcloud.engine.curl   libcurl's multi interface (the C core's
--                         core.transport), coroutines on one event loop
--   hwcloud.engine.ngx    nginx cosockets (hwcloud.transport.ngx_http),
--                         ngx.thread light threads
--   hwcloud.engine.limits the rate limit and 429 pauses, shared by both
--
-- The contract. An engine runs tasks; a task is function(engine) -> result, err.
--   engine:run(fns, concurrency) -> results: {result, err} (also [1], [2])
--     in the order of fns, at most `concurrency` tasks at once; a task that
--     raises ends the run and the error is raised again here, with nothing
--     sent after it.
--   engine:call(fn, ...) -> fn(engine, ...)'s two results: inline inside a
--     task of this engine, else a run of one.
--   engine:send(req) -> completion. req = {method, url, headers = list of
--     "Name: value" lines (signed as they are), body = string | nil,
--     opts = {timeout, connect_timeout, once, upload_pieces, download_file}}.
--     upload_pieces: the body as a list of strings and {path, offset,
--     length} spans of files, sent with its length known, each file read
--     as it goes (a multipart form); download_file: a 2xx answer's body
--     written there (the completion has file_bytes). `once`: the request must not
--     be sent twice (neither engine then resends it on a fresh connection
--     after a kept-alive one died). Redirects are never followed.
--   engine:sleep(seconds): waits without holding the other tasks.
--   engine:inside() -> whether the caller runs in one of its tasks.
-- A completion is {status, headers = {lower-case name = value}, body,
-- http_version?} or {error = "transport" | "timeout", message, code?,
-- sent}: `sent` is false only when no byte of the request can have reached
-- the server (the retry policy may then always try again).
--
-- Everything above the engine (build, sign, retry, decode: hwcloud.call)
-- is the same for both; nothing below it decides a retry.

local type, require, rawget = type, require, rawget

local _M = {}

-- of(env) -> the engine of a client's next run: the ngx one inside nginx
-- phases that allow cosockets (unless cfg.transport = "curl"), the curl one
-- otherwise; each made once per client.
function _M.of(env)
  local want = env.cfg.transport
  if want == "ngx" or (want == nil and env.ngx_ok and env.ngx_ok()) then
    if not env.ngx_engine then
      env.ngx_engine = require("hwcloud.engine.ngx").engine(env)
    end
    return env.ngx_engine
  end
  if not env.curl_engine then
    env.curl_engine = require("hwcloud.engine.curl").engine(env)
    env.transport = env.curl_engine.transport
  end
  return env.curl_engine
end

-- ngx_check(): inside nginx, how the client tells whether cosockets work
-- in the current phase (outside, nil: never).
function _M.ngx_check()
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and ngx.get_phase then
    return function() return require("hwcloud.engine.ngx").usable() end
  end
  return nil
end

return _M
