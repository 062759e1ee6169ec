-- hwcloud.emulator.inventory: the resources every project starts with.
-- bin/hwcloud-emulator --inventory FILE (a JSON file) or POST
-- /_emulator/inventory replaces the default; each project gets its own copy
-- on first use (and again after a reset).
--
--   { workspace = { server_groups = [{id, name, ...}],
--                   servers = [{id, name, server_group_id, status, ...}] },
--     servicestage = { environments = [{id, name, ...}],
--                      addons = [{id, environment_id, name, addon_type, status, ...}] },
--     codeartsbuild = { jobs = [{id, job_name, project_id?, ...}] },
--     rts = { software_configs = [{id, name, group, config, ...}] } }

local cjson = require "cjson"

local type, pairs, pcall, tostring, io_open = type, pairs, pcall, tostring, io.open

local _M = {}

local function default()
  local servers, groups = {}, {}
  for g = 1, 2 do
    local gid = "group-" .. g
    groups[g] = { id = gid, name = "app-group-" .. g, os_type = "Windows",
                  server_group_status = "NORMAL", app_type = "SESSION_DESKTOP_APP" }
    for s = 1, 2 do
      local n = (g - 1) * 2 + s
      servers[n] = { id = "server-" .. n, name = "app-server-" .. n, server_group_id = gid,
                     status = "ACTIVE", maintain_status = false, os_type = "Windows" }
    end
  end
  return {
    workspace = { server_groups = groups, servers = servers },
    servicestage = {
      environments = {
        { id = "env-prod", name = "prod", description = "production", deploy_mode = "container" },
        { id = "env-test", name = "test", description = "testing", deploy_mode = "container" },
      },
      addons = {
        { id = "addon-nginx", environment_id = "env-prod", name = "ingress-nginx",
          addon_type = "nginx", status = "RUNNING" },
        { id = "addon-logs", environment_id = "env-prod", name = "log-agent",
          addon_type = "fluent-bit", status = "RUNNING" },
        { id = "addon-test-nginx", environment_id = "env-test", name = "ingress-nginx",
          addon_type = "nginx", status = "RUNNING" },
      },
    },
    codeartsbuild = {
      jobs = {
        { id = "build-job-1", job_name = "build-web" },
        { id = "build-job-2", job_name = "build-api" },
        { id = "build-job-3", job_name = "build-worker" },
      },
    },
    rts = { software_configs = {} },
  }
end

local current = default()

function _M.current() return current end

local SECTIONS = {
  workspace = { "server_groups", "servers" },
  servicestage = { "environments", "addons" },
  codeartsbuild = { "jobs" },
  rts = { "software_configs" },
}

-- Replaces the inventory after checking its shape; returns true or nil,
-- message naming the broken part. Sections left out are empty.
function _M.replace(inv)
  if type(inv) ~= "table" then return nil, "the inventory must be a JSON object" end
  local new = {}
  for section, lists in pairs(SECTIONS) do
    local s = inv[section]
    if s ~= nil and type(s) ~= "table" then return nil, section .. " must be an object" end
    new[section] = {}
    for i = 1, #lists do
      local name = lists[i]
      local list = s and s[name] or {}
      if type(list) ~= "table" then return nil, section .. "." .. name .. " must be an array" end
      for k = 1, #list do
        local item = list[k]
        if type(item) ~= "table" or type(item.id) ~= "string" or item.id == "" then
          return nil, section .. "." .. name .. "[" .. k .. "].id must be a non-empty string"
        end
      end
      new[section][name] = list
    end
  end
  for section in pairs(inv) do
    if not SECTIONS[section] then return nil, "unknown inventory section: " .. section end
  end
  current = new
  return true
end

-- Reads a JSON inventory file; returns true or nil, message.
function _M.load_file(path)
  local f, err = io_open(path, "rb")
  if not f then return nil, "cannot read the inventory " .. path .. ": " .. err end
  local text = f:read("*a")
  f:close()
  local ok_json, inv = pcall(cjson.decode, text)
  if not ok_json then return nil, "the inventory " .. path .. " is not valid JSON: " .. tostring(inv) end
  local ok, msg = _M.replace(inv)
  if not ok then return nil, "the inventory " .. path .. ": " .. msg end
  return true
end

function _M.reset_default() current = default() end

return _M
