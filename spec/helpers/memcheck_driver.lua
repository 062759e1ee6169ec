-- Drives every path of the C core once or more, for valgrind to watch:
-- signing (good and misused), marshaling and validation (good and bad),
-- the JSON reader, and the transport against the emulator
-- (answers, service errors, refused connections, timeouts, dropped and
-- truncated answers, oversized bodies, a fan-out, and transports collected
-- or closed with requests still in flight), and the file streams of object
-- storage (put from a file, get to a file, ranges, parts at offsets, the
-- MD5 on and off, a multipart form from a file, files refused before
-- sending, a file that shrinks while it is sent, a disk that is full).
--   lua5.4 spec/helpers/memcheck_driver.lua <emulator url> <ak> <sk> <scratch dir>

local url, ak, sk, dir = arg[1], arg[2], arg[3], arg[4]
assert(url and ak and sk and dir, "usage: memcheck_driver.lua URL AK SK DIR")

local core = require "hwcloud.core"
local hwcloud = require "hwcloud"
local services = require "hwcloud.services"

local function admin(path, body)
  local cmd = string.format("curl -fsS -X POST -H 'Content-Type: application/json' -d '%s' %s%s",
    body or "{}", url, path)
  local p = assert(io.popen(cmd))
  p:read("*a")
  p:close()
end

-- signing, including every misuse path (nil, field, message from C, or
-- an error raised there)
local token_of = { [0] = "tok" } -- every other one with a security token
for i = 1, 50 do
  assert(core.sign("POST", "https://h.example.com:8443/v1/p/x%20y/?b=2&a=1&a=&c", {
    ["Content-Type"] = "application/json", ["X-Project-Id"] = "p" .. i,
    ["X-Security-Token"] = "old",
  }, string.rep("x", i * 10), "AK", "SK", token_of[i % 2], { "User-Agent: m" }))
end
assert(core.sign("GET", "no-host", {}, nil, "AK", "SK") == nil)
assert(core.sign("GET", "https://h/", { ["X-A"] = {} }, nil, "AK", "SK") == nil)
assert(core.sign("GET", "https://h/", { ["X-A"] = "1", ["x-a"] = "2" }, nil, "AK", "SK") == nil)
assert(not pcall(core.sign, "GET", "https://h/", {}, nil, "AK", "SK", nil, "not a list"))
assert(core.sign("GET", "https://h/", {}, "b", "AK", "SK", nil, nil, nil, "SDK-HMAC-SM3"))
assert(core.sign("GET", "https://h/", {}, "b", string.rep("k", 200), "SK", nil, nil, nil, "V11-HMAC-SHA256", "r/s"))
assert(core.sign("GET", "https://h/", {}, nil, "AK", "SK", nil, nil, nil, "nope") == nil)
local many = {}
for i = 1, 500 do many["X-H-" .. i] = "v" .. i end
assert(core.sign("GET", "https://h/?" .. string.rep("a%41=b&", 200), many, nil, "AK", "SK"))
assert(hwcloud.sign({ method = "get", url = "https://h/x", headers = { ["X-N"] = 1 } },
  { ak = "AK", sk = "SK", security_token = "t" }))
assert(not hwcloud.sign({ method = "GET", url = "https://h/a b" }, { ak = "AK", sk = "SK" }))

-- the URL parser
for _, u in ipairs({ "https://u:p@[::1]:8443/x?y#z", "http://h", "https://h:99999/", "h/x", "https://[zz]/" }) do
  core.parse_url(u)
end

-- marshaling: good and bad requests for every operation's shape
local asm = services.load("asm")
local ws = asm.operations.create_workshop
local good = { mesh_id = "m/1", description = "d\"\n\1é", metadata = { name = "n" },
               spec = { primaryCluster = "c", ingress = { elbId = "e", elbIp = "i", port = 80 } } }
