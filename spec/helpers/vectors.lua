-- The signature test vectors (spec/fixtures/signing.jsonl, made by the
-- official Huawei Cloud SDK's signer) and how to turn one into a URL.

local cjson = require "cjson"

local _M = {}

_M.FIXTURE = "spec/fixtures/signing.jsonl"

-- percent-encoding for building request URLs in the tests
function _M.enc(s)
  return (tostring(s):gsub("[^A-Za-z0-9%-_%.~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- query object -> "k=v&k=v"; keys sorted for a stable URL, array values
-- repeat the key
function _M.encode_query(q)
  local enc, keys, parts = _M.enc, {}, {}
  for k in pairs(q) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      for _, item in ipairs(v) do parts[#parts + 1] = enc(k) .. "=" .. enc(item) end
    else
      parts[#parts + 1] = enc(k) .. "=" .. enc(v)
    end
  end
  return table.concat(parts, "&")
end

-- the vector's request URL
function _M.url(v)
  local url = v.endpoint .. v.path
  local q = _M.encode_query(v.query)
  if q ~= "" then url = url .. "?" .. q end
  return url
end

function _M.load()
  local list = {}
  for line in io.lines(_M.FIXTURE) do
    if line:match("%S") then list[#list + 1] = cjson.decode(line) end
  end
  return list
end

return _M
