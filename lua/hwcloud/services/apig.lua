-- API Gateway: what no SDK says. Asynchronous import/export tasks are
-- polled with ShowAsyncTaskResult; instance creation, EIP and resize jobs
-- with the instance's progress.
return {
  jobs = {
    {
      name = "task", poll = "show_async_task_result", id_field = "task_id", ids = { "task_id" },
      params = { instance_id = "instance_id" },
      status = "task_status", success = { "succeed" }, failure = { "failed" },
      reason = "task_result.failure[].error_msg",
    },
    {
      name = "progress", poll = "show_details_of_instance_progress_v2",
      id_field = "instance_id", ids = { "instance_id" },
      operations = { "create_instance_v2", "add_ingress_eip_v2", "update_ingress_eip_v2",
                     "create_post_pay_resize_order" },
      status = "status", success = { "success" }, failure = { "failed" },
      reason = "error_msg", code = "error_code", resource = "instance_id",
    },
  },
}