for _ = 1, 50 do assert(core.build(ws, good, "p")) end
local bads = {
  { mesh_id = "m" },
  { mesh_id = "", metadata = { name = "n" }, spec = good.spec },
  { mesh_id = "m", metadata = { name = "n" }, spec = { primaryCluster = "c",
    ingress = { elbId = "e", elbIp = "i", port = 1.5 } } },
  { mesh_id = "m", metdata = {} },
  { mesh_id = "..", metadata = { name = "n" }, spec = good.spec },
}
for _, b in ipairs(bads) do assert(core.build(ws, b, "p") == nil) end
local deep = {}
local t = deep
for _ = 1, 100 do t.x = {} t = t.x end
local rts = services.load("rts").operations.create_software_deployment
assert(core.build(rts, { config_id = "c", server_id = "s", input_values = deep }, "p") == nil)
assert(core.build(rts, { config_id = "c", server_id = "s",
  input_values = { a = { 1, 2, { b = hwcloud.null } }, s = "\xff" } }, "p") == nil)
assert(not pcall(core.build, "not a table", {}, "p"))
-- the JSON reader: values of every kind, escapes, a table past the first
-- batch, and refusals at every stage (a string, a nested container)
local function reader()
  local doc, whole = core.decode('{"a":[1,2.0,-3e2,"x\\u00e9\\ud83d\\ude00\\n",true,false,null],'
    .. '"big":9223372036854775807,"o":{"k":{}}}')
  assert(doc.a[4] == "x\u{e9}\u{1F600}\n" and doc.big == math.maxinteger and whole == 2)
  assert(#core.decode("[" .. string.rep("1,", 100) .. "1]") == 101)
  for _, bad in ipairs { '{"a":[1,"b', '{"a":"\\u12', "[1,]", '{"k":"v" "x"}', "1e", "" } do
    assert(core.decode(bad) == nil)
  end
end
reader()
-- the head parser (whole, repeated names, cut short, refused) and the
-- signer's line form
assert(core.parse_head("HTTP/1.1 200 OK\r\nA: 1\r\na: 2\r\n" .. string.rep("X" .. string.rep("n", 80)
  .. ": v\r\n", 3) .. "\r\n", 1, 8192, 65536, 100) == 200)
assert(core.parse_head("HTTP/1.1 200 OK\r\nA: 1\r\n", 1, 8192, 65536, 100) == nil)
assert(core.parse_head("HTTP/1.1 2000 OK\r\n\r\n", 1, 8192, 65536, 100) == false)
assert(core.parse_head("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", 1, 8192, 65536, 1) == false)
assert(#core.sign("POST", url .. "/x", { ["Content-Type"] = "application/json" }, "{}",
  ak, sk, nil, { "Accept: application/json" }) == 5)
assert(core.sign("POST", url .. "/x", { a = "1", A = "2" }, nil, ak, sk, nil, {}) == nil)

-- the transport through the client
local c = assert(hwcloud.client { endpoint = url, ak = ak, sk = sk, project_id = "p1",
                                  progress = false, timeout = 2, retries = 1, retry_base = 0 })
local job = assert(c.workspaceapp:reinstall_server { server_id = "s1" })
assert(c.workspaceapp:show_job_detail { job_id = job.job_id })
assert(c.asm:create_workshop(good) or true)
assert(c.asm:list_workshops { mesh_id = "m/1" })
assert(c.workspaceapp:show_job_detail { job_id = "missing" } == nil)                -- 404
admin("/_emulator/faults", '{"operation":"workspaceapp.show_job_detail","count":1,"drop":true}')
assert(c.workspaceapp:show_job_detail { job_id = job.job_id })                     -- retried
admin("/_emulator/faults", '{"operation":"workspaceapp.reinstall_server","count":1,"truncate":true}')
assert(c.workspaceapp:reinstall_server { server_id = "s2" } == nil)
admin("/_emulator/faults", '{"operation":"workspaceapp.reinstall_server","count":1,"malformed":true}')
assert(c.workspaceapp:reinstall_server { server_id = "s3" } == nil)
admin("/_emulator/faults", '{"operation":"workspaceapp.reinstall_server","count":1,"delay_ms":3000}')
local _, terr = c.workspaceapp:reinstall_server { server_id = "s4" }
assert(terr and terr.kind == "timeout", tostring(terr))
local calls = {}
for i = 1, 100 do calls[i] = { "workspaceapp", "reinstall_server", { server_id = "f" .. i } } end
for _, r in ipairs(c:parallel(calls, { concurrency = 16 })) do assert(r.result, tostring(r.err)) end

