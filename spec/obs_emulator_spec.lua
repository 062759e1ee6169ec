-- client.obs against the emulator's object storage: buckets, objects,
-- listings paged by client:each, copies, ranges, errors, the three
-- signatures, signed URLs fetched with curl.
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"

local PID = "0123456789abcdef0123456789abcdef"
local emu

local function work(name)
  os.execute("mkdir -p " .. emulator.work)
  return emulator.work .. "/obs-" .. name
end

describe("obs against the emulator #server", function()
  setup(function() emu = emulator.start{} end)
  teardown(function() emu:stop() end)
  before_each(function() emu:reset() end)

  for _, mode in ipairs { "obs", "v2", "v4" } do
    describe("signature " .. mode, function()
      local c
      before_each(function() c = emu:client(PID, { obs_signature = mode, region = "cn-north-4" }) end)

      it("creates, lists, heads and deletes buckets", function()
        assert(c.obs:create_bucket{ bucket = "pkgs" })
        local res = assert(c.obs:list_buckets{})
        assert.equal("pkgs", res.buckets[1].name)
        assert(c.obs:head_bucket{ bucket = "pkgs" })
        assert(c.obs:delete_bucket{ bucket = "pkgs" })
        local _, err = c.obs:head_bucket{ bucket = "pkgs" }
        assert.equal(404, err.status)
        assert.equal("NoSuchBucket", err.code)
      end)

      it("puts, gets, copies and deletes objects with metadata", function()
        assert(c.obs:create_bucket{ bucket = "pkgs" })
        local put = assert(c.obs:put_object{ bucket = "pkgs", key = "dir/a b+c.txt", body = "hello",
          content_type = "text/plain", metadata = { build = "42" } })
        assert.equal("5d41402abc4b2a76b9719d911017c592", put.etag)
        local got = assert(c.obs:get_object{ bucket = "pkgs", key = "dir/a b+c.txt" })
        assert.equal("hello", got.body)
        assert.equal("42", got.metadata.build)
        assert.equal("text/plain", got.content_type)
        local part = assert(c.obs:get_object{ bucket = "pkgs", key = "dir/a b+c.txt", range = "bytes=1-3" })
        assert.equal("ell", part.body)
        local meta = assert(c.obs:get_object_metadata{ bucket = "pkgs", key = "dir/a b+c.txt" })
        assert.equal(5, meta.content_length)
        assert(c.obs:copy_object{ bucket = "pkgs", key = "copy", source_bucket = "pkgs",
          source_key = "dir/a b+c.txt" })
        assert.equal("hello", assert(c.obs:get_object{ bucket = "pkgs", key = "copy" }).body)
        assert(c.obs:delete_object{ bucket = "pkgs", key = "copy" })
        local _, err = c.obs:get_object{ bucket = "pkgs", key = "copy" }
        assert.equal(404, err.status)
        assert.equal("NoSuchKey", err.code)
        assert.truthy(err.request_id)
        local _, e2 = c.obs:get_object_metadata{ bucket = "pkgs", key = "copy" }
        assert.equal("NoSuchKey", e2.code)
        local _, e3 = c.obs:put_object{ bucket = "nobucket", key = "k", body = "x" }
        assert.equal("NoSuchBucket", e3.code)
        assert.truthy(tostring(e3):find("NoSuchBucket", 1, true))
      end)

      it("pages a listing with client:each and groups by delimiter", function()
        assert(c.obs:create_bucket{ bucket = "pkgs" })
        for i = 1, 7 do
          assert(c.obs:put_object{ bucket = "pkgs", key = ("app/v%d.zip"):format(i), body = "x" .. i })
        end
        assert(c.obs:put_object{ bucket = "pkgs", key = "other/z", body = "z" })
        local keys = {}
        for item, err in c:each("obs", "list_objects", { bucket = "pkgs", prefix = "app/", max_keys = 3 }) do
          assert.is_nil(err)
          keys[#keys + 1] = item.key
        end
        assert.same({ "app/v1.zip", "app/v2.zip", "app/v3.zip", "app/v4.zip", "app/v5.zip",
                      "app/v6.zip", "app/v7.zip" }, keys)
        local pages = 0
        for page in c:pages("obs", "list_objects", { bucket = "pkgs", max_keys = 2 }) do
          pages = pages + 1
          assert.truthy(#page.contents <= 2)
        end
        assert.equal(4, pages)
        -- pages of common prefixes only are no last page
        local prefixes = {}
        for page in c:pages("obs", "list_objects", { bucket = "pkgs", delimiter = "/", max_keys = 1 }) do
          assert.equal(0, #page.contents)
          prefixes[#prefixes + 1] = page.common_prefixes[1]
        end
        assert.same({ "app/", "other/" }, prefixes)
        local top = assert(c.obs:list_objects{ bucket = "pkgs", delimiter = "/" })
        assert.same({ "app/", "other/" }, top.common_prefixes)
        assert.equal(0, #top.contents)
      end)

      it("streams files both ways and checks the ETag", function()
        assert(c.obs:create_bucket{ bucket = "pkgs" })
        local src, dst = work("src-" .. mode), work("dst-" .. mode)
        local data = ("0123456789abcdef"):rep(200000) -- 3.2 MB
        emulator.write_file(src, data)
        local put = assert(c.obs:put_object{ bucket = "pkgs", key = "big", file = src })
        assert.equal(32, #put.etag)
        local got = assert(c.obs:get_object{ bucket = "pkgs", key = "big", file = dst })
        assert.equal(#data, got.size)
        assert.equal(data, emulator.read_file(dst))
        local dl = assert(c.obs:download_file{ bucket = "pkgs", key = "big", file = dst .. "2" })
        assert.equal(dst .. "2", dl.file)
        assert.equal(data, emulator.read_file(dst .. "2"))
        -- in ranges side by side, into their places in one file
        local gets = emu:counts()["obs.get_object"] or 0
        local parts = assert(c.obs:download_file{ bucket = "pkgs", key = "big", file = dst .. "3",
          part_size = 1024 * 1024, concurrency = 3 })
        assert.equal(#data, parts.size)
        assert.equal(data, emulator.read_file(dst .. "3"))
        assert.equal(gets + 4, emu:counts()["obs.get_object"])
        assert.is_nil(emulator.read_file(dst .. "3.part"))
        os.remove(dst .. "3")
        os.remove(src) os.remove(dst) os.remove(dst .. "2")
      end)

      it("signs URLs that curl can fetch, and refuses them once tampered", function()
        assert(c.obs:create_bucket{ bucket = "pkgs" })
        assert(c.obs:put_object{ bucket = "pkgs", key = "pkg/app.zip", body = "PK-bytes" })
        local url = assert(c.obs:create_signed_url{ method = "GET", bucket = "pkgs",
          key = "pkg/app.zip", expires = 300 })
        assert.is_string(url)
        local res = emulator.curl("GET", url)
        assert.equal(200, res.status)
        assert.equal("PK-bytes", res.body)
        local bad = emulator.curl("GET", (url:gsub("app%.zip", "app.zap")))
        assert.equal(403, bad.status)
        local put = assert(c.obs:create_signed_url{ method = "PUT", bucket = "pkgs", key = "up",
          expires = 60, content_type = "application/zip" })
        assert.equal(200, emulator.curl("PUT", put, { body = "via url",
          headers = { ["Content-Type"] = "application/zip" } }).status)
        assert.equal("via url", assert(c.obs:get_object{ bucket = "pkgs", key = "up" }).body)
      end)
    end)
  end

  it("refuses a wrong secret with SignatureDoesNotMatch, and says nothing secret", function()
    local c = emu:client(PID, { sk = "not-the-secret", retries = 0 })
    local _, err = c.obs:list_buckets{}
    assert.equal(403, err.status)
    assert.equal("SignatureDoesNotMatch", err.code)
    assert.falsy(tostring(err):find("not-the-secret", 1, true))
  end)

  it("names a file that cannot be read or written, before anything is sent", function()
    local c = emu:client(PID)
    assert(c.obs:create_bucket{ bucket = "pkgs" })
    local before = emu:counts()["obs.put_object"]
    local _, err = c.obs:put_object{ bucket = "pkgs", key = "k", file = "/nonexistent/pkg.zip" }
    assert.equal("validation", err.kind)
    assert.truthy(tostring(err):find("/nonexistent/pkg.zip", 1, true))
    assert.equal(before, emu:counts()["obs.put_object"])
    assert(c.obs:put_object{ bucket = "pkgs", key = "k", body = "x" })
    local _, e2 = c.obs:get_object{ bucket = "pkgs", key = "k", file = "/nonexistent/dir/out" }
    assert.equal("validation", e2.kind)
    assert.truthy(tostring(e2):find("/nonexistent/dir/out", 1, true))
    assert.is_nil(emu:counts()["obs.get_object"])
  end)

  it("checks requests before sending", function()
    local c = emu:client(PID)
    local _, err = c.obs:put_object{ bucket = "B!", key = "k", body = "x" }
    assert.equal("bucket", err.field)
    _, err = c.obs:list_objects{ bucket = "pkgs", max_keys = 0 }
    assert.equal("max_keys", err.field)
    _, err = c.obs:get_object{ bucket = "pkgs" }
    assert.equal("key", err.field)
    assert.has_error(function() return c.obs:put_objet{} end, nil)
  end)
  local _ = util
end)
