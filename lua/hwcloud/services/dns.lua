-- Domain Name Service: what no SDK says. Batch tasks are polled with
-- ShowBatchOperationTask: PENDING, then DONE; a DONE task with errors
-- failed for those items.
return {
  jobs = {
    poll = "show_batch_operation_task", id_field = "task_id", ids = { "task_id" },
    status = "status", success = { "DONE" }, failure = {},
    failed_count = "error_count", reason = "error_items[].error_message",
  },
}
