-- hwcloud.identity.metadata: the ECS metadata service, described as a
-- service of its own (in no official SDK's API definitions) so that its two
-- requests go through the call path like every other: the same retry
-- policy, hooks and errors. It is not signed; the session token of its
-- first operation goes with the second.
--   PUT /meta-data/latest/api/token   (X-Metadata-Token-Ttl-Seconds) -> the token, as text
--   GET /openstack/latest/securitykey (X-Metadata-Token)
--     -> {"credential": {"access", "secret", "securitytoken", "expires_at"}}
-- The endpoint is the client's metadata endpoint, given with each call.

local prepare = require("hwcloud.services").prepare

local S = { type = "string" }

return {
  name = "metadata",
  title = "ECS metadata service",
  global = true,
  operations = {
    create_token = {
      name = "create_token", method = "PUT", path = "/meta-data/latest/api/token",
      unauthenticated = true,
      -- a second token is as good as the first: asking twice is safe
      idempotent = true,
      -- no Content-Type, an empty body, and the token as the answer's text
      content_type = false, raw_body = "", answer = "bytes",
      request = prepare { type = "object", fields = {
        ["X-Metadata-Token-Ttl-Seconds"] = { type = "integer", required = true, location = "header" },
      } },
    },
    show_security_key = {
      name = "show_security_key", method = "GET", path = "/openstack/latest/securitykey",
      unauthenticated = true, content_type = false,
      request = prepare { type = "object", fields = {
        ["X-Metadata-Token"] = { type = "string", location = "header" },
      } },
      response = prepare { type = "object", fields = {
        credential = { type = "object", fields = {
          access = S, secret = S, securitytoken = S, expires_at = S,
        } },
      } },
    },
  },
}
