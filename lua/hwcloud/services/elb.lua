-- Elastic Load Balance: what no SDK says. v3 jobs (batch and clone
-- operations) are polled with ShowJob; prepaid creations answer an order.
-- Load balancer and member states as the Terraform provider waits on them.
return {
  jobs = {
    {
      poll = "show_job", id_field = "job_id", ids = { "job_id" },
      status = "job.status", success = { "SUCCESS", "COMPLETE" },
      failure = { "FAIL", "ROLLBACK_FAIL", "CANCEL" },
      reason = "job.error_msg", code = "job.error_code",
      sub_jobs = "job.sub_jobs", sub_reason = "error_msg", resource = "job.resource_id",
    },
    { use = "bss" },
  },
  waiters = {
    load_balancer_active = { operation = "show_load_balancer",
                             path = "loadbalancer.provisioning_status",
                             success = { "ACTIVE" }, failure = { "ERROR" } },
    load_balancer_deleted = { operation = "show_load_balancer",
                              path = "loadbalancer.provisioning_status",
                              success = {}, failure = { "ERROR" }, gone = true },
    member_healthy = { operation = "show_member", path = "member.operating_status",
                       success = { "ONLINE" }, failure = {} },
  },
}