local small = assert(hwcloud.client { endpoint = url, ak = ak, sk = sk, project_id = "p1",
                                      max_response = 16, retries = 0 })
assert(small.asm:list_workshops { mesh_id = "m/1" } == nil)
local refused = assert(hwcloud.client { endpoint = "http://127.0.0.1:1", ak = ak, sk = sk,
                                        project_id = "p1", retries = 0 })
assert(refused.workspaceapp:show_job_detail { job_id = "x" } == nil)

-- transports torn down with requests in flight: explicit close and GC
for _, close in ipairs { true, false } do
  local tr = core.transport { timeout = 5 }
  for i = 1, 8 do
    -- every other one with a body large enough to be referenced, not copied
    local body = i % 2 == 0 and "{}" or ('{"pad":"' .. string.rep("x", 100 * 1024) .. '"}')
    assert(tr:submit(i, "POST", url .. "/v1/p1/app-servers/s/actions/reinstall",
      { "Content-Type: application/json" }, body))
  end
  tr:poll(1)
  if close then
    tr:close()
    tr:close()
  end
  tr = nil -- luacheck: ignore
  collectgarbage()
end
-- object storage: every stream of the transport (stream.c)
local util = require "spec.helpers.util"
local write, read = util.write_file, util.read_file
local chunks = {}
for i = 1, 600 do chunks[i] = string.format("%07d", i * 7919) .. string.rep(string.char(i % 256), 993) end
local data = table.concat(chunks) -- 600,000 bytes, not one repeated block
local src, got, cp = dir .. "/src.bin", dir .. "/got.bin", dir .. "/upload.checkpoint"
local B = "memcheck"

