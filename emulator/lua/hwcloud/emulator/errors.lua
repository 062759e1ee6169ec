-- hwcloud.emulator.errors: each service's documented error body shape.
--
--   API Gateway (auth, unknown API)   {"error_code","error_msg","request_id"}
--   ServiceStage, CodeArts Build,
--   Workspace                         {"error_code","error_msg"}
--   ASM                               {"errorCode","errorMsg"}
--   RTS (Heat compatible)             {"code","title","explanation","error":{"message","type","traceback"}}
--   IAM (Keystone style)              {"error":{"code","message","title"}}

local util = require "hwcloud.emulator.util"

local null = util.null
local send = util.send

local _M = {}

local titles = {
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed", [409] = "Conflict",
  [429] = "Too Many Requests", [500] = "Internal Server Error", [501] = "Not Implemented",
  [502] = "Bad Gateway", [503] = "Service Unavailable", [504] = "Gateway Timeout",
}
_M.titles = titles

local heat_types = {
  [400] = "ValidationError", [404] = "EntityNotFound", [405] = "HTTPMethodNotAllowed",
  [409] = "Conflict", [500] = "InternalError", [501] = "NotImplemented",
  [503] = "ServiceUnavailable",
}

-- Default error codes per service and status.
local codes = {
  servicestage = { prefix = "SVCSTG.00100", [400] = "SVCSTG.00100400", [404] = "SVCSTG.00100404",
                   [405] = "SVCSTG.00100405", [500] = "SVCSTG.00100500" },
  codeartsbuild = { prefix = "CB.00060", [400] = "CB.00060200", [404] = "CB.00060404",
                    [405] = "CB.00060405", [500] = "CB.00060500" },
  workspaceapp = { prefix = "WKS.00010", [400] = "WKS.00010001", [404] = "WKS.00010404",
                   [405] = "WKS.00010405", [500] = "WKS.00010500", [503] = "WKS.00010503" },
  asm = { prefix = "ASM.0101", [400] = "ASM.01010001", [401] = "ASM.01000001",
          [403] = "ASM.01000002", [404] = "ASM.01010002", [405] = "ASM.01010005",
          [409] = "ASM.01010003", [500] = "ASM.01040001" },
  apig = { prefix = "APIG.0", [401] = "APIG.0301", [403] = "APIG.0302", [404] = "APIG.0101" },
  rts = {},
  iam = {},
}

local function default_code(service, status)
  local c = codes[service]
  if not c then
    -- a service without its own table (the catalog's): its name, as the
    -- cloud's codes go ("VPC.0404")
    if type(service) == "string" and service ~= "" then
      return string.upper(service) .. ".0" .. status
    end
    c = codes.apig
  end
  return c[status] or ((c.prefix or "EMULATOR.") .. status)
end
_M.default_code = default_code

-- The error body of `service` for `status`; `code` defaults per service.
function _M.body(service, status, message, code, request_id)
  if service == "asm" then
    return { errorCode = code or default_code(service, status), errorMsg = message }
  elseif service == "rts" then
    return {
      code = status,
      title = titles[status] or "Error",
      explanation = message,
      error = { message = message, type = code or heat_types[status] or "Error", traceback = null },
    }
  elseif service == "iam" then
    return { error = { code = status, message = message, title = titles[status] or "Error" } }
  elseif service == "apig" then
    return { error_code = code or default_code(service, status), error_msg = message,
             request_id = request_id }
  end
  return { error_code = code or default_code(service, status), error_msg = message }
end

-- Sends the error and ends the request.
function _M.send(service, status, message, code, request_id, headers)
  return send(status, _M.body(service, status, message, code, request_id), headers)
end

-- Authentication failures come from the API Gateway in front of every service.
function _M.auth(status, message, request_id, code)
  return send(status, {
    error_code = code or (status == 403 and "APIG.0302" or "APIG.0301"),
    error_msg = message,
    request_id = request_id,
  })
end

return _M
