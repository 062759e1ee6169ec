-- FunctionGraph: what no SDK says. Function CRUD is synchronous; workflow
-- executions are polled with ShowWorkflowExecution under their workflow.
return {
  jobs = {
    poll = "show_workflow_execution", id_field = "execution_id", ids = { "execution_id" },
    params = { workflow_id = "workflow_id" },
    status = "status", success = { "success" }, failure = { "fail", "timeout", "cancel" },
    reason = { "node_execution_details[].executions[].error_message" },
  },
}
