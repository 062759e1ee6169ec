-- CodeArts Build v3: the operations of the official SDKs (generated). Some
-- answer 200 with {result, error, status = "fail"}: that is a failure.
-- Paths without {project_id} are signed with X-Project-Id; some paths carry
-- a CodeArts project id of their own, which the request gives.

return {
  name = "codeartsbuild",
  title = "CodeArts Build",
  host = "cloudbuild-ext",
  failure = { field = "status", equals = "fail", message = "error" },
}
