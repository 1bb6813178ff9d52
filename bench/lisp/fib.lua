-- fib(n) by naive recursion; prints "fib<n> <best seconds of 5>".
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
for _, n in ipairs({25, 30}) do
  local best = math.huge
  for _ = 1, 5 do
    local t0 = os.clock()
    local r = fib(n)
    local dt = os.clock() - t0
    assert(r > 0)
    if dt < best then best = dt end
  end
  print(string.format("fib%d %.9f", n, best))
end
