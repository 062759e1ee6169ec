-- hwcloud.emulator.state: everything the emulator remembers. It lives in this
-- module's tables, so the nginx host runs a single worker process.

local pairs, type, remove = pairs, type, table.remove

local _M = {}

-- Settings, filled by hwcloud.emulator.configure().
_M.config = {
  ak = "HWCLOUDEMULATORAK001",
  sk = "hwcloud-emulator-secret",
  job_seconds = 3,
  latency_ms = 0,
}

local projects, tokens, faults, fail_ids, counts, temp_keys, identity, identity_log
local canned, request_log, owners, path_stubs

-- The identity side's settings (see hwcloud.emulator.identity), as after
-- a reset.
local function identity_defaults()
  return {
    key_seconds = 6 * 3600,     -- life of the metadata service's temporary keys
    token_seconds = 24 * 3600,  -- life of IAM tokens
    metadata_tokens = true,     -- PUT /meta-data/latest/api/token is offered
    agency = true,              -- the instance has an agency (else no keys)
    users = {},                 -- user name -> password; others take any password
  }
end

-- Forgets every project's resources: each starts again from the inventory.
function _M.reset_projects() projects = {} owners = {} end

-- The service that made a resource id (routes a request naming it when
-- several services share its path); own(id, nil) forgets it.
function _M.own(id, service)
  if type(id) == "string" then owners[id] = service end
end
function _M.owner(id) return owners[id] end

-- Canned answers for a method and path the catalog does not describe.
function _M.add_path_stub(key, answer)
  local q = path_stubs[key]
  if not q then q = {} path_stubs[key] = q end
  q[#q + 1] = { answer = answer, remaining = answer.count }
end

function _M.take_path_stub(key)
  local q = path_stubs[key]
  local head = q and q[1]
  if not head then return nil end
  head.remaining = head.remaining - 1
  if head.remaining <= 0 then remove(q, 1) end
  return head.answer
end

function _M.pending_path_stubs()
  local out = {}
  for key, q in pairs(path_stubs) do
    for i = 1, #q do
      out[#out + 1] = { method = q[i].answer.method, path = q[i].answer.path,
                        status = q[i].answer.status, remaining = q[i].remaining, key = key }
    end
  end
  return out
end

function _M.reset()
  projects = {}
  tokens = {}
  faults = {}      -- operation name or "*" -> FIFO list of { fault, remaining }
  fail_ids = {}
  counts = {}
  temp_keys = {}   -- access key -> { secret, security_token, expires }
  identity = identity_defaults()
  identity_log = {}
  canned = {}      -- operation name -> FIFO list of { answer, remaining }
  request_log = {}
  owners = {}      -- resource id -> the service (SDK name) that made it
  path_stubs = {}  -- "METHOD /path" -> FIFO list of { answer, remaining }
end
_M.reset()

-- Every project's resources, for GET /_emulator/state.
function _M.projects() return projects end

-- Per-project resources, created on first use.
function _M.project(id)
  local p = projects[id]
  if not p then
    p = {
      servicestage_jobs = {},
      workspace_jobs = {},
      deployments = {}, deployment_list = {},
      meshes = {},          -- mesh id -> { list = {...}, by_name = {...} }
      notices = {},         -- build job id -> { notice_type -> config }
    }
    projects[id] = p
  end
  return p
end

-- IAM tokens issued by this emulator.
function _M.add_token(token, info) tokens[token] = info end
function _M.token(token) return tokens[token] end

-- Temporary keys issued by the metadata service.
function _M.add_temp_key(ak, info) temp_keys[ak] = info end
function _M.temp_key(ak) return temp_keys[ak] end
-- Makes every temporary key and IAM token issued so far expire now.
function _M.expire_issued(now)
  for _, info in pairs(temp_keys) do info.expires = now end
  for _, info in pairs(tokens) do info.expires = now end
end

function _M.identity() return identity end

-- The identity headers of the requests received (ids and whether a token
-- was there; never a secret), oldest first, the last 200.
function _M.log_identity(entry)
  identity_log[#identity_log + 1] = entry
  if #identity_log > 200 then remove(identity_log, 1) end
end
function _M.identity_log() return identity_log end

-- Request counts per operation.
function _M.count(op)
  counts[op] = (counts[op] or 0) + 1
end
function _M.counts() return counts end

-- Canned answers (POST /_emulator/responses), per operation, in order.
function _M.add_canned(op, answer)
  local q = canned[op]
  if not q then q = {} canned[op] = q end
  q[#q + 1] = { answer = answer, remaining = answer.count }
end

function _M.take_canned(op)
  local q = canned[op]
  local head = q and q[1]
  if not head then return nil end
  head.remaining = head.remaining - 1
  if head.remaining <= 0 then remove(q, 1) end
  return head.answer
end

function _M.pending_canned()
  local out = {}
  for op, q in pairs(canned) do
    for i = 1, #q do
      out[#out + 1] = { operation = op, status = q[i].answer.status, remaining = q[i].remaining }
    end
  end
  return out
end

-- The requests received (method, path, operation, status; never a header
-- or a body), oldest first, the last 1000.
function _M.log_request(entry)
  request_log[#request_log + 1] = entry
  if #request_log > 1000 then remove(request_log, 1) end
end
function _M.request_log() return request_log end

-- Faults.
function _M.add_fault(op, fault)
  local q = faults[op]
  if not q then q = {} faults[op] = q end
  q[#q + 1] = { fault = fault, remaining = fault.count }
end

local function take(op)
  local q = faults[op]
  if not q then return nil end
  local head = q[1]
  if not head then return nil end
  head.remaining = head.remaining - 1
  if head.remaining <= 0 then remove(q, 1) end
  return head.fault
end

-- The fault for this request of `op`, if any (its own first, then "*").
function _M.take_fault(op)
  return take(op) or take("*")
end

function _M.pending_faults()
  local out = {}
  for op, q in pairs(faults) do
    for i = 1, #q do
      out[#out + 1] = { operation = op, remaining = q[i].remaining }
    end
  end
  return out
end

-- Ids whose jobs and deployments end FAILED.
function _M.add_fail_ids(ids)
  for i = 1, #ids do
    if type(ids[i]) == "string" then fail_ids[ids[i]] = true end
  end
end

-- True when any of the given ids is on the fail list.
function _M.should_fail(a, b, c, d)
  return (a ~= nil and fail_ids[a]) or (b ~= nil and fail_ids[b])
      or (c ~= nil and fail_ids[c]) or (d ~= nil and fail_ids[d]) or false
end

return _M
