-- Elastic Cloud Server: what no SDK says. Jobs (the answers' job_id, or a
-- prepaid order's order_id) are polled with ShowJob; states from the SDK
-- enums and the Terraform provider's pending/target lists.
return {
  jobs = {
    {
      poll = "show_job", id_field = "job_id", ids = { "job_id" },
      status = "status", success = { "SUCCESS" }, failure = { "FAIL" },
      reason = "fail_reason", code = "error_code",
      sub_jobs = "entities.sub_jobs", sub_reason = { "fail_reason", "entities.errorcode_message" },
      resource = "entities.server_id",
    },
    { use = "bss" },
  },
  waiters = {
    server_active = { operation = "show_server", path = "server.status",
                      success = { "ACTIVE" }, failure = { "ERROR" } },
    server_shutoff = { operation = "show_server", path = "server.status",
                       success = { "SHUTOFF" }, failure = { "ERROR" } },
    server_deleted = { operation = "show_server", path = "server.status",
                       success = { "DELETED" }, failure = { "ERROR" }, gone = true },
  },
}
