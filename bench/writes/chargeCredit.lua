-- chargeCredit of 1.25 to a random one of the 64 customers' accounts, a new orderId each time.
package.path = "bench/writes/?.lua;" .. package.path
local w = require("common")
setup, response, done = w.setup, w.response, w.done
function init(args)
  w.init([[mutation($input: ChargeCreditInput!) { chargeCredit(input: $input) {
    usage { id } creditAccount { creditUsed } userErrors { code } } }]])
end
function request()
  return wrk.format(nil, nil, nil, w.body(string.format('{"customerId":"%s","orderId":"%s","amount":"1.25"}',
    w.customer(), w.key("C"))))
end
