-- Distributed Cache Service: what no SDK says. Jobs are polled with
-- ShowJobInfo; creations answer a prepaid order. A minor version upgrade
-- answers a task_id, a background task of the instance followed with
-- ShowBackgroundTaskProgress: done when every step is FINISH, failed when
-- one is FAILED (step_status enum). Offline key analyses also answer a
-- task_id, but no operation gives that task's state by its id (its record
-- in ListOfflineKeyAnalysisTask has it): not waited on.
return {
  jobs = {
    {
      poll = "show_job_info", id_field = "job_id", ids = { "job_id" },
      status = "status", success = { "SUCCESS" }, failure = { "FAIL" },
      reason = "fail_reason",
    },
    {
      name = "task", poll = "show_background_task_progress", id_field = "task_id",
      ids = { "task_id" }, params = { instance_id = "instance_id" },
      operations = { "upgrade_instance_minor_version" },
      status = "step_details[].step_status", success = { "FINISH" }, failure = { "FAILED" },
      reason = "step_details[].error_code",
    },
    { use = "bss" },
  },
}
