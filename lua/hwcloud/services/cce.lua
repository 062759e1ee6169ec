-- Cloud Container Engine: what no SDK says. Operations spell the job id four
-- ways (status.jobID, jobid, jobID, status.jobId); ShowJob's status.phase
-- is Initializing, Running, Failed or Success (documented, no enum). Node,
-- node pool and cluster phases from the SDK enums and the Terraform
-- provider; a node pool's empty phase means it is available.
return {
  jobs = {
    poll = "show_job", id_field = "job_id",
    ids = { "status.jobID", "jobid", "jobID", "status.jobId" },
    status = "status.phase", success = { "Success" }, failure = { "Failed" },
    reason = "status.reason",
    sub_jobs = "spec.subJobs", sub_status = "status.phase", sub_reason = "status.reason",
    resource = "spec.resourceID",
  },
  waiters = {
    cluster_available = { operation = "show_cluster", path = "status.phase",
                          success = { "Available" }, failure = { "Error" } },
    cluster_deleted = { operation = "show_cluster", path = "status.phase",
                        success = {}, failure = { "Error" }, gone = true },
    node_active = { operation = "show_node", path = "status.phase",
                    success = { "Active" }, failure = { "Error", "Abnormal" } },
    node_deleted = { operation = "show_node", path = "status.phase",
                     success = {}, failure = { "Error" }, gone = true },
    node_pool_synchronized = { operation = "show_node_pool", path = "status.phase",
                               success = { "Synchronized", "" }, failure = { "Error", "SoldOut" },
                               absent = "" },
  },
}
