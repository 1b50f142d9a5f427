-- Drives `gov lsp` through Neovim's built-in client (Neovim 0.7 API) and
-- writes what the editor got to $GOV_OUT as JSON. tests/lsp_neovim.rs runs it:
--   GOV_BIN=... GOV_POLICY=... GOV_OUT=... nvim --headless --clean -c 'luafile tests/lsp/neovim.lua'
local gov = os.getenv("GOV_BIN")
local policy = os.getenv("GOV_POLICY")
local out_path = os.getenv("GOV_OUT")
local result = {}

local function write_result()
  local f = assert(io.open(out_path, "w"))
  f:write(vim.fn.json_encode(result))
  f:close()
end

local function run()
  vim.cmd("edit " .. vim.fn.fnameescape(policy))
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "gov",
    cmd = { gov, "lsp" },
    root_dir = vim.fn.fnamemodify(policy, ":h"),
    init_options = { now = "2026-06-01" },
  })
  assert(client_id, "the client did not start")
  vim.lsp.buf_attach_client(buf, client_id)

  local function diagnostics()
    local list = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
      table.insert(list, { code = code, message = d.message, line = d.lnum, col = d.col })
    end
    return list
  end
  local function find(needle, delta)
    for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      local s = string.find(line, needle, 1, true)
      if s then
        return { line = i - 1, character = s - 1 + (delta or 0) }
      end
    end
    error("not in the buffer: " .. needle)
  end
  local function request(method, params)
    local answers = vim.lsp.buf_request_sync(buf, method, params, 10000)
    for _, a in pairs(answers or {}) do
      return a.result
    end
    return nil
  end
  local function at(needle, delta)
    return { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = find(needle, delta) }
  end

  vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  result.diagnostics = diagnostics()

  local hover = request("textDocument/hover", at("c.ephemeral", 3))
  result.hover = hover and hover.contents and hover.contents.value

  local def = request("textDocument/definition", at("<= limit", 4))
  if def then
    def = def[1] or def
    result.definition = { uri = def.uri, line = def.range.start.line, character = def.range.start.character }
  end

  local completion = request("textDocument/completion", at("c.ephemeral", 2)) or {}
  result.completion = {}
  for _, item in ipairs(completion.items or completion) do
    table.insert(result.completion, item.label)
  end

  local where = find("rotatd_at")
  local actions = request("textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = where, ["end"] = where },
    context = { diagnostics = {} },
  }) or {}
  result.quick_fix = actions[1] and actions[1].title
  if actions[1] then
    vim.lsp.util.apply_workspace_edit(actions[1].edit, "utf-16")
  end
  vim.wait(20000, function() return #vim.diagnostic.get(buf) == 0 end, 20)
  result.diagnostics_after_fix = diagnostics()

  local edits = request("textDocument/formatting", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    options = { tabSize = 2, insertSpaces = true },
  })
  if edits then
    vim.lsp.util.apply_text_edits(edits, buf, "utf-16")
  end
  result.formatted = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  vim.lsp.stop_client(client_id)
end

local ok, err = pcall(run)
if not ok then
  result.error = tostring(err)
end
write_result()
vim.cmd(ok and "qall!" or "cquit!")
