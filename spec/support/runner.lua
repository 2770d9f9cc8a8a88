-- A minimal busted-compatible spec runner in pure Lua 5.4.
--
-- busted needs C modules that do not exist for Windows, so the Windows build
-- runs the same spec files with this runner under Wine's lua.exe:
--
--   lua spec/support/runner.lua spec/a_spec.lua spec/b_spec.lua ...
--
-- Supported: describe/context, it/spec/test, pending, before_each, after_each,
-- setup/lazy_setup/strict_setup, teardown/lazy_teardown/strict_teardown,
-- insulate/expose, finally (inside an it), and luassert's assert, spy, stub,
-- mock and match as globals. Each file runs insulated, as under busted.
-- Prints a line per test, a traceback per failure and, last,
-- "N passed, N failed" (", N skipped" when some are pending); exits 0 only if
-- none failed.

local luassert = require("luassert")
local spy = require("luassert.spy")
local stub = require("luassert.stub")
local mock = require("luassert.mock")
local match = require("luassert.match")

local counts = { passed = 0, failed = 0, skipped = 0 }
local failures = {}

-- A block is a describe (or a file); the one being collected is `current`.
local function new_block(name, parent, fn, insulated)
  return {
    name = name, parent = parent, fn = fn, insulated = insulated,
    children = {}, before_each = {}, after_each = {}, setup = {}, teardown = {},
  }
end

local current
local current_test -- the test whose body is running, for finally()

local function full_name(block, leaf)
  local parts = { leaf }
  while block and block.parent do
    table.insert(parts, 1, block.name)
    block = block.parent
  end
  return table.concat(parts, " ")
end

local function err_text(err)
  if type(err) == "table" and getmetatable(err) == nil then
    return tostring(err.message or err)
  end
  return tostring(err)
end

