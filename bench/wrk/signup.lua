-- POST /api reg/signup with a new, unique name and address on every request.
--   wrk -s signup.lua URL -- <run-tag> <password> [baseline]
-- Names are s<tag>t<thread>n<counter>: the tag differs per wrk run, the thread id per thread,
-- so no two requests of the whole benchmark ask for the same name.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local tag, password, baseline, n = nil, nil, false, 0

setup = common.setup
done = common.done

function init(args)
   tag, password, baseline = args[1], args[2], args[3] == "baseline"
end

function request()
   n = n + 1
   local body
   if baseline then
      body = '{"pass":' .. common.quote(password) .. '}'
   else
      local name = string.format("s%st%dn%d", tag, thread_id or 1, n)
      body = '{"module":"reg","param":"signup","language":"en","args":{"uname":' .. common.quote(name) ..
         ',"pass":' .. common.quote(password) .. ',"email":' .. common.quote(name .. "@bench.example") .. '}}'
   end
   return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
