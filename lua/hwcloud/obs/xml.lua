-- hwcloud.obs.xml: OBS's XML answers read with a real parser (expat,
-- through lua-expat), and the few request bodies written.
--
-- parse(s) -> tree | nil, message. A tree node is
-- { name = "Tag", text = "...", children = { node... } }; find/all/text
-- walk it by element names.

local type, tostring, ipairs = type, tostring, ipairs
local concat, gsub = table.concat, string.gsub

local _M = {}

local lxp -- loaded at first use: a client that never speaks OBS needs no expat

-- Bounds on one answer: OBS's largest listing (1000 keys) is well within.
local MAX_DEPTH = 64
local MAX_BYTES = 64 * 1024 * 1024

function _M.parse(s)
  if type(s) ~= "string" or s == "" then return nil, "empty XML document" end
  if #s > MAX_BYTES then return nil, "XML document too large" end
  if not lxp then
    local ok, mod = pcall(require, "lxp")
    if not ok then return nil, "lua-expat (module lxp) is not installed" end
    lxp = mod
  end
  local root = { name = "", children = {} }
  local stack, depth = { root }, 1
  local texts = { {} }
  local failed
  local parser = lxp.new {
    StartElement = function(_, name)
      depth = depth + 1
      if depth > MAX_DEPTH then failed = "XML nested too deeply" return end
      local node = { name = name, children = {} }
      local parent = stack[depth - 1]
      parent.children[#parent.children + 1] = node
      stack[depth], texts[depth] = node, {}
    end,
    EndElement = function()
      if failed then return end
      local node = stack[depth]
      node.text = concat(texts[depth])
      stack[depth], texts[depth] = nil, nil
      depth = depth - 1
    end,
    CharacterData = function(_, data)
      local t = texts[depth]
      if t then t[#t + 1] = data end
    end,
    -- no DTDs: no entity expansion from the document
    StartDoctypeDecl = function() failed = "XML with a DOCTYPE is refused" end,
  }
  -- parse and close raise on some malformed input; both are contained
  local pok, ok, msg, line = pcall(parser.parse, parser, s)
  if pok and ok then pok, ok, msg, line = pcall(parser.parse, parser) end
  if not pok then ok, msg = nil, ok end
  pcall(parser.close, parser)
  if failed then return nil, failed end
  if not ok then return nil, "malformed XML: " .. tostring(msg) .. " (line " .. tostring(line) .. ")" end
  return root.children[1]
end

-- the first child named `name` (a path "A/B" walks down)
function _M.find(node, path)
  for name in path:gmatch("[^/]+") do
    if not node then return nil end
    local found
    for _, c in ipairs(node.children) do
      if c.name == name then found = c break end
    end
    node = found
  end
  return node
end

function _M.text(node, path)
  local n = path and _M.find(node, path) or node
  return n and n.text or nil
end

function _M.all(node, name)
  local out = {}
  if not node then return out end
  for _, c in ipairs(node.children) do
    if c.name == name then out[#out + 1] = c end
  end
  return out
end

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }
function _M.escape(s)
  return (gsub(tostring(s), "[&<>\"']", ESC))
end

return _M
