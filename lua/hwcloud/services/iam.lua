-- IAM: project-scoped tokens (POST /v3/auth/tokens). The token itself comes
-- back in the X-Subject-Token header, surfaced as `subject_token`.

return {
  name = "iam",
  host = "iam",
  content_type = "application/json;charset=utf8",
  operations = {
    create_token = {
      method = "POST",
      path = "/v3/auth/tokens",
      request = { type = "object", fields = {
        auth = { type = "object", required = true },
        nocatalog = { type = "boolean", location = "query" },
      } },
      response = { type = "object", fields = { token = { type = "object" } } },
      response_headers = { ["x-subject-token"] = "subject_token" },
      unauthenticated = true,   -- password auth needs no signature
    },
  },
}
