-- 100,000-element list pipeline: build 0..n-1, map (*3), filter even, fold (+).
-- Prints "pipeline <best seconds of 5>".
local N = 100000
local function run()
  local xs = {}
  for i = 0, N - 1 do xs[#xs + 1] = i end
  local ys = {}
  for i = 1, #xs do ys[i] = xs[i] * 3 end
  local zs = {}
  for i = 1, #ys do local v = ys[i]; if v % 2 == 0 then zs[#zs + 1] = v end end
  local acc = 0
  for i = 1, #zs do acc = acc + zs[i] end
  return acc
end
local best = math.huge
for _ = 1, 5 do
  local t0 = os.clock()
  local r = run()
  local dt = os.clock() - t0
  assert(r == 7499850000)
  if dt < best then best = dt end
end
print(string.format("pipeline %.9f", best))