-- through client.obs, the MD5 taken and not
local function obs_library()
  write(src, data)
  assert(core.file_digest("md5", src) == core.digest("md5", data))
  assert(core.hasher("sha256"):update(data):update(""):final() == core.digest("sha256", data))
  assert(core.file_digest("md5", dir .. "/missing") == nil)
  assert(c.obs:create_bucket { bucket = B })
  for _, check in ipairs { true, false } do
    -- put from a file, get to a file and to memory
    assert(c.obs:put_object { bucket = B, key = "whole", file = src, checksum = check })
    local res = assert(c.obs:get_object { bucket = B, key = "whole", file = got, checksum = check })
    assert(res.size == #data and read(got) == data)
    assert(assert(c.obs:get_object { bucket = B, key = "whole", checksum = check }).body == data)
    -- ranges, to a file and to memory
    assert(c.obs:get_object { bucket = B, key = "whole", file = got, range = "bytes=1000-299999",
      checksum = check })
    assert(read(got) == data:sub(1001, 300000))
    assert(assert(c.obs:get_object { bucket = B, key = "whole", range = "bytes=-5" }).body == data:sub(-5))
    -- parts read from offsets of the file, with a checkpoint; parts
    -- written at offsets of one file
    os.remove(cp)
    assert(c.obs:upload_file { bucket = B, key = "parts", file = src, part_size = 102400,
      concurrency = 3, checkpoint = cp, checksum = check })
    os.remove(got)
    assert(c.obs:download_file { bucket = B, key = "parts", file = got, part_size = 102400,
      concurrency = 3, checksum = check })
    assert(read(got) == data)
  end
  assert(c.obs:put_object { bucket = B, key = "small", body = "bytes" }) -- Content-MD5
  -- an error's body goes to memory, not to the file
  local _, nerr = c.obs:get_object { bucket = B, key = "missing", file = got }
  assert(nerr and nerr.code == "NoSuchKey", tostring(nerr))
  -- files refused before anything is sent
  assert(c.obs:put_object { bucket = B, key = "x", file = dir .. "/missing" } == nil)
  assert(c.obs:put_object { bucket = B, key = "x", file = dir } == nil)
  assert(c.obs:get_object { bucket = B, key = "whole", file = dir .. "/no/such/dir/f" } == nil)
  -- a multipart form with a file in it (CCE upload_chart)
  assert(c.cce:upload_chart { content = { path = src }, parameters = "{}" })
  assert(c.cce:upload_chart { content = { path = dir .. "/missing" } } == nil)
end

-- the transport's own refusals, below the library's checks: nil, message
-- before anything is sent
local function obs_refused(tr, put_url)
  for id, opts in ipairs {
    { upload_pieces = { { path = dir .. "/missing", offset = 0, length = 0 } } },
    { upload_pieces = { { path = dir, offset = 0, length = 0 } } },
    { upload_pieces = { { path = "/dev/null", offset = 0, length = 0 } } },
    { upload_pieces = { { path = src, offset = #data + 10, length = 10 } } },
    { download_file = dir .. "/no/such/dir/f" },
    { upload_pieces = { "a", { path = dir .. "/missing", offset = 0, length = 1 } } },
    { upload_pieces = { "a", { path = dir } } },
    { upload_pieces = { "a", { path = dir, offset = 0, length = 1 } } },
    { upload_pieces = { { path = src, offset = 0, length = #data + 1 } } },
    { upload_pieces = { 42 } },
    { upload_pieces = { {} } },
  } do
    local ok, why = tr:submit(id, "PUT", put_url, {}, nil, opts)
    assert(ok == nil and why:find("hwcloud.transport", 1, true), tostring(why))
  end
end

-- the transport's streams failing part-way, at offsets, and torn down
local function obs_transport()
  local put_url = assert(c.obs:create_signed_url { method = "PUT", bucket = B, key = "raw", expires = 600 })
  local get_url = assert(c.obs:create_signed_url { method = "GET", bucket = B, key = "whole", expires = 600 })
  local tr = core.transport { timeout = 10 }
  local function one(id, method, u, opts)
    assert(tr:submit(id, method, u, {}, nil, opts))
    local done
    repeat done = tr:poll(1000) until done[1]
    return done[1]
  end
  obs_refused(tr, put_url)
  -- a span of a file, hashed, and an empty one at its end
  local r = one(2, "PUT", put_url, { upload_pieces = { { path = src, offset = 5000, length = 7000 } },
    file_md5 = true })
  assert(r.status == 200 and r.file_md5, r.message)
  r = one(3, "PUT", put_url, { upload_pieces = { { path = src, offset = #data, length = 0 } } })
  assert(r.status == 200, r.message)
  -- a disk that is full: the write fails part-way, the answer says so
  r = one(4, "GET", get_url, { download_file = "/dev/full", file_md5 = true })
  assert(r.error and r.message:find("cannot write", 1, true), tostring(r.message))
  -- at an offset of an existing file
  write(got, string.rep("\0", #data))
  r = one(5, "GET", get_url, { download_file = got, download_offset = 100 })
  assert(r.status == 200 and read(got):sub(101, 200) == data:sub(1, 100))
  -- a file that shrinks after it was opened (the length sent was a
  -- promise), and a form's file gone before its turn
  local shrink = dir .. "/shrink.bin"
  for id, case in ipairs {
    { { upload_pieces = { { path = shrink, offset = 0, length = #data } }, file_md5 = true }, "" },
    { { upload_pieces = { "head", { path = shrink, offset = 0, length = #data }, "tail" } }, "" },
    { { upload_pieces = { "head", { path = shrink, offset = 0, length = #data }, "tail" } } },
  } do
    write(shrink, data)
    assert(tr:submit(10 + id, "PUT", put_url, {}, nil, case[1]))
    -- before libcurl reads a byte
    if case[2] then write(shrink, case[2]) else os.remove(shrink) end
    local done
    repeat done = tr:poll(1000) until done[1]
    assert(done[1].error and done[1].message:find("cannot read", 1, true), tostring(done[1].message))
  end
  os.remove(shrink)
  -- closed with streamed transfers in flight
  assert(tr:submit(20, "PUT", put_url, {}, nil,
    { upload_pieces = { { path = src, offset = 0, length = #data } }, file_md5 = true }))
  assert(tr:submit(21, "GET", get_url, {}, nil, { download_file = got, file_md5 = true }))
  tr:poll(1)
  tr:close()
end

obs_library()
obs_transport()
collectgarbage()
os.remove(src) os.remove(got) os.remove(cp)

c:close()
small, refused, c = nil, nil, nil -- luacheck: ignore (dropped so GC collects them)
collectgarbage()
collectgarbage()
io.write("memcheck driver: done\n")
