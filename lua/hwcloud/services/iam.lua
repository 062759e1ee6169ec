-- IAM v3: the operations of the official SDKs (generated). A global
-- service: signed with X-Domain-Id rather than X-Project-Id. Password tokens
-- need no signature; the token comes back in X-Subject-Token.

return {
  name = "iam",
  title = "Identity and Access Management (v3)",
  host = "iam",
  global = true,
  aliases = { create_token = "keystone_create_user_token_by_password" },
  operations = {
    keystone_create_user_token_by_password = {
      unauthenticated = true,
      -- the SDK's name, and the seed's (create_token) name for it
      response_headers = { ["x-subject-token"] = { "X-Subject-Token", "subject_token" } },
    },
  },
}
