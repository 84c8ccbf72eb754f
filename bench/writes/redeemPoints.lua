-- redeemPoints of 1 point by a random one of the 64 customers (each holds 1,000,000 points from
-- redeemPoints.setup.sql), a new referenceId each time.
package.path = "bench/writes/?.lua;" .. package.path
local w = require("common")
setup, response, done = w.setup, w.response, w.done
function init(args)
  w.init([[mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) {
    loyaltyAccount { pointsBalance } transaction { id } userErrors { code } } }]])
end
function request()
  return wrk.format(nil, nil, nil, w.body(string.format('{"customerId":"%s","points":1,"referenceType":"bench","referenceId":"%s"}',
    w.customer(), w.key("R"))))
end
