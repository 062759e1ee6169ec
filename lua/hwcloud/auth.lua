-- hwcloud.auth: the headers that authenticate a request. Credentials live
-- only in this closure, so no table a user can print or dump holds them.

local pairs = pairs

local _M = {}

-- new(creds, project_id, user_agent, sign) -> auth
-- sign is core.sign. Returns an object whose :headers(method, url,
-- content_type, body) gives the transport's "Name: value" list.
function _M.new(creds, project_id, user_agent, sign)
  local ak, sk, stoken, token = creds.ak, creds.sk, creds.security_token, creds.token
  local ua = "User-Agent: " .. user_agent
  local accept = "Accept: application/json"
  local self = { mode = token and "token" or "aksk" }

  if token then
    local tok = "X-Auth-Token: " .. token
    function self.headers(_, _, _, content_type)
      local list = { tok, ua, accept }
      if content_type then list[#list + 1] = "Content-Type: " .. content_type end
      return list
    end
  else
    function self.headers(_, method, url, content_type, body)
      -- only headers that nothing downstream rewrites are signed
      local h = {}
      if content_type then h["Content-Type"] = content_type end
      if project_id then h["X-Project-Id"] = project_id end
      if stoken then h["X-Security-Token"] = stoken end
      local signed = sign(method, url, h, body, ak, sk)
      local list = { ua, accept }
      for k, v in pairs(signed) do list[#list + 1] = k .. ": " .. v end
      return list
    end
  end

  -- unauthenticated requests (IAM password tokens) still name the client
  function self.plain(_, content_type)
    local list = { ua, accept }
    if content_type then list[#list + 1] = "Content-Type: " .. content_type end
    return list
  end

  function self.describe()
    if token then return "token" end
    return "aksk(" .. ak:sub(1, 4) .. "****)"
  end

  return self
end

return _M
