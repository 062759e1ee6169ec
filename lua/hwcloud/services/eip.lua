-- Elastic IP: what no SDK says. Jobs are polled with
-- ShowResourcesJobDetail; batch deletes and disassociations answer a list
-- of job ids, waited on as one. EIP states from the SDK enum.
return {
  jobs = {
    poll = "show_resources_job_detail", id_field = "job_id", ids = { "job_id" },
    batch = { "job_ids" },
    status = "status", success = { "SUCCESS" }, failure = { "FAIL" },
    reason = "fail_reason", code = "error_code",
    sub_jobs = "entities.sub_jobs", resource = "entities.publicip_id",
  },
  waiters = {
    publicip_ready = { operation = "show_publicip", path = "publicip.status",
                       success = { "ACTIVE", "DOWN", "ELB", "VPN" },
                       failure = { "ERROR", "BIND_ERROR" } },
    publicip_bound = { operation = "show_publicip", path = "publicip.status",
                       success = { "ACTIVE", "ELB", "VPN" }, failure = { "ERROR", "BIND_ERROR" } },
    publicip_deleted = { operation = "show_publicip", path = "publicip.status",
                         success = {}, failure = { "ERROR" }, gone = true },
  },
}
