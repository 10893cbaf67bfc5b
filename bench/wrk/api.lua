-- POST /api with a fixed envelope, or GET a path; an optional file of bearer tokens is used in turn.
--   wrk -s api.lua URL -- post '<json envelope>' [tokens-file]
--   wrk -s api.lua URL -- get [tokens-file]
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local method, body, tokens, next_token

setup = common.setup
done = common.done

function init(args)
   method = args[1] == "post" and "POST" or "GET"
   body = method == "POST" and args[2] or nil
   local file = args[2]
   if method == "POST" then file = args[3] end
   tokens = file and common.lines(file) or {}
   next_token = (thread_id or 1) % math.max(#tokens, 1)
end

function request()
   local headers = {}
   if body then headers["Content-Type"] = "application/json" end
   if #tokens > 0 then
      next_token = next_token % #tokens + 1
      headers["X-Authorization-Token"] = "Bearer " .. tokens[next_token]
   end
   return wrk.format(method, nil, headers, body)
end
