-- POST /api admin/show-users with an admin token and a 3-letter filter taken in turn from a file.
--   wrk -s show_users.lua URL -- <token> <filters-file>
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local token, filters, i

setup = common.setup
done = common.done

function init(args)
   token = args[1]
   filters = common.lines(args[2])
   i = (thread_id or 1) * 7
end

function request()
   i = i % #filters + 1
   local body = '{"module":"admin","param":"show-users","language":"en","args":{"sort":"desc",' ..
      '"filter":' .. common.quote(filters[i]) .. ',"pagesize":10,"pageno":1}}'
   return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                   ["X-Authorization-Token"] = "Bearer " .. token}, body)
end
