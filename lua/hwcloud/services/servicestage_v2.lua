-- ServiceStage v2: the operations of the official SDKs (generated) and what
-- a job is (the v2 job API).

return {
  name = "servicestage_v2",
  title = "ServiceStage (v2)",
  sdk_name = "servicestage",
  host = "servicestage",
  jobs = {
    poll = "show_job_detail", id_field = "job_id", started_field = "job_id",
    status = { "job", "execution_status" },
    success = { "SUCCEEDED" },
    failure = { "FAILED", "CANCELLED", "PARTIALLY_FAILED", "ROLLBACKED", "UNKNOWN" },
    reason = "tasks",
  },
}
