-- recordRefund of 1.00 of a random one of the 6,400 purchases of 10,000.00 that
-- recordRefund.setup.sql stores (order ids refundable-1 … refundable-6400), a new refundId each
-- time: each refund reverses 1 point.
package.path = "bench/writes/?.lua;" .. package.path
local w = require("common")
setup, response, done = w.setup, w.response, w.done
function init(args)
  w.init([[mutation($input: RecordRefundInput!) { recordRefund(input: $input) {
    purchase { id } loyaltyAccount { pointsBalance } transaction { id } userErrors { code } } }]])
end
function request()
  return wrk.format(nil, nil, nil, w.body(string.format('{"orderId":"refundable-%d","amount":"1.00","refundId":"%s"}',
    math.random(6400), w.key("F"))))
end
