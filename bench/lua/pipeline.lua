-- Pipelining as in TechEmpower's pipeline.lua: each write sends `depth` copies of the request
-- (method, path, and the -H headers, as wrk.format() builds it). Usage: wrk -s pipeline.lua URL -- 16
init = function(args)
  local depth = tonumber(args[1]) or 1
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format()
  end
  req = table.concat(r)
end

request = function()
  return req
end
