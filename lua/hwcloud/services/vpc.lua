-- Virtual Private Cloud: what no SDK says. No jobs: resources are polled
-- (v3 VPCs go PENDING to ACTIVE, v2 CREATING to OK; subnets to ACTIVE).
return {
  waiters = {
    vpc_ready = { operation = "show_vpc", path = "vpc.status",
                  success = { "ACTIVE", "OK" }, failure = { "ERROR" } },
    subnet_ready = { operation = "show_subnet", path = "subnet.status",
                     success = { "ACTIVE" }, failure = { "ERROR" } },
  },
}
