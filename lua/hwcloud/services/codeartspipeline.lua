-- CodeArts Pipeline: what no SDK says. Runs are polled with
-- ShowPipelineRunDetail (the run id in the query, under its pipeline);
-- pipelines made from a template with ShowInstanceStatus. States are
-- documented, not enums.
return {
  jobs = {
    {
      name = "run", poll = "show_pipeline_run_detail", id_field = "pipeline_run_id",
      ids = { "pipeline_run_id" }, params = { pipeline_id = "pipeline_id", project_id = "project_id" },
      status = "status", success = { "COMPLETED" }, failure = { "FAILED", "CANCELED" },
      reason = { "stages[].jobs[].steps[].message", "stages[].jobs[].message" },
    },
    {
      name = "template", poll = "show_instance_status", id_field = "task_id", ids = { "task_id" },
      status = "task_status", success = { "succeeded", "finished" }, failure = { "failed" },
    },
  },
}
