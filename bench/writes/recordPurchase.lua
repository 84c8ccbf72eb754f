-- recordPurchase of 12.34 by a random one of the 64 customers, a new orderId each time.
package.path = "bench/writes/?.lua;" .. package.path
local w = require("common")
setup, response, done = w.setup, w.response, w.done
function init(args)
  w.init([[mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) {
    purchase { id } loyaltyAccount { pointsBalance } transaction { id } userErrors { code } } }]])
end
function request()
  return wrk.format(nil, nil, nil, w.body(string.format('{"customerId":"%s","orderId":"%s","amount":"12.34"}',
    w.customer(), w.key("P"))))
end
