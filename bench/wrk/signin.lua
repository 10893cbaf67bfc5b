-- POST /api auth/signin with the right password, each request for the next of N loaded users.
--   wrk -s signin.lua URL -- <name-prefix> <count> <password> [module/param]
-- The users are <prefix>1 ... <prefix>N; each wrk thread starts at a different place.
-- With "baseline" as the 4th argument the body is the baseline's {"pass": ...}.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local prefix, count, password, baseline, n

setup = common.setup
done = common.done

function init(args)
   prefix, count, password = args[1], tonumber(args[2]), args[3]
   baseline = args[4] == "baseline"
   n = ((thread_id or 1) - 1) * 997
end

function request()
   n = n % count + 1
   local body
   if baseline then
      body = '{"pass":' .. common.quote(password) .. '}'
   else
      body = '{"module":"auth","param":"signin","language":"en","args":{"uname":' ..
         common.quote(prefix .. n) .. ',"pass":' .. common.quote(password) .. '}}'
   end
   return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
