-- recordCreditPayment of 1.00 by a random one of the 64 customers, a new paymentReference each
-- time: it goes to the account's oldest due charge (recordCreditPayment.setup.sql).
package.path = "bench/writes/?.lua;" .. package.path
local w = require("common")
setup, response, done = w.setup, w.response, w.done
function init(args)
  w.init([[mutation($input: RecordCreditPaymentInput!) { recordCreditPayment(input: $input) {
    payment { id } creditAccount { creditUsed } userErrors { code } } }]])
end
function request()
  return wrk.format(nil, nil, nil, w.body(string.format('{"customerId":"%s","paymentReference":"%s","amount":"1.00"}',
    w.customer(), w.key("Y"))))
end