-- Tracebacks stop at the first runner frame: what lies below is this file.
local function traceback(err)
  local text = debug.traceback(err_text(err), 2)
  local kept = {}
  for line in text:gmatch("[^\n]+") do
    if line:find("runner.lua", 1, true) or line:find("in function 'xpcall'", 1, true) then
      break
    end
    kept[#kept + 1] = line
  end
  return table.concat(kept, "\n")
end

local function call(fn, ...)
  return xpcall(fn, traceback, ...)
end

local function report_failure(name, where, message)
  counts.failed = counts.failed + 1
  failures[#failures + 1] = string.format("FAIL %s\n%s\n%s", name, where, message)
  print("FAIL " .. name)
end

local function add_child(kind, name, fn)
  local info = debug.getinfo(3, "Sl")
  local where = info and (info.short_src .. ":" .. (info.currentline or "?")) or "?"
  table.insert(current.children, { kind = kind, name = name, fn = fn, where = where })
end

-- Globals -----------------------------------------------------------------

local function describe(name, fn)
  add_child("describe", name, fn)
end

local function insulate(name, fn)
  add_child("insulate", name, fn)
end

-- Like busted, an it() without a body is ignored.
local function it(name, fn)
  if fn then add_child("it", name, fn) end
end

-- Inside an it(), as busted allows, pending ends the test as skipped.
local function pending(name)
  if current_test then
    current_test.pending = name or true
    error("pending", 0)
  end
  add_child("pending", name)
end

local function hook(list)
  return function(fn) table.insert(current[list], fn) end
end

local function finally(fn)
  if not current_test then error("finally() can only be used inside an it()", 2) end
  table.insert(current_test.finally, fn)
end

local globals = {
  describe = describe, context = describe, expose = describe, insulate = insulate,
  it = it, spec = it, test = it, pending = pending,
  before_each = hook("before_each"), after_each = hook("after_each"),
  setup = hook("setup"), lazy_setup = hook("setup"), strict_setup = hook("setup"),
  teardown = hook("teardown"), lazy_teardown = hook("teardown"),
  strict_teardown = hook("teardown"),
  finally = finally,
  assert = luassert, spy = spy, stub = stub, mock = mock, match = match,
}
for k, v in pairs(globals) do _G[k] = v end

-- Running -----------------------------------------------------------------

local run_block

-- before_each hooks run outermost first, after_each innermost first.
local function collect_hooks(block, list)
  local chain = {}
  while block do
    table.insert(chain, 1, block)
    block = block.parent
  end
  local fns = {}
  for _, b in ipairs(chain) do
    for _, fn in ipairs(b[list]) do fns[#fns + 1] = fn end
  end
  return fns
end

local function run_hooks(fns, reverse)
  local first, last, step = 1, #fns, 1
  if reverse then first, last, step = #fns, 1, -1 end
  for i = first, last, step do
    local ok, err = call(fns[i])
    if not ok then return false, err end
  end
  return true
end

local function run_test(block, child)
  local name = full_name(block, child.name)
  local snapshot = luassert:snapshot() -- reverts spies and stubs afterwards
  current_test = { finally = {} }
  local ok, err = run_hooks(collect_hooks(block, "before_each"))
  if ok then ok, err = call(child.fn) end
  local skipped = current_test.pending
  if skipped then ok, err = true, nil end
  for _, fn in ipairs(current_test.finally) do
    local fok, ferr = call(fn)
    if ok and not fok then ok, err = false, ferr end
  end
  current_test = nil
  local aok, aerr = run_hooks(collect_hooks(block, "after_each"), true)
  if ok and not aok then ok, err = false, aerr end
  snapshot:revert()
  if ok and skipped then
    counts.skipped = counts.skipped + 1
    print("skip " .. name)
  elseif ok then
    counts.passed = counts.passed + 1
    print("ok   " .. name)
  else
    report_failure(name, child.where, err)
  end
end

local function has_tests(block)
  for _, child in ipairs(block.children) do
    if child.kind == "it" then return true end
  end
  for _, child in ipairs(block.children) do
    if child.kind ~= "it" and child.kind ~= "pending" then return true end
  end
  return false
end

-- Shallow copies of the global table and package.loaded, put back afterwards,
-- so one insulated block cannot leak modules or globals into the next.
local function save_world()
  local g, loaded = {}, {}
  for k, v in pairs(_G) do g[k] = v end
  for k, v in pairs(package.loaded) do loaded[k] = v end
  return { g = g, loaded = loaded }
end

local function restore_world(saved)
  for k in pairs(_G) do if saved.g[k] == nil then _G[k] = nil end end
  for k, v in pairs(saved.g) do _G[k] = v end
  for k in pairs(package.loaded) do
    if saved.loaded[k] == nil then package.loaded[k] = nil end
  end
  for k, v in pairs(saved.loaded) do package.loaded[k] = v end
end

local function run_children(block)
  for _, child in ipairs(block.children) do
    if child.kind == "it" then
      run_test(block, child)
    elseif child.kind == "pending" then
      counts.skipped = counts.skipped + 1
      print("skip " .. full_name(block, child.name))
    else
      run_block(new_block(child.name, block, child.fn, child.kind == "insulate"), child.where)
    end
  end
end

-- Collect a block's children by running its body, then run them between its
-- setup and teardown hooks. setup is lazy: skipped when no test is inside.
function run_block(block, where)
  local saved = block.insulated and save_world()
  local outer = current
  current = block
  local ok, err = call(block.fn)
  current = outer
  local name = block.parent and full_name(block, "") or where
  if not ok then
    report_failure(name, where, err)
  elseif has_tests(block) then
    local sok, serr = run_hooks(block.setup)
    if sok then
      run_children(block)
    else
      report_failure(name .. "(setup)", where, serr)
    end
    local tok, terr = run_hooks(block.teardown)
    if not tok then report_failure(name .. "(teardown)", where, terr) end
  end
  if saved then restore_world(saved) end
end

local function run_file(path)
  local chunk, err = loadfile(path)
  if not chunk then
    report_failure(path, path, err)
    return
  end
  local root = new_block(path, nil, chunk, true)
  run_block(root, path)
end

local function main(files)
  if #files == 0 then
    io.stderr:write("usage: lua runner.lua spec_file.lua ...\n")
    os.exit(2)
  end
  for _, path in ipairs(files) do run_file(path) end
  if #failures > 0 then
    print()
    for _, text in ipairs(failures) do print(text .. "\n") end
  end
  local line = string.format("%d passed, %d failed", counts.passed, counts.failed)
  if counts.skipped > 0 then line = line .. string.format(", %d skipped", counts.skipped) end
  print(line)
  io.stdout:flush()
  os.exit(counts.failed == 0 and 0 or 1)
end

main({ ... })
