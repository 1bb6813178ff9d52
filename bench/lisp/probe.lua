-- The 3-form probe program compiled once and run many times, each run in a fresh
-- global environment (like a vigy tick). Prints "probe <seconds per evaluation>".
local src = [[
state = { count = 1, name = "probe" }
function step(s)
  local t = {}
  for k, v in pairs(s) do t[k] = v end
  t.count = s.count + 1
  return t
end
return step(state).count
]]
local chunk = assert(load(src, "probe", "t", {}))
local meta = { __index = _G }
local N = 200000
local best = math.huge
for _ = 1, 5 do
  local t0 = os.clock()
  for _ = 1, N do
    debug.setupvalue(chunk, 1, setmetatable({}, meta))
    assert(chunk() == 2)
  end
  local dt = (os.clock() - t0) / N
  if dt < best then best = dt end
end
print(string.format("probe %.9f", best))
