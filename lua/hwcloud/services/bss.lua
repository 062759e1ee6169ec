-- Business Support System: what no SDK says. A prepaid creation of any
-- service answers an order; ShowCustomerOrderDetails's order_info.status is
-- 5 when it is completed and 4 when cancelled (documented, no enum).
return {
  jobs = {
    name = "order", poll = "show_customer_order_details", id_field = "order_id",
    ids = { "order_id" }, marks = false,
    status = "order_info.status", success = { 5 }, failure = { 4 },
  },
}
