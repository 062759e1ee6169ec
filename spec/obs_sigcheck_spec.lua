-- client.obs against a loopback server with its own check of the three
-- signatures (spec/helpers/obs_sig_server.py, Python's hmac and hashlib),
-- with permanent and temporary keys, and signed URLs fetched with curl.
local util = require "spec.helpers.util"
local emulator = require "spec.helpers.emulator"
local hwcloud = require "hwcloud"

local AK, SK, TOKEN = "SIGCHECKAK", "sig/check+secret", "temporary-token-123"

-- starts the server; returns its URL and a stop function
local function start(token)
  local dir = util.tmpdir("obs-sig")
  local out = dir .. "/out"
  local pid = util.capture(("python3 %s %s %s %s > %s 2>&1 & echo $!"):format(
    util.quote(util.root .. "/spec/helpers/obs_sig_server.py"), util.quote(AK), util.quote(SK),
    token and util.quote(token) or "", util.quote(out)))
  local port
  for _ = 1, 100 do
    port = (util.read_file(out) or ""):match("listening on (%d+)")
    if port then break end
    util.sleep(0.05)
  end
  assert(port, "obs_sig_server.py did not start: " .. tostring(util.read_file(out)))
  return "http://127.0.0.1:" .. port, function()
    os.execute("kill " .. pid)
    util.rmdir(dir)
  end
end

describe("obs signatures against an independent check #server", function()
  for _, keys in ipairs { { name = "permanent keys" }, { name = "temporary keys", token = TOKEN } } do
    describe(keys.name, function()
      local url, stop
      setup(function() url, stop = start(keys.token) end)
      teardown(function() stop() end)

      for _, mode in ipairs { "obs", "v2", "v4" } do
        it("signs " .. mode .. " requests and URLs the server accepts", function()
          local c = assert(hwcloud.client{ endpoints = { obs = url }, ak = AK, sk = SK,
            security_token = keys.token, region = "cn-north-4", obs_signature = mode,
            project_id = "p", retries = 0, progress = false })
          local seen = #emulator.curl("GET", url .. "/_log").body
          local key = "dir/a b+é.txt"
          assert(c.obs:put_object{ bucket = "pkgs", key = key, body = "hello " .. mode,
            content_type = "text/plain", metadata = { owner = " team " } })
          local got = assert(c.obs:get_object{ bucket = "pkgs", key = key })
          assert.equal("hello " .. mode, got.body)
          assert(c.obs:get_object_metadata{ bucket = "pkgs", key = key })
          assert(c.obs:delete_object{ bucket = "pkgs", key = key })
          local _, err = c.obs:get_object{ bucket = "pkgs", key = key }
          assert.equal("NoSuchKey", err.code)
          assert(c.obs:put_object{ bucket = "pkgs", key = "u", body = "signed" })
          local signed = assert(c.obs:create_signed_url{ method = "GET", bucket = "pkgs",
            key = "u", expires = 60 })
          local res = emulator.curl("GET", signed)
          assert.equal(200, res.status, res.body)
          assert.equal("signed", res.body)
          -- the server logged the kinds it accepted: this mode's, never another
          local log = emulator.curl("GET", url .. "/_log").body:sub(seen + 1)
          local want = ({ obs = "OBS", v2 = "AWS", v4 = "AWS4" })[mode]
          for kind in log:gmatch("[^\n]+") do
            assert.truthy(kind == want or kind == want .. "-url", log)
          end
          -- a wrong secret is refused by the same check
          local bad = assert(hwcloud.client{ endpoints = { obs = url }, ak = AK, sk = "wrong",
            security_token = keys.token, region = "cn-north-4", obs_signature = mode,
            project_id = "p", retries = 0 })
          local _, berr = bad.obs:get_object{ bucket = "pkgs", key = "u" }
          assert.equal(403, berr.status)
          assert.equal("SignatureDoesNotMatch", berr.code)
        end)
      end
    end)
  end
end)
